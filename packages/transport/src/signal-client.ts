import { EventEmitter } from 'node:events';
import {
  type ClientMessage,
  encodeSignalMessage,
  parseServerMessage,
  type ServerMessage,
  SIGNAL_MAX_MESSAGE_BYTES,
} from '@wormhole/protocol';
import WebSocket from 'ws';
import { TransportError } from './transport-error.js';

/** Events of a {@link SignalClient}. */
export interface SignalClientEvents {
  'peer-joined': [peerId: string];
  'peer-left': [peerId: string];
  /** An opaque payload another peer relayed to us. Untrusted: validate before use. */
  relay: [from: string, payload: string];
  'room-expired': [room: string];
  /** The server announced it is about to close the connection. */
  closing: [reason: 'shutdown' | 'idle' | 'replaced'];
  /** A server error not tied to a pending request (e.g. a relay to a peer that left). */
  'server-error': [error: TransportError];
  /** The socket is gone. Emitted once. */
  close: [info: { code: number; reason: string }];
}

export interface SignalConnectOptions {
  /** Cancels connecting (and, once connected, closes the client). */
  readonly signal?: AbortSignal;
  /** Connect + hello timeout. Default 10000. */
  readonly timeoutMs?: number;
  /** Timeout of each request (create/join/leave/turn-credentials). Default 10000. */
  readonly requestTimeoutMs?: number;
}

/** What the server answered to `create`/`join`. */
export interface RoomInfo {
  readonly room: string;
  /** Our peer id in the room, as the server assigned it. */
  readonly peerId: string;
  /** Peers already in the room (join only). */
  readonly peers: readonly string[];
  /** Room expiry, ms since epoch (create only). */
  readonly expiresAt: number | undefined;
}

/** TURN credentials handed out by the signal server. */
export interface TurnCredentials {
  readonly urls: readonly string[];
  readonly username: string;
  readonly credential: string;
  readonly ttlSeconds: number;
}

type Pending = {
  expect: ServerMessage['type'];
  resolve: (msg: ServerMessage) => void;
  reject: (err: TransportError) => void;
  timer: NodeJS.Timeout;
};

/**
 * Client for the signal protocol (packages/protocol/src/signal-messages.ts). Every server
 * message is validated with `parseServerMessage`; a malformed one closes the connection.
 * Requests are correlated with `ref`; server `error` replies reject them as
 * TRANSPORT_SIGNAL_ERROR with the server's code in `details.code`.
 */
export class SignalClient extends EventEmitter<SignalClientEvents> {
  /** Server's hello: protocol version, limits. */
  readonly serverInfo: { readonly v: number; readonly serverId: string; readonly maxMessageBytes: number };
  readonly #ws: WebSocket;
  readonly #pending = new Map<string, Pending>();
  readonly #requestTimeoutMs: number;
  #nextRef = 1;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => this.close();
  readonly #signal: AbortSignal | undefined;

  private constructor(
    ws: WebSocket,
    hello: Extract<ServerMessage, { type: 'hello' }>,
    opts: SignalConnectOptions,
  ) {
    super();
    this.#ws = ws;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.serverInfo = { v: hello.v, serverId: hello.serverId, maxMessageBytes: hello.maxMessageBytes };
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    ws.on('error', () => {
      // 'close' follows every 'error'; handled there.
    });
    // App-level pings keep idle-timeout proxies and the server's heartbeat happy.
    const every = Math.max(1000, Math.floor(hello.heartbeatMs / 2));
    this.#heartbeat = setInterval(() => {
      if (!this.#closed) this.#send({ type: 'ping', ref: this.#ref() });
    }, every);
    this.#heartbeat.unref();
    this.#signal = opts.signal;
    opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Opens a connection and waits for the server's hello. */
  static connect(url: string, opts: SignalConnectOptions = {}): Promise<SignalClient> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(TransportError.ABORTED());
        return;
      }
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, {
          maxPayload: SIGNAL_MAX_MESSAGE_BYTES,
          handshakeTimeout: opts.timeoutMs ?? 10_000,
        });
      } catch (err) {
        reject(TransportError.SIGNAL_UNREACHABLE(`Bad signal server address ${url}`, { cause: err }));
        return;
      }
      let done = false;
      const finish = (err: TransportError | undefined, client?: SignalClient): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        ws.off('message', onMessage);
        ws.off('error', onError);
        ws.off('close', onClose);
        if (err) {
          ws.on('error', () => {});
          ws.terminate();
          reject(err);
        } else resolve(client!);
      };
      const onAbort = (): void => finish(TransportError.ABORTED());
      const onError = (err: Error): void =>
        finish(
          TransportError.SIGNAL_UNREACHABLE(`Cannot reach signal server ${url}: ${err.message}`, {
            cause: err,
          }),
        );
      const onClose = (code: number): void =>
        finish(TransportError.SIGNAL_UNREACHABLE(`Signal server closed the connection (${code})`));
      const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
        let msg: ServerMessage;
        try {
          if (isBinary) throw new Error('binary frame');
          msg = parseServerMessage(rawToString(data));
        } catch (err) {
          finish(
            TransportError.SIGNAL_ERROR('SIGNAL_BAD_MESSAGE', 'server sent an invalid hello', { cause: err }),
          );
          return;
        }
        if (msg.type === 'error') {
          finish(TransportError.SIGNAL_ERROR(msg.code, msg.message));
        } else if (msg.type !== 'hello') {
          finish(TransportError.SIGNAL_ERROR('SIGNAL_BAD_MESSAGE', `expected hello, got ${msg.type}`));
        } else {
          finish(undefined, new SignalClient(ws, msg, opts));
        }
      };
      const timer = setTimeout(
        () => finish(TransportError.TIMEOUT('Signal server did not say hello in time')),
        opts.timeoutMs ?? 10_000,
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      ws.on('message', onMessage);
      ws.on('error', onError);
      ws.on('close', onClose);
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Creates a room (or reclaims `room`, e.g. after a host restart). */
  async create(opts: { room?: string; maxPeers?: number } = {}): Promise<RoomInfo> {
    const msg = await this.#request(
      {
        type: 'create',
        ...(opts.room ? { room: opts.room } : {}),
        ...(opts.maxPeers ? { maxPeers: opts.maxPeers } : {}),
      },
      'created',
    );
    if (msg.type !== 'created') throw unreachable();
    return { room: msg.room, peerId: msg.peerId, peers: [], expiresAt: msg.expiresAt };
  }

  /** Joins an existing room by nameplate. */
  async join(room: string): Promise<RoomInfo> {
    const msg = await this.#request({ type: 'join', room }, 'joined');
    if (msg.type !== 'joined') throw unreachable();
    return { room: msg.room, peerId: msg.peerId, peers: msg.peers, expiresAt: undefined };
  }

  /** Leaves the current room. */
  async leave(): Promise<void> {
    await this.#request({ type: 'leave' }, 'left');
  }

  /** Asks for short-lived TURN credentials. */
  async requestTurnCredentials(): Promise<TurnCredentials> {
    const msg = await this.#request({ type: 'turn-credentials' }, 'turn-credentials');
    if (msg.type !== 'turn-credentials') throw unreachable();
    return { urls: msg.urls, username: msg.username, credential: msg.credential, ttlSeconds: msg.ttlSeconds };
  }

  /**
   * Relays an opaque payload to one peer (`to`) or every other peer in the room. Fire and
   * forget: a server error about it arrives as a 'server-error' event.
   */
  relay(payload: string, to?: string): void {
    if (this.#closed) throw TransportError.CLOSED('Signal connection is closed');
    this.#send({ type: 'relay', ref: this.#ref(), ...(to ? { to } : {}), payload });
  }

  /** Closes the socket, rejects pending requests with TRANSPORT_CLOSED. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#ws.close(1000, 'bye');
    // A server that never answers the close handshake must not keep the process alive.
    const kill = setTimeout(() => this.#ws.terminate(), 1000);
    kill.unref();
    this.#teardown(1000, 'closed locally');
  }

  #ref(): string {
    return String(this.#nextRef++);
  }

  #send(msg: ClientMessage): void {
    if (this.#closed) return;
    this.#ws.send(encodeSignalMessage(msg));
  }

  #request(msg: ClientMessage, expect: ServerMessage['type']): Promise<ServerMessage> {
    if (this.#closed) return Promise.reject(TransportError.CLOSED('Signal connection is closed'));
    const ref = this.#ref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(TransportError.TIMEOUT(`Signal server did not answer ${msg.type}`));
      }, this.#requestTimeoutMs);
      this.#pending.set(ref, { expect, resolve, reject, timer });
      this.#send({ ...msg, ref } as ClientMessage);
    });
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    let msg: ServerMessage;
    try {
      if (isBinary) throw new Error('binary frame');
      msg = parseServerMessage(rawToString(data));
    } catch (err) {
      // A server that speaks garbage is not one to keep talking to.
      this.emit(
        'server-error',
        TransportError.SIGNAL_ERROR('SIGNAL_BAD_MESSAGE', 'server sent an invalid message', { cause: err }),
      );
      this.#ws.terminate();
      this.#teardown(1002, 'invalid server message');
      return;
    }
    const ref = 'ref' in msg ? msg.ref : undefined;
    const pending = ref !== undefined ? this.#pending.get(ref) : undefined;
    switch (msg.type) {
      case 'error': {
        const err = TransportError.SIGNAL_ERROR(msg.code, msg.message);
        if (pending && ref !== undefined) {
          this.#settle(ref, pending);
          pending.reject(err);
        } else this.emit('server-error', err);
        return;
      }
      case 'created':
      case 'joined':
      case 'left':
      case 'turn-credentials':
        if (pending && ref !== undefined && pending.expect === msg.type) {
          this.#settle(ref, pending);
          pending.resolve(msg);
        }
        return;
      case 'pong':
      case 'hello':
        return;
      case 'peer-joined':
        this.emit('peer-joined', msg.peerId);
        return;
      case 'peer-left':
        this.emit('peer-left', msg.peerId);
        return;
      case 'relay':
        this.emit('relay', msg.from, msg.payload);
        return;
      case 'room-expired':
        this.emit('room-expired', msg.room);
        return;
      case 'closing':
        this.emit('closing', msg.reason);
        return;
    }
  }

  #settle(ref: string, p: Pending): void {
    clearTimeout(p.timer);
    this.#pending.delete(ref);
  }

  #onClose(code: number, reason: string): void {
    this.#teardown(code, reason);
  }

  #teardown(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const [ref, p] of this.#pending) {
      this.#settle(ref, p);
      p.reject(TransportError.CLOSED('Signal connection closed'));
    }
    this.emit('close', { code, reason });
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function unreachable(): TransportError {
  return TransportError.SIGNAL_ERROR('SIGNAL_BAD_MESSAGE', 'unexpected reply');
}
