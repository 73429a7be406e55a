import { CacheError, type CacheErrorCode } from './cache-error.js';
import {
  blocksMatch,
  CHECK_BLOCK,
  type ChunkHashAlgorithm,
  checksBlocks,
  chunkMatches,
} from './chunk-hash.js';
import type { FromWriter, LoadResult, PutItem, Touches, ToWriter, VerifyProgress } from './l2-messages.js';
import { openL2 } from './l2-schema.js';
import { startWriter, type WriterChannel, type WriterMode } from './l2-writer-host.js';
import { SharedSlabs } from './shared-slabs.js';
import type { SqliteDatabase } from './sqlite-binding.js';

/** Options of the L2 store (defaults applied by openChunkCache). */
export interface L2StoreOptions {
  path: string;
  maxBytes: number;
  busyTimeoutMs: number;
  hash: ChunkHashAlgorithm;
  writer: WriterMode;
  maxPendingBytes: number;
}

/** Chunks per write message (one transaction each). */
const BATCH_ITEMS = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Touches are flushed with the next write, when this many pile up, or after this delay. */
const TOUCH_MAX = 1024;
const TOUCH_DELAY_MS = 500;

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  progress?: (p: VerifyProgress) => void;
};

/**
 * L2: the SQLite store. Reads run synchronously on the caller's thread through their own
 * connection (a 128 KiB blob read is tens of microseconds and WAL never blocks it); every
 * write goes to the writer (worker thread) in batches.
 */
export class L2Store {
  readonly path: string;
  readonly maxBytes: number;
  readonly hashAlgorithm: ChunkHashAlgorithm;
  evictions = 0;
  corruptDropped = 0;
  writesDropped = 0;
  writeErrors = 0;
  readErrors = 0;
  lastError: string | undefined;
  pendingBytes = 0;

  #db: SqliteDatabase;
  /** The writer, started by the first write or request (see `#writer`). */
  #channel: WriterChannel | undefined;
  readonly #startChannel: () => WriterChannel;
  #maxPending: number;
  #queue: PutItem[] = [];
  #queueBytes = 0;
  #flushScheduled = false;
  #touches = new Map<number, number>();
  #touchTimer: NodeJS.Timeout | undefined;
  #tick = 0;
  #rid = 0;
  #requests = new Map<number, Pending>();
  #roomWaiters: Array<() => void> = [];
  #failed: CacheError | undefined;
  #closed = false;
  readonly #slabs: SharedSlabs;
  #read;
  #readRange;
  #has;
  #totals;
  #delete;

  private constructor(
    db: SqliteDatabase,
    alg: ChunkHashAlgorithm,
    startChannel: () => WriterChannel,
    opts: L2StoreOptions,
  ) {
    this.path = opts.path;
    this.maxBytes = opts.maxBytes;
    this.hashAlgorithm = alg;
    this.#db = db;
    this.#startChannel = startChannel;
    this.#maxPending = opts.maxPendingBytes;
    this.#slabs = new SharedSlabs(opts.maxPendingBytes + BATCH_BYTES);
    this.#read = db.prepare<[string], { id: number; size: number; hash: Buffer; blob: Buffer }>(
      'SELECT m.id, m.size, m.hash, d.blob FROM meta m JOIN data d ON d.id = m.id WHERE m.key = ?',
    );
    // substr() on a BLOB counts bytes from 1 and copies only the part out of SQLite.
    this.#readRange = db.prepare<
      [number, number, string],
      { id: number; size: number; hash: Buffer; part: Buffer }
    >(
      'SELECT m.id, m.size, m.hash, substr(d.blob, ?, ?) AS part FROM meta m JOIN data d ON d.id = m.id WHERE m.key = ?',
    );
    this.#has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM meta WHERE key = ?');
    this.#totals = db.prepare<[], { entries: number; bytes: number }>('SELECT entries, bytes FROM totals');
    this.#delete = db.prepare<[number]>('DELETE FROM meta WHERE id = ?');
  }

  /**
   * The writer thread, started on first use: it loads its own copy of Node's internals and
   * SQLite (~150 ms of a core here), which a mount paid between its connection and its FUSE
   * mount, and, once that no longer waited for it, during the user's first operations on a
   * 2-core machine (`find` 0.16 -> 0.23 s in the same harness). Reads never need it (they use
   * this thread's connection); the first write, the first LRU touch or a request does.
   */
  get #writer(): WriterChannel {
    if (this.#channel === undefined) {
      const channel = this.#startChannel();
      this.#channel = channel;
      channel.onMessage((m) => this.#onMessage(m));
      channel.onFailure((err) => this.#fail(err));
    }
    return this.#channel;
  }

  /** Opens the file (creating it); the writer starts when first needed. */
  static async open(opts: L2StoreOptions): Promise<L2Store> {
    const conn = openL2(opts.path, opts.busyTimeoutMs, opts.hash);
    const init = {
      path: opts.path,
      busyTimeoutMs: opts.busyTimeoutMs,
      hash: conn.hashAlgorithm,
      maxBytes: opts.maxBytes,
    };
    return new L2Store(conn.db, conn.hashAlgorithm, () => startWriter(init, opts.writer), opts);
  }

  /** Strictly increasing per process; comparable across processes (microseconds since epoch). */
  #nextTick(): number {
    this.#tick = Math.max(Date.now() * 1000, this.#tick + 1);
    return this.#tick;
  }

  /**
   * Returns the verified chunk, or `undefined` on a miss. A chunk whose check fails is
   * deleted and reported as a miss (the caller refetches); it is never returned.
   */
  get(key: string): Buffer | undefined {
    if (this.#closed) return undefined;
    let row: { id: number; size: number; hash: Buffer; blob: Buffer } | undefined;
    try {
      row = this.#read.get(key);
    } catch (err) {
      // SQLITE_CORRUPT in a b-tree page and the like: a miss, never a crash of the read.
      this.readErrors++;
      this.lastError = String(err);
      return undefined;
    }
    if (row === undefined) return undefined;
    if (row.blob.byteLength !== row.size || !chunkMatches(this.hashAlgorithm, row.blob, row.hash))
      return this.#dropCorrupt(row.id);
    this.#touch(row.id);
    return row.blob;
  }

  /** A chunk whose check failed: deleted, counted, reported to the caller as a miss. */
  #dropCorrupt(id: number): undefined {
    this.corruptDropped++;
    try {
      this.#delete.run(id);
    } catch (err) {
      this.lastError = String(err);
    }
    return undefined;
  }

  /** Records a read for the LRU order (sent to the writer in batches). */
  #touch(id: number): void {
    this.#touches.set(id, this.#nextTick());
    this.#scheduleTouches();
  }

  /**
   * Returns bytes `[start, end)` of the chunk, verified block by block, without reading the
   * rest of it; `undefined` on a miss, when the chunk is shorter than `end`, or when a block's
   * check fails (the chunk is then deleted, as in get). Algorithms without block checks
   * (sha256) read and verify the whole chunk.
   */
  getRange(key: string, start: number, end: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    if (!checksBlocks(this.hashAlgorithm)) return this.get(key)?.subarray(start, end);
    const from = Math.floor(start / CHECK_BLOCK) * CHECK_BLOCK;
    const to = Math.ceil(end / CHECK_BLOCK) * CHECK_BLOCK;
    let row: { id: number; size: number; hash: Buffer; part: Buffer } | undefined;
    try {
      row = this.#readRange.get(from + 1, to - from, key);
    } catch (err) {
      this.readErrors++;
      this.lastError = String(err);
      return undefined;
    }
    if (row === undefined) return undefined;
    if (row.size < end) return undefined;
    const expected = Math.min(to, row.size) - from;
    if (row.part.byteLength !== expected || !blocksMatch(row.part, from / CHECK_BLOCK, row.hash))
      return this.#dropCorrupt(row.id);
    this.#touch(row.id);
    return row.part.subarray(start - from, end - from);
  }

  /** True when the key is stored (no hash check, no LRU update). */
  has(key: string): boolean {
    if (this.#closed) return false;
    try {
      return this.#has.get(key) !== undefined;
    } catch {
      return false;
    }
  }

  /** False once closed or failed: puts are ignored from then on. */
  get writable(): boolean {
    return !this.#closed && this.#failed === undefined;
  }

  /** True when a put of `size` bytes would not be dropped for backpressure now. */
  hasRoomFor(size: number): boolean {
    return this.pendingBytes === 0 || this.pendingBytes + size <= this.#maxPending;
  }

  /** Resolves when the writer reports progress (a batch committed), fails or closes. */
  waitForRoom(): Promise<void> {
    if (this.pendingBytes === 0 || !this.writable) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #wakeRoomWaiters(): void {
    const w = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const fn of w) fn();
  }

  /** Queues a write; dropped (and counted) when too many bytes already wait for the writer. */
  put(item: PutItem): void {
    if (this.#closed || this.#failed) return;
    const size = item.bytes.byteLength;
    if (size > this.maxBytes) return;
    if (this.pendingBytes + size > this.#maxPending) {
      this.writesDropped++;
      return;
    }
    this.pendingBytes += size;
    this.#queue.push(item);
    this.#queueBytes += size;
    this.#writer.setActive(true);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushQueue());
    }
  }

  #flushQueue(): void {
    this.#flushScheduled = false;
    while (this.#queue.length > 0) {
      const items: PutItem[] = [];
      let bytes = 0;
      while (this.#queue.length > 0 && items.length < BATCH_ITEMS) {
        const size = this.#queue[0]!.bytes.byteLength;
        if (items.length > 0 && bytes + size > BATCH_BYTES) break;
        items.push(this.#queue.shift()!);
        bytes += size;
      }
      this.#queueBytes -= bytes;
      const shared = this.#slabs.pack(items.map((it) => it.bytes));
      const sent = items.map((it, i) => ({ ...it, bytes: shared[i]! }));
      this.#send({ t: 'put', items: sent, touches: this.#takeTouches(), tick: this.#nextTick(), bytes });
    }
  }

  #takeTouches(): Touches {
    const t: Touches = [...this.#touches];
    this.#touches.clear();
    return t;
  }

  #scheduleTouches(): void {
    if (this.#touches.size >= TOUCH_MAX) {
      this.#send({ t: 'touch', touches: this.#takeTouches() });
      return;
    }
    if (this.#touchTimer === undefined) {
      this.#touchTimer = setTimeout(() => {
        this.#touchTimer = undefined;
        if (this.#touches.size > 0 && !this.#closed) this.#send({ t: 'touch', touches: this.#takeTouches() });
      }, TOUCH_DELAY_MS);
      this.#touchTimer.unref();
    }
  }

  #send(m: ToWriter): void {
    if (this.#failed) return;
    this.#writer.send(m);
  }

  #request<T>(make: (rid: number) => ToWriter, progress?: (p: VerifyProgress) => void): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    this.#flushQueue();
    const rid = ++this.#rid;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (v: unknown) => void, reject };
      if (progress) pending.progress = progress;
      this.#requests.set(rid, pending);
      this.#writer.setActive(true);
      this.#send(make(rid));
    });
  }

  #onMessage(m: FromWriter): void {
    switch (m.t) {
      case 'putDone':
        this.#slabs.release();
        this.pendingBytes -= m.bytes;
        this.evictions += m.evicted;
        if (m.error !== undefined) {
          this.writeErrors++;
          this.lastError = m.error;
        }
        this.#wakeRoomWaiters();
        break;
      case 'progress':
        this.#requests.get(m.rid)?.progress?.(m.progress);
        break;
      case 'done':
      case 'failed': {
        const p = this.#requests.get(m.rid);
        this.#requests.delete(m.rid);
        if (m.t === 'done') p?.resolve(m.value);
        else p?.reject(new CacheError(m.code as CacheErrorCode, m.message));
        break;
      }
      default:
        break;
    }
    this.#channel?.setActive(this.#requests.size > 0 || this.pendingBytes > 0);
  }

  #fail(err: CacheError): void {
    this.#failed = err;
    this.lastError = err.message;
    for (const p of this.#requests.values()) p.reject(err);
    this.#requests.clear();
    this.pendingBytes = 0;
    this.#queue = [];
    this.#slabs.clear();
    this.#wakeRoomWaiters();
  }

  /** Resolves when every write queued before the call is committed. */
  async flush(): Promise<void> {
    // Nothing was ever written through this store: no thread to start for it.
    if (this.#channel === undefined && this.#queue.length === 0) return;
    await this.#request((rid) => ({ t: 'sync', rid }));
  }

  /** Deletes every version of `file`; resolves with the number of chunks removed. */
  invalidateFile(file: string): Promise<number> {
    return this.#request((rid) => ({ t: 'invalidateFile', rid, file }));
  }

  /** Deletes everything; resolves with the number of chunks removed. */
  clear(): Promise<number> {
    this.#queue = [];
    this.pendingBytes -= this.#queueBytes;
    this.#queueBytes = 0;
    return this.#request((rid) => ({ t: 'clear', rid }));
  }

  /** Reads and verifies chunks in the writer thread (read-ahead); null = not stored. */
  async load(keys: string[]): Promise<Array<Uint8Array | null>> {
    const r = await this.#request<LoadResult>((rid) => ({ t: 'load', rid, keys, tick: this.#nextTick() }));
    this.corruptDropped += r.corrupt;
    return r.chunks;
  }

  /** Rehashes every chunk in the writer, dropping corrupt ones. */
  verify(onProgress?: (p: VerifyProgress) => void): Promise<VerifyProgress> {
    return this.#request((rid) => ({ t: 'verify', rid }), onProgress);
  }

  /** Entries and bytes in the file (all processes), from the running totals. */
  totals(): { entries: number; bytes: number } {
    if (this.#closed) return { entries: 0, bytes: 0 };
    try {
      return this.#totals.get() ?? { entries: 0, bytes: 0 };
    } catch {
      return { entries: 0, bytes: 0 };
    }
  }

  /** Writes what is queued (and the LRU touches), then closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#touchTimer) clearTimeout(this.#touchTimer);
    try {
      const used = this.#channel !== undefined || this.#queue.length > 0 || this.#touches.size > 0;
      if (!this.#failed && used) {
        if (this.#touches.size > 0) this.#send({ t: 'touch', touches: this.#takeTouches() });
        // A writer that fails meanwhile (one that could not open the file, say, its directory
        // removed before the thread started) has lost what it held: `lastError` says so, and
        // closing still closes.
        await this.#request((rid) => ({ t: 'close', rid })).catch(() => {});
      }
    } finally {
      this.#closed = true;
      this.#wakeRoomWaiters();
      await this.#channel?.terminate();
      this.#db.close();
    }
  }
}
