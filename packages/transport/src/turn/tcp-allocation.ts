import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { bindConnection } from './connection-bind.js';
import { LongTermAuth } from './long-term-auth.js';
import {
  decodeXorAddress,
  encodeXorAddress,
  readU32,
  requestedTransportTcp,
  type StunAddress,
  u32Attribute,
} from './stun-attributes.js';
import { Attr, Method } from './stun-constants.js';
import { getAttribute, type StunAttribute, type StunMessage } from './stun-message.js';
import { DEFAULT_TURN_TIMEOUT_MS, StunTcpConnection } from './stun-tcp-connection.js';
import { TurnError } from './turn-error.js';
import type { TurnTcpServer } from './turn-url.js';

/** Allocation lifetime asked for (RFC 8656 default). */
const REQUESTED_LIFETIME_S = 600;
/** Permissions last 300 s (RFC 8656 §9); they are renewed well before. */
const PERMISSION_REFRESH_MS = 240_000;
/** ConnectionAttempts being bound at once; more are refused (RFC 6062 lets the server time them out). */
const MAX_PENDING_BINDS = 8;
/** How long close() waits for the server to confirm the release (Refresh, lifetime 0). */
const RELEASE_TIMEOUT_MS = 1000;

export interface TcpAllocationOptions {
  /** Cancels allocating (not the allocation once made: use close()). */
  readonly signal?: AbortSignal;
  /** Bound on the TCP connect and on each request. Default 5000. */
  readonly timeoutMs?: number;
}

/** A relayed connection from a peer, ready to carry bytes (RFC 6062 §5.3/§5.4). */
export interface RelayedConnection {
  /** Paused data connection; feed `rest` first, then resume. */
  readonly socket: Socket;
  readonly rest: Buffer;
  /** The peer's address as the TURN server saw it. */
  readonly peer: StunAddress;
}

export interface TcpAllocationEvents {
  /** A peer connected to the relayed address and the data connection is bound. */
  connection: [connection: RelayedConnection];
  /** A ConnectionAttempt that could not be bound (the allocation stays usable). */
  'connection-error': [error: TurnError];
  /** Once: the allocation is gone (closed here, refresh failed, or the control connection died). */
  close: [error: TurnError | undefined];
}

/**
 * A TURN allocation with a TCP relayed address (RFC 6062) over one TCP control connection:
 * Allocate with long-term credentials, Refresh before expiry, CreatePermission (renewed while
 * the allocation lives), Connect, and for each ConnectionAttempt a data connection bound with
 * ConnectionBind and handed up as `connection`. `close()` releases it (Refresh, lifetime 0);
 * data connections already handed up are the receiver's and stay open (the server ends them
 * when the allocation goes).
 */
export class TcpAllocation extends EventEmitter<TcpAllocationEvents> {
  /** The relayed transport address peers connect to. */
  readonly relayed: StunAddress;
  /** This side's address as the server saw the control connection (XOR-MAPPED-ADDRESS), if sent. */
  readonly mapped: StunAddress | undefined;
  readonly server: TurnTcpServer;
  readonly #control: StunTcpConnection;
  readonly #auth: LongTermAuth;
  readonly #timeoutMs: number;
  readonly #permitted = new Set<string>();
  readonly #binding = new Set<AbortController>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #permissionTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(
    server: TurnTcpServer,
    control: StunTcpConnection,
    auth: LongTermAuth,
    answer: StunMessage,
    timeoutMs: number,
  ) {
    super();
    this.server = server;
    this.#control = control;
    this.#auth = auth;
    this.#timeoutMs = timeoutMs;
    const relayed = getAttribute(answer, Attr.XorRelayedAddress);
    if (relayed === undefined) throw TurnError.PROTOCOL('Allocate answer without XOR-RELAYED-ADDRESS');
    this.relayed = decodeXorAddress(relayed, answer.transactionId);
    const mapped = getAttribute(answer, Attr.XorMappedAddress);
    this.mapped = mapped ? decodeXorAddress(mapped, answer.transactionId) : undefined;
    this.#scheduleRefresh(readU32(answer, Attr.Lifetime) ?? REQUESTED_LIFETIME_S);
    control.on('indication', (m) => this.#onIndication(m));
    control.on('close', (err) => this.#shutdown(err ?? TurnError.CLOSED('control connection closed')));
  }

  /**
   * Connects to `server` and allocates a TCP relayed address. Rejects with a TurnError:
   * TURN_UNREACHABLE, TURN_AUTH_FAILED, TURN_ERROR_RESPONSE (e.g. 442 when the server does
   * not do TCP relays), TURN_TIMEOUT, TURN_ABORTED...
   */
  static async allocate(server: TurnTcpServer, options: TcpAllocationOptions = {}): Promise<TcpAllocation> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
    const control = await StunTcpConnection.open(server.host, server.port, { ...options, timeoutMs });
    const onAbort = (): void => control.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const auth = new LongTermAuth(server.username, server.password);
      const answer = await control.request(
        Method.Allocate,
        [requestedTransportTcp(), u32Attribute(Attr.Lifetime, REQUESTED_LIFETIME_S)],
        auth,
      );
      if (options.signal?.aborted) throw TurnError.ABORTED();
      return new TcpAllocation(server, control, auth, answer, timeoutMs);
    } catch (err) {
      control.close();
      if (options.signal?.aborted) throw TurnError.ABORTED();
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Lets peers at these IPs connect to the relayed address (CreatePermission; ports do not
   * matter). Permissions are renewed while the allocation lives.
   */
  async permit(ips: readonly string[]): Promise<void> {
    const fresh = ips.filter((ip) => !this.#permitted.has(ip));
    for (const ip of fresh) if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${ip}`);
    if (fresh.length === 0) return;
    await this.#createPermission(fresh);
    for (const ip of fresh) this.#permitted.add(ip);
    if (this.#permissionTimer === undefined) {
      this.#permissionTimer = setInterval(() => {
        this.#createPermission([...this.#permitted]).catch((err: TurnError) => this.#shutdown(err));
      }, PERMISSION_REFRESH_MS);
      this.#permissionTimer.unref();
    }
  }

  /**
   * RFC 6062 §4.3: asks the server to open a TCP connection from the relayed address to
   * `peer` (a permission for its IP is needed first). Resolves with the CONNECTION-ID to
   * bind with `bind()`.
   */
  async connect(peer: { address: string; port: number }): Promise<number> {
    const answer = await this.#request(Method.Connect, (tid) => [
      { type: Attr.XorPeerAddress, value: encodeXorAddress(peer, tid) },
    ]);
    const id = readU32(answer, Attr.ConnectionId);
    if (id === undefined) throw TurnError.PROTOCOL('Connect answer without CONNECTION-ID');
    return id;
  }

  /** Binds a data connection for a CONNECTION-ID (from `connect()`); resolves with the byte stream. */
  async bind(connectionId: number, signal?: AbortSignal): Promise<{ socket: Socket; rest: Buffer }> {
    if (this.#closed) throw TurnError.CLOSED('allocation closed');
    return bindConnection(this.server, this.#auth, connectionId, {
      timeoutMs: this.#timeoutMs,
      ...(signal && { signal }),
    });
  }

  /**
   * Releases the allocation: Refresh with LIFETIME 0 (waits up to 1 s for the answer), then
   * closes the control connection and any bind in progress. Idempotent; never rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stopTimers();
    const release = this.#control.request(Method.Refresh, [u32Attribute(Attr.Lifetime, 0)], this.#auth).then(
      () => {},
      () => {},
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([release, new Promise<void>((r) => (timer = setTimeout(r, RELEASE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    this.#shutdown(undefined);
  }

  #request(method: number, attrs: (transactionId: Buffer) => StunAttribute[]): Promise<StunMessage> {
    if (this.#closed) return Promise.reject(TurnError.CLOSED('allocation closed'));
    return this.#control.request(method, attrs, this.#auth);
  }

  #createPermission(ips: readonly string[]): Promise<StunMessage> {
    return this.#request(Method.CreatePermission, (tid) =>
      ips.map((ip) => ({
        type: Attr.XorPeerAddress,
        value: encodeXorAddress({ address: ip, port: 0 }, tid),
      })),
    );
  }

  #scheduleRefresh(lifetimeS: number): void {
    clearTimeout(this.#refreshTimer);
    // Refresh a minute early (half the lifetime when it is short).
    const inS = lifetimeS > 120 ? lifetimeS - 60 : Math.max(1, lifetimeS / 2);
    this.#refreshTimer = setTimeout(() => {
      this.#control
        .request(Method.Refresh, [u32Attribute(Attr.Lifetime, REQUESTED_LIFETIME_S)], this.#auth)
        .then(
          (answer) => this.#scheduleRefresh(readU32(answer, Attr.Lifetime) ?? REQUESTED_LIFETIME_S),
          (err: TurnError) => this.#shutdown(err),
        );
    }, inS * 1000);
    this.#refreshTimer.unref();
  }

  #onIndication(m: StunMessage): void {
    if (this.#closed || m.method !== Method.ConnectionAttempt) return;
    let connectionId: number;
    let peer: StunAddress;
    try {
      const id = readU32(m, Attr.ConnectionId);
      const addr = getAttribute(m, Attr.XorPeerAddress);
      if (id === undefined || addr === undefined)
        throw TurnError.PROTOCOL('ConnectionAttempt without CONNECTION-ID or XOR-PEER-ADDRESS');
      connectionId = id;
      peer = decodeXorAddress(addr, m.transactionId);
    } catch (err) {
      this.emit('connection-error', err as TurnError);
      return;
    }
    if (this.#binding.size >= MAX_PENDING_BINDS) {
      this.emit('connection-error', TurnError.PROTOCOL('too many ConnectionAttempts at once; one ignored'));
      return;
    }
    const ac = new AbortController();
    this.#binding.add(ac);
    this.bind(connectionId, ac.signal).then(
      ({ socket, rest }) => {
        this.#binding.delete(ac);
        if (this.#closed) socket.destroy();
        else this.emit('connection', { socket, rest, peer });
      },
      (err: TurnError) => {
        this.#binding.delete(ac);
        if (!this.#closed) this.emit('connection-error', err);
      },
    );
  }

  #stopTimers(): void {
    clearTimeout(this.#refreshTimer);
    clearInterval(this.#permissionTimer);
  }

  #shutdown(error: TurnError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    for (const ac of this.#binding) ac.abort();
    this.#binding.clear();
    this.#control.close();
    this.emit('close', error);
  }
}
