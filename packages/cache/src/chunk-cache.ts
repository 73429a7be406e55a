import { CacheError } from './cache-error.js';
import type { ChunkHashAlgorithm } from './chunk-hash.js';
import { type ChunkKey, chunkKeyString } from './chunk-key.js';
import { FileCopies, type FileCopyStats } from './file-copies.js';
import type { PutItem, VerifyProgress } from './l2-messages.js';
import { L2Store } from './l2-store.js';
import type { WriterMode } from './l2-writer-host.js';
import { MemoryLru } from './memory-lru.js';

export type { VerifyProgress } from './l2-messages.js';

/** Options of {@link openChunkCache}. */
export interface ChunkCacheOptions {
  /** L1 bound in bytes (`[cache] l1_size`). Default 256 MiB. */
  l1MaxBytes?: number;
  /** L2 SQLite file (`[cache] l2_path`). Omitted: L1 only. */
  l2Path?: string;
  /** L2 bound in chunk bytes (`[cache] l2_size`). Default 10 GiB. The file is ~3-7% larger (page overhead). */
  l2MaxBytes?: number;
  /** How long a write or read waits for another process's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Check algorithm for a new L2 file (an existing file keeps its own). Default 'crc32'. */
  hash?: ChunkHashAlgorithm;
  /** Where L2 writes, eviction and verify run. Default 'worker' (a thread with its own connection). */
  writer?: WriterMode;
  /**
   * Bytes allowed to wait for the L2 writer; beyond, fills skip L2 (counted). Default 128 MiB
   * (held only while a stream outruns the writer: the ring is released 2 s after). Measured on
   * a 1 GiB cold read through the mount with the default 256 MiB L1: 64 MiB left 3,347-3,432 of
   * 4,096 chunks in L2, 128 MiB 3,993, 256 MiB all; the 4 KiB random reads after it
   * 8.4-8.8k -> 10.0-11.7k -> 11.0-13.7k IOPS (misses of both tiers go to the host).
   */
  maxPendingWriteBytes?: number;
  /**
   * When fills reach L2. 'idle' (default): a fill goes to L1 at once and is written to L2
   * once no fill arrived for `l2IdleMs` (the end of a stream), when L1 evicts it, or on
   * flush/close, so a network-bound cold read never shares the CPU with the SQLite writer.
   * 'immediate': queued for the writer at once.
   */
  l2Admission?: 'idle' | 'immediate';
  /** Quiet time after the last fill before 'idle' admission writes to L2. Default 200 ms. */
  l2IdleMs?: number;
  /**
   * When better-sqlite3 cannot load: `true` (default) makes openChunkCache reject with
   * CACHE_L2_UNAVAILABLE; `false` opens L1-only and reports the error in `stats().l2.error`.
   */
  requireL2?: boolean;
  /**
   * Directory of whole-file copies (FileCopies: what FUSE passthrough reads). Omitted: none.
   * A file streamed from its start is written there instead of into L2 (see recordCopy).
   */
  copiesDir?: string;
  /** Bound of the copies' bytes (`[cache] copies_size`). Default 10 GiB. */
  copiesMaxBytes?: number;
  /** A copy whose stream stopped this long is given up, its chunks moved to L2. Default 30000 ms. */
  copiesStallMs?: number;
}

/** Counters of one tier. Hits/misses/evictions count since this cache object was opened. */
export interface TierStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 when there was no lookup. */
  hitRate: number;
  evictions: number;
}

/** What `wormhole cache stats` and the desktop app show. */
export interface CacheStats {
  l1: TierStats;
  /** `entries`/`bytes` are the whole file's (shared by every process using it); the counters are this object's. */
  l2: TierStats & {
    /** False when L2 is not configured or could not open. */
    available: boolean;
    /** The SQLite file, when configured. */
    path?: string;
    /** Chunks whose check failed on read, load or verify (dropped, never served). */
    corruptDropped: number;
    /** Chunks read ahead from L2 into L1 by {@link ChunkCache.loadAhead}. */
    prefetched: number;
    /** Fills skipped because the writer was behind by more than maxPendingWriteBytes. */
    writesDropped: number;
    /** Bytes waiting for the writer. */
    pendingWriteBytes: number;
    /** Fills held in L1 only until the next idle moment ('idle' admission). */
    deferredWrites: number;
    /** Failed reads (treated as misses) and failed write batches (lost fills). */
    readErrors: number;
    writeErrors: number;
    /** Why L2 is unavailable, or its last error. */
    error?: string;
  };
  /** Whole-file copies, when configured. */
  copies?: FileCopyStats;
}

/** Result of {@link ChunkCache.verify}. */
export interface VerifyReport extends VerifyProgress {
  /** Whole-file copies checked against their crc32s, and how many were bad (removed). */
  copies?: { checked: number; corrupt: number };
}

/** The two-tier chunk cache. Knows nothing of peers: callers bring chunk bytes. */
export interface ChunkCache {
  /** L1, then L2 (verified; promoted to L1). Counts hits and misses. Never touches the network. */
  get(key: ChunkKey): Uint8Array | undefined;
  /**
   * Bytes `[start, end)` of a chunk: from L1, else from L2 reading and verifying only the
   * 4 KiB blocks that hold the range (not promoted to L1: for small random reads, where
   * reading the whole chunk would cost several times the read). Counted like get.
   */
  getRange(key: ChunkKey, start: number, end: number): Uint8Array | undefined;
  /** True when either tier holds the chunk; changes no counter and no LRU order. */
  has(key: ChunkKey): boolean;
  /**
   * Read-ahead support: resolves with each chunk's bytes (or `undefined` when in neither
   * tier) and leaves found chunks in L1. L1 hits resolve at once; the rest are read and
   * verified in the L2 writer thread, off the caller's thread. Counted as `l2.prefetched`,
   * not as hits or misses (the read that follows counts).
   */
  loadAhead(keys: readonly ChunkKey[]): Promise<Array<Uint8Array | undefined>>;
  /** Stores a chunk: L1 now, L2 in the background (batched). The bytes must not change afterwards. */
  put(key: ChunkKey, bytes: Uint8Array): void;
  /**
   * Drops every version of `file` from both tiers. Fills of `file` that started before the
   * call and complete after it are discarded (see {@link ChunkCache.fileEpoch}).
   */
  invalidateFile(file: string): Promise<void>;
  /** Drops everything from both tiers (counters are kept). */
  invalidateAll(): Promise<void>;
  /** A counter bumped by invalidateFile/invalidateAll; a fill started at another epoch is discarded. */
  fileEpoch(file: string): number;
  /** Stores a chunk unless `file` was invalidated since `epoch` was read. */
  putIfCurrent(key: ChunkKey, bytes: Uint8Array, epoch: number): void;
  /** Resolves when every L2 write queued before the call is committed (and whole-file copies are named and checksummed). */
  flush(): Promise<void>;
  stats(): CacheStats;
  /** Drops everything and resets the counters. */
  clear(): Promise<void>;
  /** Rehashes every L2 chunk, drops corrupt ones; L1-only caches report zeros. */
  verify(onProgress?: (p: VerifyProgress) => void): Promise<VerifyReport>;
  /**
   * A complete local copy of `file`@`version` (`size` bytes), to hand to FUSE passthrough;
   * undefined without one (or without a copies directory).
   */
  localCopy(file: string, version: string, size: number): string | undefined | Promise<string | undefined>;
  /** Whether localCopy would find a complete copy now, without counting it as served. */
  hasLocalCopy(file: string, version: string, size: number): boolean;
  /**
   * Starts copying `file`@`version` whole: from now on its chunks are written to the copy
   * (and kept in L1) instead of going to L2; chunks cached before are taken from the tiers.
   * False when it is not recorded (no copies directory, too small, copied already).
   */
  recordCopy(file: string, version: string, size: number, chunkSize: number): boolean;
  /** True while `file`@`version` is being copied whole (see recordCopy). */
  isCopying(file: string, version: string): boolean;
  /**
   * Lets go of a chunk of a file being copied whole once its reader has passed it: the copy
   * holds it. False (nothing dropped) when the file is not being copied.
   */
  passCopied(key: ChunkKey): boolean;
  /** Commits queued writes and closes the file. Later calls: get/has miss, put is ignored. */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

function positive(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < 0)
    throw CacheError.INVALID_ARGUMENT(`${name} must be a non-negative integer`);
  return n;
}

/**
 * Opens the two-tier cache. L2 (when `l2Path` is set) persists across restarts and may be
 * shared by several processes (SQLite locking, WAL, busy timeout).
 */
export async function openChunkCache(options: ChunkCacheOptions = {}): Promise<ChunkCache> {
  const l1 = new MemoryLru(positive('l1MaxBytes', options.l1MaxBytes, 256 * MiB));
  let l2: L2Store | undefined;
  let l2Error: string | undefined;
  if (options.l2Path !== undefined) {
    try {
      l2 = await L2Store.open({
        path: options.l2Path,
        maxBytes: positive('l2MaxBytes', options.l2MaxBytes, 10 * 1024 * MiB),
        busyTimeoutMs: positive('busyTimeoutMs', options.busyTimeoutMs, 5000),
        hash: options.hash ?? 'crc32',
        writer: options.writer ?? 'worker',
        maxPendingBytes: positive('maxPendingWriteBytes', options.maxPendingWriteBytes, 128 * MiB),
      });
    } catch (err) {
      if (options.requireL2 !== false || !(err instanceof CacheError) || err.code !== 'CACHE_L2_UNAVAILABLE')
        throw err;
      l2Error = err.message;
    }
  }
  const copies =
    options.copiesDir === undefined
      ? undefined
      : await FileCopies.open({
          dir: options.copiesDir,
          maxBytes: positive('copiesMaxBytes', options.copiesMaxBytes, 10 * 1024 * MiB),
          stallMs: positive('copiesStallMs', options.copiesStallMs, 30_000),
        });
  const cache = new TwoTierCache(
    l1,
    l2,
    l2Error,
    options.l2MaxBytes ?? 10 * 1024 * MiB,
    options.l2Path,
    copies,
  );
  cache.deferWrites(options.l2Admission !== 'immediate', positive('l2IdleMs', options.l2IdleMs, 200));
  return cache;
}

class TwoTierCache implements ChunkCache {
  #l1: MemoryLru;
  #l2: L2Store | undefined;
  #l2Error: string | undefined;
  #l2Max: number;
  #l2Path: string | undefined;
  #epochs = new Map<string, number>();
  #globalEpoch = 0;
  #closed = false;
  #c = { l1Hits: 0, l1Misses: 0, l2Hits: 0, l2Misses: 0, prefetched: 0 };
  /** 'idle' admission: fills in L1 not yet handed to the L2 writer, oldest first. */
  #dirty = new Map<string, PutItem>();
  #defer = false;
  #idleMs = 200;
  #lastPut = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #forced = 0;
  #copies: FileCopies | undefined;

  constructor(
    l1: MemoryLru,
    l2: L2Store | undefined,
    l2Error: string | undefined,
    l2Max: number,
    l2Path?: string,
    copies?: FileCopies,
  ) {
    this.#copies = copies;
    this.#l1 = l1;
    this.#l2 = l2;
    this.#l2Error = l2Error;
    this.#l2Max = l2Max;
    this.#l2Path = l2Path;
    // A deferred fill that L1 pushes out goes to the writer now (or is dropped and counted
    // when the writer is too far behind, as an immediate fill would be).
    l1.onEvict = (k) => {
      const item = this.#dirty.get(k);
      if (item === undefined) return;
      this.#dirty.delete(k);
      this.#l2?.put(item);
    };
  }

  deferWrites(on: boolean, idleMs: number): void {
    this.#defer = on && this.#l2 !== undefined;
    this.#idleMs = idleMs;
  }

  #armIdle(): void {
    if (this.#idleTimer !== undefined) return;
    const wait = Math.max(1, this.#lastPut + this.#idleMs - performance.now());
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (performance.now() - this.#lastPut < this.#idleMs) this.#armIdle();
      else void this.#drain();
    }, wait);
    this.#idleTimer.unref();
  }

  /**
   * Hands deferred fills to the writer, oldest first, never more than the writer's
   * backlog bound at a time (so nothing is dropped). Stops when a new fill arrives (a stream
   * resumed) unless a flush/close forces it.
   */
  #drain(): Promise<void> {
    this.#draining ??= (async () => {
      const l2 = this.#l2;
      while (l2?.writable === true && this.#dirty.size > 0) {
        if (this.#forced === 0 && performance.now() - this.#lastPut < this.#idleMs) {
          this.#armIdle();
          return;
        }
        const [k, item] = this.#dirty.entries().next().value as [string, PutItem];
        if (!l2.hasRoomFor(item.bytes.byteLength)) {
          await l2.waitForRoom();
          continue;
        }
        this.#dirty.delete(k);
        l2.put(item);
      }
    })().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drainAll(): Promise<void> {
    this.#forced++;
    try {
      while (this.#dirty.size > 0 && this.#l2?.writable === true) await this.#drain();
    } finally {
      this.#forced--;
    }
  }

  get(key: ChunkKey): Uint8Array | undefined {
    if (this.#closed) return undefined;
    const k = chunkKeyString(key);
    const hit = this.#l1.get(k);
    if (hit !== undefined) {
      this.#c.l1Hits++;
      return hit;
    }
    this.#c.l1Misses++;
    const bytes = this.#l2?.get(k);
    if (bytes === undefined) {
      if (this.#l2 !== undefined) this.#c.l2Misses++;
      // A file streamed whole went to its copy, not to L2.
      const copied = this.#copies?.readChunk(key.file, key.version, key.index);
      if (copied !== undefined) this.#l1.set(k, key.file, copied);
      return copied;
    }
    this.#c.l2Hits++;
    this.#l1.set(k, key.file, bytes);
    return bytes;
  }

  getRange(key: ChunkKey, start: number, end: number): Uint8Array | undefined {
    if (this.#closed) return undefined;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
      throw CacheError.INVALID_ARGUMENT('start and end must be integers with 0 <= start <= end');
    const k = chunkKeyString(key);
    const hit = this.#l1.get(k);
    if (hit !== undefined && hit.byteLength >= end) {
      this.#c.l1Hits++;
      return hit.subarray(start, end);
    }
    this.#c.l1Misses++;
    const bytes = this.#l2?.getRange(k, start, end);
    if (bytes === undefined) {
      if (this.#l2 !== undefined) this.#c.l2Misses++;
      return this.#copies?.readChunk(key.file, key.version, key.index, start, end);
    }
    this.#c.l2Hits++;
    return bytes;
  }

  has(key: ChunkKey): boolean {
    if (this.#closed) return false;
    const k = chunkKeyString(key);
    return (
      this.#l1.has(k) ||
      (this.#l2?.has(k) ?? false) ||
      (this.#copies?.hasCopy(key.file, key.version) ?? false)
    );
  }

  async loadAhead(keys: readonly ChunkKey[]): Promise<Array<Uint8Array | undefined>> {
    const out: Array<Uint8Array | undefined> = [];
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = chunkKeyString(keys[i]!);
      // Peek without reordering: the chunk is not used yet.
      const hit = this.#closed ? undefined : this.#l1.peek(k);
      out.push(hit);
      if (hit === undefined) missing.push(i);
    }
    // Chunks of a file copied whole come from its copy (a local read, like an L2 hit).
    const copies = this.#copies;
    if (copies !== undefined && !this.#closed)
      for (let j = missing.length - 1; j >= 0; j--) {
        const i = missing[j]!;
        const key = keys[i]!;
        const copied = copies.readChunk(key.file, key.version, key.index);
        if (copied === undefined) continue;
        out[i] = copied;
        this.#l1.set(chunkKeyString(key), key.file, copied);
        missing.splice(j, 1);
      }
    const l2 = this.#l2;
    if (missing.length === 0 || l2 === undefined || this.#closed) return out;
    const epochs = missing.map((i) => this.fileEpoch(keys[i]!.file));
    let loaded: Array<Uint8Array | null>;
    try {
      loaded = await l2.load(missing.map((i) => chunkKeyString(keys[i]!)));
    } catch {
      return out; // a failed L2 read is a miss: the caller fetches
    }
    missing.forEach((i, j) => {
      const bytes = loaded[j];
      if (bytes === null || bytes === undefined) return;
      const key = keys[i]!;
      out[i] = bytes;
      this.#c.prefetched++;
      if (!this.#closed && this.fileEpoch(key.file) === epochs[j])
        this.#l1.set(chunkKeyString(key), key.file, bytes);
    });
    return out;
  }

  put(key: ChunkKey, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (!Number.isSafeInteger(key.index) || key.index < 0)
      throw CacheError.INVALID_ARGUMENT('index must be >= 0');
    const k = chunkKeyString(key);
    // A file being copied whole: the copy is its persistent tier (a plain write, not a SQLite
    // transaction), so L2 is skipped.
    if (this.#copies?.write(key.file, key.version, key.index, bytes) === true || this.#l2 === undefined) {
      this.#l1.set(k, key.file, bytes);
      return;
    }
    // L1 keeps the transport's bytes (no copy when they are a frame body); the writer gets
    // them copied into a pooled shared slab when they are handed over (L2Store), so a fill
    // deferred and then dropped, or overwritten, costs no copy at all.
    const kept = this.#l1.set(k, key.file, bytes) ?? bytes;
    const item: PutItem = { key: k, file: key.file, version: key.version, index: key.index, bytes: kept };
    this.#dirty.delete(k);
    // Deferred only while L1 holds the bytes (so deferring costs no memory beyond L1's bound).
    if (!this.#defer || !this.#l1.has(k)) {
      this.#l2.put(item);
      return;
    }
    this.#dirty.set(k, item);
    this.#lastPut = performance.now();
    this.#armIdle();
  }

  fileEpoch(file: string): number {
    return this.#globalEpoch + (this.#epochs.get(file) ?? 0);
  }

  putIfCurrent(key: ChunkKey, bytes: Uint8Array, epoch: number): void {
    if (this.fileEpoch(key.file) === epoch) this.put(key, bytes);
  }

  localCopy(file: string, version: string, size: number): string | undefined | Promise<string | undefined> {
    if (this.#closed || this.#copies === undefined) return undefined;
    return this.#copies.lookupSettled(file, version, size);
  }

  hasLocalCopy(file: string, version: string, size: number): boolean {
    return !this.#closed && this.#copies !== undefined && this.#copies.has(file, version, size);
  }

  recordCopy(file: string, version: string, size: number, chunkSize: number): boolean {
    if (this.#closed || this.#copies === undefined) return false;
    const epoch = this.fileEpoch(file);
    return this.#copies.record(
      file,
      version,
      size,
      chunkSize,
      (index) => {
        const k = chunkKeyString({ file, version, index });
        return this.#l1.peek(k) ?? this.#l2?.get(k);
      },
      // A stream that stopped halfway: what it wrote to the copy goes to L2, paced by the writer.
      async (index, bytes) => {
        const l2 = this.#l2;
        if (l2 === undefined || this.#closed || this.fileEpoch(file) !== epoch) return;
        l2.put({ key: chunkKeyString({ file, version, index }), file, version, index, bytes });
        if (l2.pendingBytes > 32 * MiB) await l2.flush();
      },
    );
  }

  isCopying(file: string, version: string): boolean {
    return this.#copies?.isRecording(file, version) ?? false;
  }

  passCopied(key: ChunkKey): boolean {
    if (this.#closed || this.#copies?.isRecording(key.file, key.version) !== true) return false;
    this.#l1.delete(chunkKeyString(key));
    return true;
  }

  async invalidateFile(file: string): Promise<void> {
    this.#copies?.abandon(file);
    this.#epochs.set(file, (this.#epochs.get(file) ?? 0) + 1);
    this.#l1.deleteFile(file);
    for (const [k, item] of this.#dirty) if (item.file === file) this.#dirty.delete(k);
    await this.#l2?.invalidateFile(file);
  }

  async invalidateAll(): Promise<void> {
    this.#globalEpoch++;
    this.#copies?.abandonAll();
    this.#l1.clear();
    this.#dirty.clear();
    await this.#l2?.clear();
  }

  async flush(): Promise<void> {
    await this.#drainAll();
    await this.#l2?.flush();
    await this.#copies?.idle();
  }

  stats(): CacheStats {
    const rate = (h: number, m: number): number => (h + m === 0 ? 0 : h / (h + m));
    const l2 = this.#l2;
    const totals = l2?.totals() ?? { entries: 0, bytes: 0 };
    const error = this.#l2Error ?? l2?.lastError;
    return {
      l1: {
        entries: this.#l1.size,
        bytes: this.#l1.bytes,
        maxBytes: this.#l1.maxBytes,
        hits: this.#c.l1Hits,
        misses: this.#c.l1Misses,
        hitRate: rate(this.#c.l1Hits, this.#c.l1Misses),
        evictions: this.#l1.evictions,
      },
      l2: {
        available: l2 !== undefined,
        ...(this.#l2Path === undefined ? {} : { path: this.#l2Path }),
        entries: totals.entries,
        bytes: totals.bytes,
        maxBytes: this.#l2Max,
        hits: this.#c.l2Hits,
        misses: this.#c.l2Misses,
        hitRate: rate(this.#c.l2Hits, this.#c.l2Misses),
        evictions: l2?.evictions ?? 0,
        corruptDropped: l2?.corruptDropped ?? 0,
        prefetched: this.#c.prefetched,
        writesDropped: l2?.writesDropped ?? 0,
        pendingWriteBytes: l2?.pendingBytes ?? 0,
        deferredWrites: this.#dirty.size,
        readErrors: l2?.readErrors ?? 0,
        writeErrors: l2?.writeErrors ?? 0,
        ...(error === undefined ? {} : { error }),
      },
      ...(this.#copies === undefined ? {} : { copies: this.#copies.stats() }),
    };
  }

  async clear(): Promise<void> {
    await this.invalidateAll();
    await this.#copies?.clear();
    this.#c = { l1Hits: 0, l1Misses: 0, l2Hits: 0, l2Misses: 0, prefetched: 0 };
    this.#l1.evictions = 0;
    if (this.#l2) {
      this.#l2.evictions = 0;
      this.#l2.corruptDropped = 0;
      this.#l2.writesDropped = 0;
    }
  }

  async verify(onProgress?: (p: VerifyProgress) => void): Promise<VerifyReport> {
    if (this.#closed) throw CacheError.CLOSED();
    const copies = await this.#copies?.verify();
    const withCopies = copies === undefined ? {} : { copies };
    if (this.#l2 === undefined) return { checked: 0, total: 0, corrupt: 0, ...withCopies };
    const r = await this.#l2.verify(onProgress);
    this.#l2.corruptDropped += r.corrupt;
    return { ...r, ...withCopies };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    await this.#drainAll();
    this.#l1.clear();
    await this.#copies?.close();
    await this.#l2?.close();
  }
}
