import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { LongTermAuth } from './long-term-auth.js';
import { readErrorCode } from './stun-attributes.js';
import { methodName } from './stun-constants.js';
import { StunFramer } from './stun-framer.js';
import {
  decodeStunMessage,
  encodeStunMessage,
  newTransactionId,
  type StunAttribute,
  type StunMessage,
  verifyIntegrity,
} from './stun-message.js';
import { TurnError } from './turn-error.js';

/** Default bound on the TCP connect and on each request's answer. */
export const DEFAULT_TURN_TIMEOUT_MS = 5000;

export interface StunTcpConnectionEvents {
  /** An indication from the server (e.g. ConnectionAttempt). Integrity is not checked: indications carry none. */
  indication: [message: StunMessage];
  /** Once; no event follows. `error` says why when it was not a local close(). */
  close: [error: TurnError | undefined];
}

/** A request's attributes, or a function of its transaction id (XOR-PEER-ADDRESS for IPv6 needs it). */
export type RequestAttributes =
  | readonly StunAttribute[]
  | ((transactionId: Buffer) => readonly StunAttribute[]);

interface Pending {
  readonly method: number;
  readonly key: Buffer | undefined;
  readonly timer: NodeJS.Timeout;
  resolve(m: StunMessage): void;
  reject(e: TurnError): void;
}

/**
 * One TCP connection to a STUN/TURN server carrying STUN messages only (a TURN control
 * connection, or a short-lived Binding). Requests are matched to answers by transaction id;
 * each has a timeout (TCP is reliable: no retransmissions, RFC 8489 §6.2.2). Anything that is
 * not a well-formed message closes the connection with that TurnError.
 */
export class StunTcpConnection extends EventEmitter<StunTcpConnectionEvents> {
  readonly #socket: Socket;
  readonly #framer = new StunFramer();
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;
  #closed = false;

  private constructor(socket: Socket, timeoutMs: number) {
    super();
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err) => this.#shutdown(TurnError.CLOSED(`connection error: ${err.message}`)));
    socket.on('close', () => this.#shutdown(TurnError.CLOSED('server closed the connection')));
  }

  /** Opens the TCP connection. Rejects with TURN_UNREACHABLE, TURN_TIMEOUT or TURN_ABORTED. */
  static async open(
    host: string,
    port: number,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<StunTcpConnection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
    const socket = await openSocket(host, port, timeoutMs, options.signal);
    return new StunTcpConnection(socket, timeoutMs);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The local address of the TCP connection. */
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  /**
   * Sends a request and resolves with its success response. With `auth`, the request is
   * authenticated (RFC 8489 §9.2): a 401 teaches realm and nonce and the request is sent again
   * with MESSAGE-INTEGRITY; a 438 (stale nonce) refreshes the nonce, once. Answers to
   * authenticated requests must carry a valid MESSAGE-INTEGRITY. Rejects with
   * TURN_ERROR_RESPONSE, TURN_AUTH_FAILED, TURN_TIMEOUT, TURN_CLOSED, TURN_BAD_INTEGRITY...
   */
  async request(method: number, attributes: RequestAttributes, auth?: LongTermAuth): Promise<StunMessage> {
    let retries = 0;
    for (;;) {
      const key = auth?.key;
      const attrs = (tid: Buffer): readonly StunAttribute[] => {
        const own = typeof attributes === 'function' ? attributes(tid) : attributes;
        return key && auth ? [...own, ...auth.attributes()] : own;
      };
      const answer = await this.#transact(method, attrs, key);
      if (answer.cls === 'success') return answer;
      const err = readErrorCode(answer);
      const status = err?.status ?? 0;
      const reason = err?.reason ?? 'no ERROR-CODE';
      if (auth && (status === 401 || status === 438) && retries < 2) {
        // 401 without a key yet is the normal challenge; 401 with one means refused credentials.
        if (status === 401 && key !== undefined)
          throw TurnError.AUTH_FAILED(methodName(method), status, reason);
        auth.learn(answer);
        retries++;
        continue;
      }
      if (status === 401) throw TurnError.AUTH_FAILED(methodName(method), status, reason);
      throw TurnError.ERROR_RESPONSE(methodName(method), status, reason);
    }
  }

  /** Sends an indication (no answer). */
  indicate(method: number, attributes: readonly StunAttribute[]): void {
    if (this.#closed) throw TurnError.CLOSED();
    this.#socket.write(
      encodeStunMessage({ method, cls: 'indication', attributes }, { withFingerprint: true }),
    );
  }

  /** Closes the connection; pending requests reject with TURN_CLOSED. Idempotent. */
  close(): void {
    this.#shutdown(undefined);
  }

  #transact(
    method: number,
    attributes: (transactionId: Buffer) => readonly StunAttribute[],
    key: Buffer | undefined,
  ): Promise<StunMessage> {
    if (this.#closed) return Promise.reject(TurnError.CLOSED());
    const transactionId = newTransactionId();
    const bytes = encodeStunMessage(
      { method, cls: 'request', transactionId, attributes: attributes(transactionId) },
      { ...(key && { key }), withFingerprint: true },
    );
    return new Promise<StunMessage>((resolve, reject) => {
      const id = transactionId.toString('hex');
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(TurnError.TIMEOUT(`no answer to ${methodName(method)} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { method, key, timer, resolve, reject });
      this.#socket.write(bytes);
    });
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      for (const bytes of this.#framer.push(chunk)) {
        this.#dispatch(decodeStunMessage(bytes));
        if (this.#closed) return;
      }
    } catch (err) {
      this.#shutdown(err instanceof TurnError ? err : TurnError.MALFORMED(String(err), { cause: err }));
    }
  }

  #dispatch(msg: StunMessage): void {
    if (msg.cls === 'indication') {
      this.emit('indication', msg);
      return;
    }
    if (msg.cls === 'request') throw TurnError.PROTOCOL(`server sent a ${methodName(msg.method)} request`);
    const id = msg.transactionId.toString('hex');
    const p = this.#pending.get(id);
    // A late answer to a request that timed out is dropped; an unknown one is an error.
    if (!p) return;
    if (p.method !== msg.method)
      throw TurnError.PROTOCOL(`answer to ${methodName(p.method)} has method ${methodName(msg.method)}`);
    this.#pending.delete(id);
    clearTimeout(p.timer);
    try {
      // Success answers to authenticated requests must prove the server knows the key; error
      // answers are checked when they carry MESSAGE-INTEGRITY (401/438 challenges carry none).
      if (p.key !== undefined && (msg.cls === 'success' || msg.integrityOffset !== undefined))
        verifyIntegrity(msg, p.key);
      if (msg.cls === 'error') readErrorCode(msg); // validated here, so request() cannot throw on it
    } catch (err) {
      p.reject(err as TurnError);
      throw err;
    }
    p.resolve(msg);
  }

  #shutdown(error: TurnError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(error ?? TurnError.CLOSED());
    }
    this.#pending.clear();
    this.#socket.destroy();
    this.emit('close', error);
  }
}

/** Opens a TCP connection, bounded by `timeoutMs` and `signal`. */
export function openSocket(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal?.aborted) return reject(TurnError.ABORTED());
    const socket = connect({ host, port, noDelay: true });
    const finish = (err: TurnError | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onAbort = (): void => finish(TurnError.ABORTED());
    const onError = (e: Error): void =>
      finish(TurnError.UNREACHABLE(`${host}:${port}: ${e.message}`, { cause: e }));
    const onConnect = (): void => finish(undefined);
    const timer = setTimeout(
      () => finish(TurnError.TIMEOUT(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}
