/**
 * The one module that touches @fails-components/webtransport (STYLE.md §5): everything else
 * sees the small structural types below, and a missing package makes `isAvailable()` false
 * instead of crashing at import time.
 *
 * Mode: where the native quiche part (@fails-components/webtransport-transport-http3-quiche)
 * loads, servers speak HTTP/3 and HTTP/2 and clients try HTTP/3 first; otherwise both use the
 * library's pure-JS HTTP/2 mode. Importing the library where quiche is absent prints a
 * harmless `http3 loader: ERR_MODULE_NOT_FOUND` (the library's own message).
 */

/** One bidirectional WebTransport stream. */
export interface WtBidiStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** A WebTransport session, client or server side. */
export interface WtSession {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  readonly incomingBidirectionalStreams: ReadableStream<WtBidiStream>;
  readonly reliability?: string;
  /** Server side only: the client's address as the library reports it. */
  readonly peerAddress?: unknown;
  createBidirectionalStream(): Promise<WtBidiStream>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

/** A WebTransport server. */
export interface WtServer {
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  startServer(): void;
  stopServer(): void;
  address(): { port: number; host: string } | null;
  sessionStream(path: string): ReadableStream<WtSession>;
}

/** Which wire the library uses here. */
export type WtMode = 'quic' | 'http2';

export interface WtServerInit {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
}

/** The loaded binding. */
export interface WtBinding {
  readonly mode: WtMode;
  createServer(init: WtServerInit): WtServer;
  connect(url: string, certHash: Buffer): WtSession;
}

interface LibModule {
  HttpServer: new (args: Record<string, unknown>) => WtServer;
  WebTransport: new (url: string, args: Record<string, unknown>) => WtSession;
}

const LIB = '@fails-components/webtransport';
const QUICHE = '@fails-components/webtransport-transport-http3-quiche';
/** The library's HTTP/2 receive windows default to 16 KiB, which stalls larger transfers. */
const FLOW_WINDOW = 15 * 1024 * 1024;

let loading: Promise<WtBinding> | undefined;

/** Whether the library can be resolved from here (it is pure JS; HTTP/2 mode always works). */
export function isAvailable(): boolean {
  try {
    import.meta.resolve(LIB);
    return true;
  } catch {
    return false;
  }
}

const NOTICE = /^(http3 loader:|Problem loading http3-quiche|Did you install @fails-components)/;

/**
 * Where quiche is absent the library reports it from a detached promise with console.log —
 * on stdout, which would corrupt `--json` output and user-facing text. The condition is
 * expected (HTTP/2 mode is the fallback), so exactly those lines are dropped.
 */
function silenceQuicheLoaderNotice(): void {
  try {
    import.meta.resolve(QUICHE);
    return; // quiche present: nothing will be printed
  } catch {}
  for (const method of ['log', 'error'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && NOTICE.test(args[0])) return;
      original(...args);
    };
  }
}

/** Loads the library once. Rejects when it is not installed. */
export function loadBinding(): Promise<WtBinding> {
  loading ??= (async () => {
    silenceQuicheLoaderNotice();
    const lib = (await import(LIB)) as unknown as LibModule;
    const mode: WtMode = await import(QUICHE).then(
      () => 'quic' as const,
      () => 'http2' as const,
    );
    return {
      mode,
      createServer(init) {
        return new lib.HttpServer({
          host: init.host,
          port: init.port,
          // Only used by QUIC's stateless-reset/retry tokens; a random value per server suffices.
          secret: crypto.randomUUID(),
          cert: init.certPem,
          privKey: init.keyPem,
          reliability: mode === 'quic' ? 'both' : 'reliableOnly',
          initialSessionFlowControlWindow: FLOW_WINDOW,
          initialStreamFlowControlWindow: FLOW_WINDOW,
          // Finished streams are never released in HTTP/2 mode; we use one stream per session,
          // but keep the limit far away anyway.
          initialBidirectionalStreams: 1_000_000,
          initialUnidirectionalStreams: 16,
        });
      },
      connect(url, certHash) {
        return new lib.WebTransport(url, {
          serverCertificateHashes: [{ algorithm: 'sha-256', value: certHash }],
          forceReliable: mode !== 'quic',
          initialSessionFlowControlWindow: FLOW_WINDOW,
          initialStreamFlowControlWindow: FLOW_WINDOW,
        });
      },
    };
  })();
  return loading;
}

/** Which wire this machine's WebTransport uses: 'quic' (HTTP/3) or 'http2'. */
export async function webTransportMode(): Promise<WtMode> {
  return (await loadBinding()).mode;
}
