import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import {
  type ClientMessage,
  encodeSignalMessage,
  isAppError,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  SIGNAL_ERROR_CODES,
  type SignalErrorCode,
} from '@wormhole/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';
import { SignalServerError } from './errors.js';
import { createLogger } from './logger.js';
import { MemoryRoomBackend } from './memory-backend.js';
import { createMetrics, type SignalMetrics } from './metrics.js';
import { type ResolvedOptions, resolveOptions, type SignalServerOptions } from './options.js';
import { RedisRoomBackend } from './redis-backend.js';
import type { BackendHost, RoomBackend } from './room-backend.js';
import { TokenBucket } from './token-bucket.js';
import { turnCredentials } from './turn.js';

/** A running signal server. */
export interface SignalServer {
  /** WebSocket URL clients connect to (`ws://` or `wss://`). */
  readonly url: string;
  /** HTTP base URL of `/health`, `/ready` and `/metrics` (`http://` or `https://`). */
  readonly httpUrl: string;
  /** The bound TCP port. */
  readonly port: number;
  /** This instance's id (sent in `hello`; the Redis instance id). */
  readonly serverId: string;
  /** The Prometheus registry of this server (what `/metrics` serves). */
  readonly registry: Registry;
  /** True when `/ready` answers 200: not draining and (in Redis mode) Redis reachable. */
  isReady(): boolean;
  /**
   * Stops accepting connections (`/ready` → 503), sends every client `closing {reason:'shutdown'}`,
   * closes the sockets and resolves once they are gone, at most `drainTimeoutMs` later
   * (stragglers are terminated). Idempotent.
   */
  drain(): Promise<void>;
  /** Drains, then closes the listener and the room store. Idempotent. */
  close(): Promise<void>;
}

interface Conn {
  readonly ws: WebSocket;
  readonly peerId: string;
  readonly ip: string;
  readonly openedAt: number;
  readonly bucket: TokenBucket;
  room: string | undefined;
  alive: boolean;
  closed: boolean;
  /** Requests in flight; they run one after another so replies keep request order. */
  busy: number;
  queue: Promise<void>;
}

/** Room-level requests that need the room store. */
const STORE_REQUESTS = new Set<ClientMessage['type']>(['create', 'join', 'relay']);

/**
 * Starts a signal (rendezvous) server: HTTP(S) for `/health`, `/ready`, `/metrics`, and the
 * WebSocket protocol of `@wormhole/protocol`'s signal messages on the same port.
 */
export async function createSignalServer(options: SignalServerOptions = {}): Promise<SignalServer> {
  const opts = resolveOptions(options);
  const serverId = options.serverId ?? `sig-${randomBytes(6).toString('hex')}`;
  const log = createLogger(options.logger, serverId);
  const impl = new SignalServerImpl(opts, serverId, log);
  await impl.start();
  return impl;
}

class SignalServerImpl implements SignalServer, BackendHost {
  readonly serverId: string;
  readonly log: Logger;
  readonly registry: Registry;
  url = '';
  httpUrl = '';
  port = 0;

  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly backend: RoomBackend;
  private readonly metrics: SignalMetrics;
  private readonly conns = new Map<string, Conn>();
  private readonly perIp = new Map<string, number>();
  private handshakes = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private draining = false;
  private drainPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;

  constructor(
    private readonly opts: ResolvedOptions,
    serverId: string,
    log: Logger,
  ) {
    this.serverId = serverId;
    this.log = log;
    this.backend = opts.redisUrl
      ? new RedisRoomBackend(this, {
          url: opts.redisUrl,
          prefix: opts.redisKeyPrefix,
          instanceId: serverId,
          maxRooms: opts.maxRooms,
          roomTimeoutMs: opts.roomTimeoutSec * 1000,
          instanceTtlMs: opts.instanceTtlMs,
        })
      : new MemoryRoomBackend(this, { maxRooms: opts.maxRooms, roomTimeoutMs: opts.roomTimeoutSec * 1000 });
    this.metrics = createMetrics(() => this.backend.roomCount());
    this.registry = this.metrics.registry;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => void this.onHttp(req, res);
    try {
      this.http = opts.tls
        ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.3' }, onRequest)
        : createHttpServer(onRequest);
    } catch (err) {
      throw SignalServerError.TLS_FAILED(err);
    }
    // Slow handshakes must not hold sockets forever.
    this.http.headersTimeout = 10_000;
    this.http.requestTimeout = 15_000;
    this.http.keepAliveTimeout = 5_000;
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.http.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    // maxPayload is a hard memory cap well above maxMessageBytes, so an oversized message is
    // still read and answered with SIGNAL_MESSAGE_TOO_LARGE; only absurd frames get close 1009.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(opts.maxMessageBytes * 4, 1024 * 1024),
      perMessageDeflate: false,
      clientTracking: false,
      // Invalid UTF-8 would make ws close the socket (1007) without an answer; the JSON parser
      // rejects it instead, with a typed SIGNAL_BAD_MESSAGE.
      skipUTF8Validation: true,
    });
  }

  async start(): Promise<void> {
    const { host, port } = this.opts;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(SignalServerError.LISTEN_FAILED(host, port, err));
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    this.http.on('error', (err) => this.log.error({ err: err.message }, 'http server error'));
    const addr = this.http.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    const urlHost =
      host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    const secure = this.opts.tls !== undefined;
    this.url = `${secure ? 'wss' : 'ws'}://${urlHost}:${this.port}`;
    this.httpUrl = `${secure ? 'https' : 'http'}://${urlHost}:${this.port}`;
    await this.backend.start();
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.log.info(
      {
        url: this.url,
        mode: this.opts.redisUrl ? 'redis' : 'memory',
        tls: secure,
        turn: this.opts.turn !== undefined,
      },
      'signal server listening',
    );
  }

  isReady(): boolean {
    return !this.draining && this.backend.isReady();
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    try {
      if (path === '/health') return json(200, { status: 'ok' });
      if (path === '/ready') {
        const ready = this.isReady();
        const reason = this.draining ? 'draining' : ready ? undefined : 'room store unreachable';
        return json(ready ? 200 : 503, reason ? { status: 'not ready', reason } : { status: 'ready' });
      }
      if (path === '/metrics') {
        const text = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(text);
        return;
      }
      return json(404, { error: 'not found' });
    } catch (err) {
      this.log.error({ err: (err as Error).message, path }, 'http handler failed');
      if (!res.headersSent) json(500, { error: 'internal error' });
      else res.destroy();
    }
  }

  // ---- WebSocket handshake ------------------------------------------------------------------

  private clientIp(req: IncomingMessage): string {
    if (this.opts.trustProxy) {
      const xff = req.headers['x-forwarded-for'];
      const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.draining) {
      this.abortHandshake(socket, 503, 'SIGNAL_SHUTTING_DOWN', 'server is shutting down');
      return;
    }
    const total = this.conns.size + this.handshakes;
    if (this.opts.maxConnections > 0 && total >= this.opts.maxConnections) {
      this.abortHandshake(socket, 503, 'SIGNAL_TOO_MANY_CONNECTIONS', 'server connection limit reached');
      return;
    }
    const ip = this.clientIp(req);
    const count = this.perIp.get(ip) ?? 0;
    if (this.opts.maxConnectionsPerIp > 0 && count >= this.opts.maxConnectionsPerIp) {
      this.log.debug({ ip }, 'per-ip connection limit reached');
      this.abortHandshake(
        socket,
        429,
        'SIGNAL_TOO_MANY_CONNECTIONS',
        'too many connections from this address',
      );
      return;
    }
    // Reserve the slot now so a burst of handshakes cannot overshoot the limit.
    this.perIp.set(ip, count + 1);
    this.handshakes++;
    let settled = false;
    const release = (): void => {
      if (settled) return;
      settled = true;
      this.handshakes--;
      this.releaseIp(ip);
    };
    socket.once('close', release);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (settled) {
        ws.terminate();
        return;
      }
      settled = true;
      this.handshakes--;
      socket.off('close', release);
      this.onConnection(ws, ip);
    });
  }

  /** Refuses a handshake with an HTTP status and a JSON error body (like ws's abortHandshake). */
  private abortHandshake(socket: Duplex, status: number, code: SignalErrorCode, message: string): void {
    this.metrics.errors.inc({ code });
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = encodeSignalMessage({ type: 'error', code, message });
    const retry = status === 429 || status === 503 ? 'Retry-After: 5\r\n' : '';
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${retry}\r\n${body}`,
    );
  }

  private releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  // ---- Connections --------------------------------------------------------------------------

  private onConnection(ws: WebSocket, ip: string): void {
    const conn: Conn = {
      ws,
      peerId: randomBytes(9).toString('base64url'),
      ip,
      openedAt: performance.now(),
      bucket: new TokenBucket(this.opts.rateLimit.burst, this.opts.rateLimit.messagesPerSec),
      room: undefined,
      alive: true,
      closed: false,
      busy: 0,
      queue: Promise.resolve(),
    };
    this.conns.set(conn.peerId, conn);
    this.metrics.totalConnections.inc();
    this.metrics.activeConnections.inc();
    this.log.debug({ peerId: conn.peerId }, 'connection open');
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('error', (err) => this.log.debug({ peerId: conn.peerId, err: err.message }, 'socket error'));
    ws.on('close', () => this.onClose(conn));
    this.send(conn, {
      type: 'hello',
      v: PROTOCOL_VERSION,
      serverId: this.serverId,
      maxMessageBytes: this.opts.maxMessageBytes,
      heartbeatMs: this.opts.heartbeatMs,
    });
  }

  private onClose(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn.peerId);
    this.releaseIp(conn.ip);
    this.metrics.activeConnections.dec();
    this.metrics.connectionDuration.observe((performance.now() - conn.openedAt) / 1000);
    this.log.debug({ peerId: conn.peerId, room: conn.room }, 'connection closed');
    // A closed socket is an implicit leave; queued after any request still in flight.
    this.enqueue(conn, async () => {
      const room = conn.room;
      if (room === undefined) return;
      conn.room = undefined;
      await this.backend.leave(conn.peerId, room);
      this.log.info({ room, peerId: conn.peerId }, 'peer left (disconnected)');
    });
  }

  private beat(): void {
    for (const conn of this.conns.values()) {
      if (!conn.alive) {
        // No pong since the previous ping: half-open or hung; free its slot.
        this.log.info({ peerId: conn.peerId, room: conn.room }, 'heartbeat timeout; terminating');
        this.metrics.errors.inc({ code: 'SIGNAL_TIMEOUT' });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.ws.terminate();
      }
    }
  }

  private onMessage(conn: Conn, data: WebSocket.RawData, isBinary: boolean): void {
    conn.alive = true;
    if (!conn.bucket.take()) {
      this.sendError(conn, 'SIGNAL_RATE_LIMITED', 'too many messages; slow down', undefined);
      return;
    }
    if (isBinary) {
      this.sendError(conn, 'SIGNAL_BAD_MESSAGE', 'binary frames are not accepted', undefined);
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.byteLength > this.opts.maxMessageBytes) {
      this.sendError(
        conn,
        'SIGNAL_MESSAGE_TOO_LARGE',
        `message of ${buf.byteLength} bytes exceeds the ${this.opts.maxMessageBytes}-byte limit`,
        undefined,
      );
      return;
    }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(buf, this.opts.maxMessageBytes);
    } catch (err) {
      const code: SignalErrorCode = isAppError(err, 'PROTOCOL_MESSAGE_TOO_LARGE')
        ? 'SIGNAL_MESSAGE_TOO_LARGE'
        : 'SIGNAL_BAD_MESSAGE';
      this.sendError(conn, code, (err as Error).message, refOf(buf));
      return;
    }
    this.enqueue(conn, () => this.handle(conn, msg));
  }

  private enqueue(conn: Conn, fn: () => Promise<void>): void {
    conn.busy++;
    conn.queue = conn.queue
      .then(fn)
      .catch((err: unknown) => {
        this.log.error({ peerId: conn.peerId, err: (err as Error).message }, 'request handler failed');
      })
      .finally(() => {
        conn.busy--;
      });
  }

  private async handle(conn: Conn, msg: ClientMessage): Promise<void> {
    if (conn.closed && msg.type !== 'leave') return;
    const ref = msg.ref;
    try {
      if (this.draining && msg.type !== 'leave' && msg.type !== 'ping') {
        throw SignalServerError.reject('SIGNAL_SHUTTING_DOWN', 'server is shutting down');
      }
      if (STORE_REQUESTS.has(msg.type) && !this.backend.isReady()) {
        throw SignalServerError.reject('SIGNAL_UNAVAILABLE', 'the room store is unreachable; retry later');
      }
      switch (msg.type) {
        case 'ping':
          return this.send(conn, { type: 'pong', ref });
        case 'create': {
          if (conn.room !== undefined) throw alreadyIn(conn.room);
          const maxPeers = Math.min(msg.maxPeers ?? this.opts.maxPeersPerRoom, this.opts.maxPeersPerRoom);
          const { room, expiresAt } = await this.backend.create(conn.peerId, msg.room, maxPeers);
          conn.room = room;
          this.log.info({ room, peerId: conn.peerId, reclaimed: msg.room !== undefined }, 'room created');
          return this.send(conn, { type: 'created', ref, room, peerId: conn.peerId, expiresAt });
        }
        case 'join': {
          if (conn.room !== undefined) throw alreadyIn(conn.room);
          const { peers } = await this.backend.join(conn.peerId, msg.room);
          conn.room = msg.room;
          this.log.info({ room: msg.room, peerId: conn.peerId, peers: peers.length }, 'peer joined');
          return this.send(conn, { type: 'joined', ref, room: msg.room, peerId: conn.peerId, peers });
        }
        case 'relay': {
          if (conn.room === undefined)
            throw SignalServerError.reject('SIGNAL_NOT_IN_ROOM', 'join or create a room first');
          const room = conn.room;
          try {
            await this.backend.relay(conn.peerId, room, msg.to, msg.payload);
          } catch (err) {
            if (isAppError(err, 'SIGNAL_ROOM_EXPIRED') && conn.room === room) conn.room = undefined;
            throw err;
          }
          return;
        }
        case 'leave': {
          if (conn.room === undefined) throw SignalServerError.reject('SIGNAL_NOT_IN_ROOM', 'not in a room');
          const room = conn.room;
          conn.room = undefined;
          await this.backend.leave(conn.peerId, room);
          this.log.info({ room, peerId: conn.peerId }, 'peer left');
          return this.send(conn, { type: 'left', ref });
        }
        case 'turn-credentials': {
          const turn = this.opts.turn;
          if (!turn)
            throw SignalServerError.reject(
              'SIGNAL_TURN_UNAVAILABLE',
              'this server has no TURN service configured',
            );
          return this.send(conn, { type: 'turn-credentials', ref, ...turnCredentials(turn, conn.peerId) });
        }
      }
    } catch (err) {
      if (err instanceof SignalServerError && isWireCode(err.code)) {
        this.sendError(conn, err.code, err.message, ref);
        return;
      }
      this.log.error({ peerId: conn.peerId, type: msg.type, err: (err as Error).message }, 'internal error');
      this.sendError(conn, 'SIGNAL_INTERNAL', 'internal server error', ref);
      return;
    } finally {
      // A request that completed after its socket closed must not leave a ghost member behind.
      if (conn.closed && conn.room !== undefined) {
        const room = conn.room;
        conn.room = undefined;
        await this.backend.leave(conn.peerId, room);
      }
    }
  }

  private sendError(conn: Conn, code: SignalErrorCode, message: string, ref: string | undefined): void {
    this.metrics.errors.inc({ code });
    this.log.debug({ peerId: conn.peerId, code, room: conn.room }, 'request rejected');
    const msg: ServerMessage = { type: 'error', code, message: message.slice(0, 1024) };
    if (ref !== undefined) msg.ref = ref;
    this.send(conn, msg);
  }

  private send(conn: Conn, msg: ServerMessage): void {
    this.sendText(conn, encodeSignalMessage(msg));
  }

  private sendText(conn: Conn, text: string): void {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.opts.maxBufferedBytes) {
      // A reader this slow would make the server buffer without bound: drop it.
      this.log.info({ peerId: conn.peerId, room: conn.room }, 'slow consumer; terminating');
      this.metrics.errors.inc({ code: 'SIGNAL_TIMEOUT' });
      ws.terminate();
      return;
    }
    ws.send(text);
  }

  // ---- BackendHost --------------------------------------------------------------------------

  hasMember(peerId: string, room: string): boolean {
    const conn = this.conns.get(peerId);
    return conn !== undefined && (conn.room === room || conn.busy > 0);
  }

  deliver(peerIds: readonly string[], text: string, opts?: { evictRoom?: string; relay?: boolean }): void {
    for (const id of peerIds) {
      const conn = this.conns.get(id);
      if (!conn) continue;
      if (opts?.evictRoom !== undefined && conn.room === opts.evictRoom) conn.room = undefined;
      this.sendText(conn, text);
      if (opts?.relay) this.metrics.messagesRelayed.inc();
    }
  }

  // ---- Shutdown -----------------------------------------------------------------------------

  drain(): Promise<void> {
    this.drainPromise ??= this.doDrain();
    return this.drainPromise;
  }

  private async doDrain(): Promise<void> {
    this.draining = true;
    const conns = [...this.conns.values()];
    this.log.info({ connections: conns.length }, 'draining');
    const closing = encodeSignalMessage({ type: 'closing', reason: 'shutdown' });
    const gone = conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          if (c.ws.readyState === WebSocket.OPEN) c.ws.send(closing);
          c.ws.close(1001, 'server shutting down');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.opts.drainTimeoutMs);
    });
    const result = await Promise.race([Promise.all(gone).then(() => 'done' as const), timeout]);
    if (result === 'timeout') {
      this.log.warn('drain timeout; terminating remaining sockets');
      for (const c of this.conns.values()) c.ws.terminate();
    }
    clearTimeout(timer);
    // Let the implicit leaves reach the room store (bounded).
    await Promise.race([
      Promise.allSettled(conns.map((c) => c.queue)),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
  }

  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    await this.drain();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    await this.backend.close();
    this.log.info('signal server closed');
  }
}

function alreadyIn(room: string): SignalServerError {
  return SignalServerError.reject('SIGNAL_ALREADY_IN_ROOM', `already in room ${room}; leave it first`);
}

const WIRE_CODES: ReadonlySet<string> = new Set<string>(SIGNAL_ERROR_CODES);

function isWireCode(code: string): code is SignalErrorCode {
  return WIRE_CODES.has(code);
}

/** The `ref` of a message that failed validation, when one can be read, so the error still correlates. */
function refOf(buf: Buffer): string | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    if (v !== null && typeof v === 'object' && 'ref' in v) {
      const ref = (v as { ref: unknown }).ref;
      if (typeof ref === 'string' && ref.length <= 64) return ref;
    }
  } catch {
    // not JSON: no ref to echo
  }
  return undefined;
}
