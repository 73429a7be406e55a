import type { Socket } from 'node:net';
import { createSecureContext, createServer, type SecureContext, type Server, TLSSocket } from 'node:tls';
import type { SelfSignedCertificate } from '@wormhole/transport/direct';
import { HANDSHAKE_TIMEOUT_MS, TOKEN_BYTES } from '@wormhole/transport/direct';
import { readExactly } from './read-exactly.js';
import { ALPN } from './wire.js';

/** How a connection reached the listener when it came through a TURN relay. */
export interface RelayedVia {
  /** The peer's address as the TURN server saw it ('ip:port'). */
  readonly peer: string;
}

/**
 * Called with a socket whose token matched, the bytes that followed the token, and how it
 * came in (undefined: straight to the listening port).
 */
export type TokenHandler = (socket: TLSSocket, rest: Buffer, via: RelayedVia | undefined) => void;

/** Connections that have not presented a token yet; more are refused (slow-loris guard). */
const MAX_UNAUTHENTICATED = 64;

/**
 * The one TLS listener of a Transport instance. Every connection must complete TLS 1.3 with
 * ALPN 'wormhole/1' and a client certificate, then present a token some host session is
 * waiting for; anything else is dropped. Tokens are single-use.
 */
export class TlsListener {
  readonly #server: Server;
  readonly #context: SecureContext;
  readonly #expected = new Map<string, TokenHandler>();
  readonly #unauthenticated = new Set<TLSSocket>();
  /** Relayed connections still in their TLS handshake. */
  readonly #handshaking = new Set<TLSSocket>();

  private constructor(server: Server, context: SecureContext) {
    this.#server = server;
    this.#context = context;
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(cert: SelfSignedCertificate, host: string, port: number): Promise<TlsListener> {
    const server = createServer({
      cert: cert.certPem,
      key: cert.keyPem,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [ALPN],
      requestCert: true,
      // Peers are self-signed: the client certificate is not verified here but reported in the
      // channel binding, which the engine MACs under the PAKE key.
      rejectUnauthorized: false,
    });
    const context = createSecureContext({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.3' });
    const listener = new TlsListener(server, context);
    server.on('secureConnection', (socket) => listener.#onConnection(socket, undefined));
    // A failed handshake (wrong protocol, scanner) only concerns that socket.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    return listener;
  }

  /** The bound port. */
  get port(): number {
    const addr = this.#server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  /** Routes the connection presenting `token` (base64url) to `handler`, once. */
  expect(token: string, handler: TokenHandler): void {
    this.#expected.set(token, handler);
  }

  /** Forgets a token (its session gave up). */
  forget(token: string): void {
    this.#expected.delete(token);
  }

  /**
   * Runs the same TLS server handshake and token check as the listening port on a connection
   * that arrived through a TURN relay (a plain byte stream to the peer; `rest` are bytes that
   * already arrived on it). The token handler learns it came relayed.
   */
  acceptRelayed(raw: Socket, rest: Buffer, via: RelayedVia): void {
    if (this.#unauthenticated.size + this.#handshaking.size >= MAX_UNAUTHENTICATED) {
      raw.destroy();
      return;
    }
    if (rest.byteLength > 0) raw.unshift(rest);
    const socket = new TLSSocket(raw, {
      isServer: true,
      secureContext: this.#context,
      ALPNProtocols: [ALPN],
      requestCert: true,
      rejectUnauthorized: false,
    });
    this.#handshaking.add(socket);
    const done = (): void => {
      clearTimeout(timer);
      this.#handshaking.delete(socket);
    };
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    socket.once('close', done);
    socket.once('secure', () => {
      done();
      void this.#onConnection(socket, via);
    });
  }

  /** Stops listening and drops connections that never presented a token. */
  async close(): Promise<void> {
    this.#expected.clear();
    for (const s of this.#unauthenticated) s.destroy();
    this.#unauthenticated.clear();
    for (const s of this.#handshaking) s.destroy();
    this.#handshaking.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #onConnection(socket: TLSSocket, via: RelayedVia | undefined): Promise<void> {
    socket.on('error', () => {});
    if (socket.alpnProtocol !== ALPN || this.#unauthenticated.size >= MAX_UNAUTHENTICATED) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#unauthenticated.add(socket);
    let head: Buffer;
    let rest: Buffer;
    try {
      ({ head, rest } = await readExactly(
        socket,
        4 + TOKEN_BYTES,
        AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS),
      ));
    } catch {
      this.#unauthenticated.delete(socket);
      socket.destroy();
      return;
    }
    this.#unauthenticated.delete(socket);
    const token = head.readUInt32BE(0) === TOKEN_BYTES ? head.subarray(4).toString('base64url') : '';
    const handler = this.#expected.get(token);
    if (handler === undefined || socket.getPeerX509Certificate() === undefined) {
      socket.destroy();
      return;
    }
    this.#expected.delete(token);
    handler(socket, rest, via);
  }
}
