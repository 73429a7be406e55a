import { EventEmitter, setMaxListeners } from 'node:events';
import {
  type DirEntry,
  decodeReaddirResult,
  decodeReadlinkResult,
  decodeStat,
  decodeStatfsResult,
  FrameKind,
  FsOp,
  type Hello,
  MAX_READ_BYTES,
  type PeerEvent,
  type ReaddirResult,
  type Stat,
  type StatfsResult,
} from '@wormhole/protocol';
import type { PathInfo, PeerChannel } from '@wormhole/transport';
import { EngineError } from '../engine-error.js';
import { type Logger, silentLogger } from '../logger.js';
import { RemoteFsError } from '../remote-fs-error.js';
import { RpcConnection } from './rpc-connection.js';

/** Options of `createRemoteFs`. */
export interface RemoteFsOptions {
  /** Opens a fresh channel to the host. Called for the first connection and every reconnect. */
  readonly connect: () => Promise<PeerChannel>;
  /** No call waits longer than this; it then fails with ETIMEDOUT. Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
  /** Longest wait for the host's HELLO after `connect()` resolves. Default 5,000 ms. */
  readonly helloTimeoutMs?: number;
  /** Longest wait for `connect()` itself. Default 15,000 ms. */
  readonly connectTimeoutMs?: number;
  /** PING after this much silence from the host. Default 5,000 ms. */
  readonly keepaliveMs?: number;
  /** Chunk requests of one `read` in flight at once. Default 24. */
  readonly readWindow?: number;
  /** Entries asked per READDIR page. Default 1024. */
  readonly readdirPageSize?: number;
  /** Reconnect backoff: first delay and cap, ms. Defaults 100 and 5,000. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly logger?: Logger;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborting sends CANCEL to the host and rejects the call with EngineError ENGINE_ABORTED. */
  readonly signal?: AbortSignal;
}

/** Connection state changes, emitted as `connection`. */
export interface ConnectionEvent {
  readonly state: 'connected' | 'disconnected' | 'reconnected';
  /** Path of the live channel (connected/reconnected). */
  readonly pathInfo?: PathInfo;
  /** Why the connection went down (disconnected). */
  readonly reason?: string;
}

/**
 * Paths whose cached attributes/data/listings must be dropped. Paths are in client form
 * ('/a/b', '/' for the root). `all` is true after a reconnect or a host-side overflow.
 */
export interface InvalidateEvent {
  readonly paths: readonly string[];
  readonly all: boolean;
}

export interface RemoteFsEvents {
  invalidate: [event: InvalidateEvent];
  connection: [event: ConnectionEvent];
}

/** One page of a directory listing; `next` is the cursor of the following page. */
export interface ReaddirPage {
  readonly entries: readonly DirEntry[];
  readonly next: number | undefined;
}

/**
 * A remote share, read over a PeerChannel. Paths are POSIX, rooted at the share: '/a/b' or
 * 'a/b'. Every method rejects with `RemoteFsError` (POSIX code) for file-system answers and
 * transport loss (ENOTCONN, ETIMEDOUT), or `EngineError` (ENGINE_ABORTED, ENGINE_CLOSED).
 */
export interface RemoteFs extends EventEmitter<RemoteFsEvents> {
  /** True while a channel is up and HELLO is done. */
  readonly connected: boolean;
  /** The host's HELLO (chunk size, read-only flag) of the current connection. */
  readonly hostHello: Hello | undefined;
  /** Read size used for splitting (the host's announced chunk size). */
  readonly chunkSize: number;
  /** lstat semantics: a symlink is reported as `type: 'symlink'`. */
  stat(path: string, opts?: CallOptions): Promise<Stat>;
  /** Every entry (all pages), each with its Stat. */
  readdir(path: string, opts?: CallOptions): Promise<DirEntry[]>;
  /** Pages of a listing, one round trip each. */
  readdirPages(path: string, opts?: CallOptions): AsyncIterableIterator<ReaddirPage>;
  /**
   * Reads up to `length` bytes at `offset` (short at end of file). Big reads are split into
   * chunk-size requests sent in parallel. With `version`, a changed file fails with ESTALE.
   */
  read(
    path: string,
    offset: number,
    length: number,
    version?: string,
    opts?: CallOptions,
  ): Promise<Uint8Array>;
  /**
   * The bytes of `[offset, offset + length)` as the host's frames, in order, without copying
   * them into one buffer: `readWindow` chunk requests stay in flight ahead of the consumer.
   * Ends early at end of file. Leaving the loop (or aborting) cancels what is still in flight.
   */
  readChunks(
    path: string,
    offset: number,
    length: number,
    version?: string,
    opts?: CallOptions,
  ): AsyncIterableIterator<Uint8Array>;
  readlink(path: string, opts?: CallOptions): Promise<string>;
  statfs(opts?: CallOptions): Promise<StatfsResult>;
  /** Stops reconnecting, closes the channel, fails pending calls. Idempotent. */
  close(): Promise<void>;
}

/** Client path ('/a/b', 'a/b', '/') → wire path ('a/b', ''). The host re-validates it. */
export function toWirePath(path: string): string {
  let p = path;
  while (p.startsWith('/')) p = p.slice(1);
  return p;
}

function toClientPath(wire: string): string {
  return `/${wire}`;
}

class RemoteFsImpl extends EventEmitter<RemoteFsEvents> implements RemoteFs {
  readonly #opts: Required<Omit<RemoteFsOptions, 'logger'>> & { logger: Logger };
  #conn: RpcConnection | undefined;
  #hello: Hello | undefined;
  #closed = false;
  #reconnecting: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #everConnected = false;

  constructor(opts: RemoteFsOptions) {
    super();
    this.#opts = {
      connect: opts.connect,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      helloTimeoutMs: opts.helloTimeoutMs ?? 5_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
      keepaliveMs: opts.keepaliveMs ?? 5_000,
      readWindow: Math.max(1, opts.readWindow ?? 24),
      readdirPageSize: opts.readdirPageSize ?? 1024,
      reconnectMinMs: opts.reconnectMinMs ?? 100,
      reconnectMaxMs: opts.reconnectMaxMs ?? 5_000,
      logger: opts.logger ?? silentLogger,
    };
  }

  get connected(): boolean {
    return this.#conn !== undefined && !this.#conn.isClosed && this.#hello !== undefined;
  }

  get hostHello(): Hello | undefined {
    return this.#hello;
  }

  get chunkSize(): number {
    return this.#hello?.chunkSize ?? 128 * 1024;
  }

  /** One connect + HELLO attempt. */
  async establish(): Promise<void> {
    let channel: PeerChannel;
    let connectTimer: NodeJS.Timeout | undefined;
    const attempt = this.#opts.connect();
    try {
      channel = await Promise.race([
        attempt,
        new Promise<never>((_, rej) => {
          connectTimer = setTimeout(
            () => rej(new Error(`connect() did not finish within ${this.#opts.connectTimeoutMs} ms`)),
            this.#opts.connectTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      // A channel that shows up after we gave up must not leak.
      attempt.then(
        (late) => late.close('connect timed out'),
        () => {},
      );
      throw EngineError.CONNECT_FAILED('connect() failed', err);
    } finally {
      if (connectTimer) clearTimeout(connectTimer);
    }
    if (this.#closed) {
      channel.close('remote fs closed');
      throw EngineError.CLOSED();
    }
    const conn = new RpcConnection(
      channel,
      (e) => this.#onEvent(e),
      (reason) => this.#onDown(conn, reason),
      {
        intervalMs: this.#opts.keepaliveMs,
        // Silence longer than a call may take means the host is gone.
        deadAfterMs: this.#opts.requestTimeoutMs + this.#opts.keepaliveMs,
      },
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      const hello = await Promise.race([
        conn.hello,
        new Promise<never>((_, rej) => {
          timer = setTimeout(
            () => rej(EngineError.HELLO_TIMEOUT(this.#opts.helloTimeoutMs)),
            this.#opts.helloTimeoutMs,
          );
        }),
      ]);
      this.#hello = hello;
      this.#conn = conn;
    } catch (err) {
      conn.close('hello failed');
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
    const first = !this.#everConnected;
    this.#everConnected = true;
    let pathInfo: PathInfo | undefined;
    try {
      pathInfo = channel.pathInfo();
    } catch {
      pathInfo = undefined;
    }
    this.emit('connection', {
      state: first ? 'connected' : 'reconnected',
      ...(pathInfo ? { pathInfo } : {}),
    });
    // Events may have been missed while down: caches must revalidate everything.
    if (!first) this.emit('invalidate', { paths: [], all: true });
  }

  #onDown(conn: RpcConnection, reason: string): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    if (this.#closed) return;
    this.#opts.logger.info?.('connection to host lost', { reason });
    this.emit('connection', { state: 'disconnected', reason });
    this.#startReconnect();
  }

  #startReconnect(): void {
    if (this.#reconnecting || this.#closed) return;
    this.#reconnecting = (async () => {
      let delay = this.#opts.reconnectMinMs;
      while (!this.#closed) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay * (0.75 + Math.random() * 0.5));
          this.#wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.#wake = undefined;
        if (this.#closed) break;
        try {
          await this.establish();
          break;
        } catch (err) {
          this.#opts.logger.debug?.('reconnect failed', { error: String(err) });
          delay = Math.min(this.#opts.reconnectMaxMs, delay * 2);
        }
      }
    })().finally(() => {
      this.#reconnecting = undefined;
    });
  }

  #onEvent(event: PeerEvent): void {
    if (event.type === 'invalidate')
      this.emit('invalidate', { paths: event.paths.map(toClientPath), all: false });
    else if (event.type === 'invalidate-all') this.emit('invalidate', { paths: [], all: true });
  }

  #live(): RpcConnection {
    if (this.#closed) throw EngineError.CLOSED('remote fs is closed');
    const conn = this.#conn;
    // Fail fast while disconnected; the background loop brings the connection back.
    if (!conn || conn.isClosed) throw RemoteFsError.ENOTCONN();
    return conn;
  }

  async #call<O extends FsOp>(
    op: O,
    params: Parameters<RpcConnection['call']>[1],
    expect: FrameKind,
    opts?: CallOptions,
  ) {
    const conn = this.#live();
    return conn.call(op, params as never, expect, {
      timeoutMs: this.#opts.requestTimeoutMs,
      ...(opts?.signal ? { signal: opts.signal } : {}),
    });
  }

  async stat(path: string, opts?: CallOptions): Promise<Stat> {
    return decodeOr(
      decodeStat,
      await this.#call(FsOp.STAT, { path: toWirePath(path) }, FrameKind.RESPONSE, opts),
    );
  }

  async readlink(path: string, opts?: CallOptions): Promise<string> {
    const body = await this.#call(FsOp.READLINK, { path: toWirePath(path) }, FrameKind.RESPONSE, opts);
    return decodeOr(decodeReadlinkResult, body).target;
  }

  async statfs(opts?: CallOptions): Promise<StatfsResult> {
    return decodeOr(decodeStatfsResult, await this.#call(FsOp.STATFS, {}, FrameKind.RESPONSE, opts));
  }

  async *readdirPages(path: string, opts?: CallOptions): AsyncIterableIterator<ReaddirPage> {
    let cursor: number | undefined = 0;
    const wire = toWirePath(path);
    while (cursor !== undefined) {
      const body: Uint8Array = await this.#call(
        FsOp.READDIR,
        { path: wire, cursor, limit: this.#opts.readdirPageSize },
        FrameKind.RESPONSE,
        opts,
      );
      const page: ReaddirResult = decodeOr(decodeReaddirResult, body);
      if (page.next !== undefined && page.next <= cursor)
        throw RemoteFsError.EIO('host returned a non-advancing cursor');
      cursor = page.next;
      yield { entries: page.entries, next: page.next };
    }
  }

  async readdir(path: string, opts?: CallOptions): Promise<DirEntry[]> {
    const all: DirEntry[] = [];
    for await (const page of this.readdirPages(path, opts)) all.push(...page.entries);
    return all;
  }

  async read(
    path: string,
    offset: number,
    length: number,
    version?: string,
    opts?: CallOptions,
  ): Promise<Uint8Array> {
    checkRange(offset, length);
    if (length === 0) return new Uint8Array(0);
    const chunk = this.#readChunk();
    // One piece: the frame body itself, no copy.
    if (Math.floor(offset / chunk) === Math.floor((offset + length - 1) / chunk))
      return this.#readPiece(toWirePath(path), offset, length, version, opts?.signal);
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for await (const data of this.readChunks(path, offset, length, version, opts)) {
      out.set(data, at);
      at += data.byteLength;
    }
    return at === length ? out : out.subarray(0, at);
  }

  async *readChunks(
    path: string,
    offset: number,
    length: number,
    version?: string,
    opts?: CallOptions,
  ): AsyncIterableIterator<Uint8Array> {
    checkRange(offset, length);
    const wire = toWirePath(path);
    const chunk = this.#readChunk();
    const end = offset + length;
    const ctl = new AbortController();
    // One listener per in-flight piece is expected, not a leak.
    setMaxListeners(0, ctl.signal);
    const onAbort = () => ctl.abort();
    opts?.signal?.addEventListener('abort', onAbort, { once: true });
    // Pieces split at chunk boundaries, so a cache keyed by chunk index sees aligned pieces.
    const inflight: { len: number; data: Promise<Uint8Array> }[] = [];
    let next = offset;
    const window = this.#opts.readWindow;
    // Requests go out in groups of half the window, not one per piece consumed: a transport
    // carries a group in one write, and writes cost the reader. Webtransport's HTTP/2 mode
    // moved ~9 % less when its client wrote once per MiB received than with no writes or one
    // per 4 MiB; 24 pieces in groups of 12 (a write per 3 MiB) read 570-593 MB/s where 16 in
    // fours read 511-581 (remotefs-read.ts, alternating runs). A larger window (32 in groups of
    // 16) read less, at more client CPU (docs/bench/remotefs.md).
    const group = Math.max(1, Math.floor(window / 2));
    const issue = () => {
      if (inflight.length > 0 && window - inflight.length < group) return;
      while (inflight.length < window && next < end) {
        const len = Math.min(end, (Math.floor(next / chunk) + 1) * chunk) - next;
        const data = this.#readPiece(wire, next, len, version, ctl.signal);
        // Settled by the consumer in order; a piece failing while an earlier one is awaited
        // must not count as unhandled.
        data.catch(() => {});
        inflight.push({ len, data });
        next += len;
      }
    };
    try {
      issue();
      while (inflight.length > 0) {
        const piece = inflight.shift()!;
        const data = await piece.data;
        // A short piece is the end of the file: nothing after it exists.
        if (data.byteLength < piece.len) {
          if (data.byteLength > 0) yield data;
          return;
        }
        issue();
        yield data;
      }
    } finally {
      opts?.signal?.removeEventListener('abort', onAbort);
      // Leaving early (break, error, EOF) cancels the reads still in flight.
      if (inflight.length > 0) ctl.abort();
    }
  }

  #readChunk(): number {
    return Math.min(this.chunkSize, MAX_READ_BYTES);
  }

  #readPiece(
    wire: string,
    offset: number,
    length: number,
    version: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    return this.#call(
      FsOp.READ,
      version === undefined ? { path: wire, offset, length } : { path: wire, offset, length, version },
      FrameKind.DATA,
      signal ? { signal } : undefined,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#conn?.close('client closed');
    this.#conn = undefined;
    await this.#reconnecting;
  }
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
    throw RemoteFsError.EINVAL('offset and length must be non-negative integers');
}

function decodeOr<T>(decode: (b: Uint8Array) => T, body: Uint8Array): T {
  try {
    return decode(body);
  } catch (err) {
    throw RemoteFsError.EIO('host sent an undecodable answer', err);
  }
}

/**
 * Connects to a host and resolves once the first connection is up (HELLO exchanged). Later
 * drops are repaired in the background with exponential backoff; while down, calls fail
 * fast with ENOTCONN. Rejects with EngineError when the first connection cannot be made.
 */
export async function createRemoteFs(options: RemoteFsOptions): Promise<RemoteFs> {
  const fs = new RemoteFsImpl(options);
  await fs.establish();
  return fs;
}
