import type { SelfSignedCertificate } from '@wormhole/transport/direct';
import { HANDSHAKE_TIMEOUT_MS, TOKEN_BYTES } from '@wormhole/transport/direct';
import type { WtBidiStream, WtBinding, WtServer, WtSession } from './native.js';
import { readExactly } from './read-exactly.js';
import { SESSION_PATH } from './wire.js';

/** What the listener hands a host session whose token matched. */
export interface AcceptedSession {
  readonly session: WtSession;
  readonly stream: WtBidiStream;
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes that followed the token. */
  readonly rest: Buffer;
  /** The raw token bytes as presented on the stream. */
  readonly token: Buffer;
}

export type TokenHandler = (accepted: AcceptedSession) => void;

/** Sessions that have not presented a token yet; more are refused. */
const MAX_UNAUTHENTICATED = 64;

/**
 * The one WebTransport server of a Transport instance. Every session must open a
 * bidirectional stream and present a token some host session is waiting for; anything else
 * is closed. Tokens are single-use.
 */
export class WtListener {
  readonly #server: WtServer;
  readonly #expected = new Map<string, TokenHandler>();
  readonly #unauthenticated = new Set<WtSession>();
  #closed = false;

  private constructor(server: WtServer) {
    this.#server = server;
  }

  static async start(
    binding: WtBinding,
    cert: SelfSignedCertificate,
    host: string,
    port: number,
  ): Promise<WtListener> {
    const server = binding.createServer({ host, port, certPem: cert.certPem, keyPem: cert.keyPem });
    const listener = new WtListener(server);
    const sessions = server.sessionStream(SESSION_PATH);
    server.startServer();
    await server.ready;
    void listener.#acceptLoop(sessions.getReader());
    return listener;
  }

  get port(): number {
    return this.#server.address()?.port ?? 0;
  }

  expect(token: string, handler: TokenHandler): void {
    this.#expected.set(token, handler);
  }

  forget(token: string): void {
    this.#expected.delete(token);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#expected.clear();
    for (const s of this.#unauthenticated) closeQuietly(s);
    this.#unauthenticated.clear();
    this.#server.stopServer();
    // In HTTP/2 mode `closed` never settles when a session was closed by the host while the
    // peer still had data queued (seen in the compliance suite's close test); the server's
    // sockets are gone by then, so waiting longer would only hang shutdown.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#server.closed.catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
  }

  async #acceptLoop(reader: ReadableStreamDefaultReader<WtSession>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#closed) return;
        void this.#onSession(value);
      }
    } catch {
      // the server stopped
    }
  }

  async #onSession(session: WtSession): Promise<void> {
    session.closed.catch(() => {});
    if (this.#unauthenticated.size >= MAX_UNAUTHENTICATED) return closeQuietly(session);
    this.#unauthenticated.add(session);
    const deadline = AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS);
    try {
      await session.ready;
      const streams = session.incomingBidirectionalStreams.getReader();
      const first = await Promise.race([
        streams.read(),
        new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(deadline.reason))),
      ]);
      streams.releaseLock();
      if (first.done) throw new Error('session ended before its stream');
      const stream = first.value;
      const reader = stream.readable.getReader();
      const { head, rest } = await readExactly(reader, 4 + TOKEN_BYTES, deadline);
      this.#unauthenticated.delete(session);
      const token = head.readUInt32BE(0) === TOKEN_BYTES ? head.subarray(4) : Buffer.alloc(0);
      const handler = this.#expected.get(token.toString('base64url'));
      if (handler === undefined || this.#closed) return closeQuietly(session);
      this.#expected.delete(token.toString('base64url'));
      handler({ session, stream, reader, rest, token });
    } catch {
      this.#unauthenticated.delete(session);
      closeQuietly(session);
    }
  }
}

function closeQuietly(session: WtSession): void {
  try {
    session.close({ closeCode: 1, reason: 'refused' });
  } catch {
    // already closed
  }
}
