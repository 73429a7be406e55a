import { CacheError } from './cache-error.js';
import type { ChunkCache } from './chunk-cache.js';
import { type ChunkKey, chunkKeyString } from './chunk-key.js';

/**
 * Fetches one chunk from wherever the bytes live (the engine: the host over a transport).
 * Must resolve with exactly `min(chunkSize, fileSize - index * chunkSize)` bytes and should
 * stop work and reject when `signal` aborts.
 */
export type FetchChunk = (
  file: string,
  version: string,
  index: number,
  signal: AbortSignal,
) => Promise<Uint8Array>;

/**
 * Fetches an arbitrary byte range (the engine: one host read). Optional: with it, a small
 * random read that misses the cache fetches just its bytes instead of its whole chunk, and
 * they are not cached (the kernel page cache keeps them while the file is unchanged).
 * Measured on a fresh mount, fio 4 KiB random reads of a 1 GiB file: 476-520 IOPS fetching
 * chunks, 650-720 fetching the range and filling the chunk behind it (one fill at a time: the
 * range answer queues behind the fill on the wire), 1,610-1,720 fetching the range only.
 */
export type FetchRange = (
  file: string,
  version: string,
  offset: number,
  length: number,
  signal: AbortSignal,
) => Promise<Uint8Array>;

/** Sequential read-ahead tuning. */
export interface ReadAheadOptions {
  /** Chunks fetched ahead once a handle reads sequentially. Default 2. */
  initialChunks?: number;
  /** The window doubles per sequential chunk up to this many chunks. Default 32. */
  maxChunks?: number;
  /** And never beyond this many bytes in flight ahead of the reader, per handle. Default 8 MiB. */
  maxBytes?: number;
  /**
   * Chunks ahead that are in L2 are read and verified by the L2 writer thread (batches of a
   * quarter window) instead of on the reader's thread when the read arrives. Frees the
   * caller's thread, but measured ~2x slower for warm sequential L2 reads (the reader waits
   * on round trips; docs/bench/cache.md), so off by default.
   */
  loadL2InWriter?: boolean;
}

/**
 * Recommended chunk size: 256 KiB. Measured (docs/bench/cache.md): L2 reads through the
 * reader 1.2-1.4x faster than 128 KiB chunks, half the rows, hash calls and requests.
 */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

/** Options of {@link createChunkReader}. */
export interface ChunkReaderOptions {
  cache: ChunkCache;
  /** Bytes per chunk ({@link DEFAULT_CHUNK_SIZE} recommended, see README). Part of every key. */
  chunkSize: number;
  fetchChunk: FetchChunk;
  /** See {@link FetchRange}. Without it, every miss waits for its whole chunk. */
  fetchRange?: FetchRange;
  /** `false` disables read-ahead. */
  readAhead?: ReadAheadOptions | false;
}

/** Identifies an open file (a FUSE fh, say); read-ahead state is kept per handle. */
export type ReadHandle = number | string;

/** Reader counters (since creation). */
export interface ReaderStats {
  /** fetchChunk calls (demand + read-ahead + warm). */
  fetches: number;
  /** Of those, started by read-ahead. */
  readAheadFetches: number;
  /** Fetches aborted because no reader wanted them any more (seek, release, close). */
  cancelled: number;
  /** Reads that joined a fetch already in flight instead of starting another. */
  deduplicated: number;
  /** Fetches that failed (aborts excluded). */
  fetchErrors: number;
  /** Small random misses answered by a fetchRange call (not cached). */
  rangeFetches: number;
  /** Fetches in flight now. */
  inFlight: number;
}

/** Progress of {@link ChunkReader.warm}. */
export interface WarmProgress {
  file: string;
  doneChunks: number;
  totalChunks: number;
  doneBytes: number;
  totalBytes: number;
  /** Chunks that had to be fetched (the rest were cached). */
  fetched: number;
}

/** Reads byte ranges of versioned files through the cache, fetching and prefetching chunks. */
export interface ChunkReader {
  readonly chunkSize: number;
  /**
   * Reads `[offset, offset + length)` clipped to `fileSize`. Every byte comes from `version`
   * (keys carry it), never a mix. Cached chunks never call fetchChunk; a missing chunk's
   * fetch error is thrown as is (offline: fails as fast as fetchChunk does). The result may
   * be a view of a cached chunk: treat it as read-only.
   */
  read(
    file: string,
    version: string,
    fileSize: number,
    offset: number,
    length: number,
    handle?: ReadHandle,
  ): Promise<Uint8Array>;
  /**
   * As `read`, but the bytes as consecutive pieces (views of cached chunks, in order) rather
   * than one buffer: a caller that writes them out with one gather write (FUSE's reply) skips
   * the copy into a fresh buffer that `read` makes when a range spans chunks.
   */
  readParts(
    file: string,
    version: string,
    fileSize: number,
    offset: number,
    length: number,
    handle?: ReadHandle,
  ): Promise<Uint8Array[]>;
  /** Forgets a handle's read-ahead state and cancels its prefetches no one else wants. */
  release(handle: ReadHandle): void;
  /**
   * A complete local copy of the file (ChunkCache.localCopy), for FUSE passthrough. A promise
   * only while such a copy is being named (the stream that made it just ended).
   */
  localCopy(file: string, version: string, size: number): string | undefined | Promise<string | undefined>;
  /** Whether localCopy would find a complete copy now (ChunkCache.hasLocalCopy: not counted). */
  hasLocalCopy(file: string, version: string, size: number): boolean;
  /** True while the file is being copied whole (ChunkCache.recordCopy), so its bytes are kept on disk. */
  isCopying(file: string, version: string): boolean;
  /** True when chunk `index` of the file is cached (ChunkCache.has: no counter, no LRU move). */
  has(file: string, version: string, index: number): boolean;
  /** Fetches every uncached chunk of a file (for `wormhole cache warm`), then flushes L2. */
  warm(
    file: string,
    version: string,
    size: number,
    onProgress?: (p: WarmProgress) => void,
    options?: { concurrency?: number; signal?: AbortSignal },
  ): Promise<WarmProgress>;
  stats(): ReaderStats;
  /** Aborts every fetch in flight and forgets all handles. */
  close(): void;
}

interface Flight {
  readonly key: string;
  readonly ctrl: AbortController;
  promise: Promise<Uint8Array>;
  /** Reads awaiting this chunk: while > 0 it is never cancelled. */
  demand: number;
  /** Handles that prefetched it. */
  readonly owners: Set<HandleState>;
  /** Settled: nothing left to cancel. */
  done: boolean;
}

interface HandleState {
  file: string;
  version: string;
  /** End offset of the sequential run so far. */
  lastEnd: number;
  streak: number;
  window: number;
  /** Highest chunk index read-ahead has considered (each is checked once per run). */
  aheadUntil: number;
  lastChunk: number;
  /** The current sequential run began at the file's first byte. */
  runFromStart: boolean;
  /** A whole-file copy was asked for (ChunkCache.recordCopy), once per handle. */
  copyAsked: boolean;
  readonly owned: Map<number, Flight>;
}

const MiB = 1024 * 1024;
/** Random reads up to this size are served from part of a cached chunk (ChunkCache.getRange). */
const RANGE_READ_MAX = 64 * 1024;

/** Creates a reader over `cache` that fetches misses with `fetchChunk`. */
export function createChunkReader(options: ChunkReaderOptions): ChunkReader {
  return new Reader(options);
}

function isInt(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

class Reader implements ChunkReader {
  readonly chunkSize: number;
  #cache: ChunkCache;
  #fetch: FetchChunk;
  #fetchRange: FetchRange | undefined;
  /** Range fetches in flight, aborted by close(). */
  #rangeCtrls = new Set<AbortController>();
  #ra: { initial: number; max: number; l2InWriter: boolean } | undefined;
  #flights = new Map<string, Flight>();
  #handles = new Map<ReadHandle, HandleState>();
  #s = {
    fetches: 0,
    readAheadFetches: 0,
    cancelled: 0,
    deduplicated: 0,
    fetchErrors: 0,
    rangeFetches: 0,
  };

  constructor(o: ChunkReaderOptions) {
    if (!Number.isSafeInteger(o.chunkSize) || o.chunkSize <= 0)
      throw CacheError.INVALID_ARGUMENT('chunkSize must be > 0');
    this.chunkSize = o.chunkSize;
    this.#cache = o.cache;
    this.#fetch = o.fetchChunk;
    this.#fetchRange = o.fetchRange;
    if (o.readAhead !== false) {
      const ra = o.readAhead ?? {};
      const byBytes = Math.floor((ra.maxBytes ?? 8 * MiB) / o.chunkSize);
      const max = Math.max(1, Math.min(ra.maxChunks ?? 32, byBytes));
      this.#ra = {
        initial: Math.max(1, Math.min(ra.initialChunks ?? 2, max)),
        max,
        l2InWriter: ra.loadL2InWriter === true,
      };
    }
  }

  /** Chunk size is part of the stored version: the same index at another size is other bytes. */
  #key(file: string, version: string, index: number): ChunkKey {
    return { file, version: `${this.chunkSize}:${version}`, index };
  }

  isCopying(file: string, version: string): boolean {
    return this.#cache.isCopying(file, this.#key(file, version, 0).version);
  }

  has(file: string, version: string, index: number): boolean {
    return this.#cache.has(this.#key(file, version, index));
  }

  localCopy(file: string, version: string, size: number): string | undefined | Promise<string | undefined> {
    return this.#cache.localCopy(file, this.#key(file, version, 0).version, size);
  }

  hasLocalCopy(file: string, version: string, size: number): boolean {
    return this.#cache.hasLocalCopy(file, this.#key(file, version, 0).version, size);
  }

  #chunkLen(fileSize: number, index: number): number {
    return Math.min(this.chunkSize, fileSize - index * this.chunkSize);
  }

  /**
   * Starts a flight for one chunk. With `fromL2` (read-ahead) the bytes first come from
   * that pending L2 read (batched for the window, done in the writer thread) and the
   * network is asked only when L2 does not have them.
   */
  #start(
    file: string,
    version: string,
    index: number,
    fileSize: number,
    readAhead: boolean,
    fromL2?: Promise<Uint8Array | undefined>,
  ): Flight {
    const key = this.#key(file, version, index);
    const k = chunkKeyString(key);
    const expected = this.#chunkLen(fileSize, index);
    const epoch = this.#cache.fileEpoch(file);
    const ctrl = new AbortController();
    const flight: Flight = {
      key: k,
      ctrl,
      promise: Promise.resolve(new Uint8Array(0)),
      demand: 0,
      owners: new Set(),
      done: false,
    };
    this.#flights.set(k, flight);
    flight.promise = (async () => {
      try {
        if (fromL2 !== undefined) {
          const cached = await fromL2;
          if (cached !== undefined && cached.byteLength === expected) return cached;
          if (ctrl.signal.aborted) throw CacheError.ABORTED();
        }
        this.#s.fetches++;
        if (readAhead) this.#s.readAheadFetches++;
        const bytes = await this.#fetch(file, version, index, ctrl.signal);
        if (ctrl.signal.aborted) throw CacheError.ABORTED();
        if (bytes.byteLength !== expected) {
          throw CacheError.BAD_CHUNK(
            `Chunk ${index} of ${file} has ${bytes.byteLength} bytes, expected ${expected}`,
            {
              file,
              index,
              size: bytes.byteLength,
              expected,
            },
          );
        }
        // An invalidation while this was in flight means the bytes may be stale: serve them
        // to the reads that asked (they asked for this version), but do not cache them.
        this.#cache.putIfCurrent(key, bytes, epoch);
        return bytes;
      } catch (err) {
        if (!ctrl.signal.aborted) this.#s.fetchErrors++;
        throw err;
      } finally {
        flight.done = true;
        if (this.#flights.get(k) === flight) this.#flights.delete(k);
      }
    })();
    // Read-ahead failures have no reader; they must not become unhandled rejections.
    flight.promise.catch(() => {});
    return flight;
  }

  #cancelIfUnwanted(f: Flight): void {
    if (f.done || f.demand > 0 || f.owners.size > 0) return;
    if (this.#flights.get(f.key) === f) this.#flights.delete(f.key);
    if (!f.ctrl.signal.aborted) {
      this.#s.cancelled++;
      f.ctrl.abort(CacheError.ABORTED());
    }
  }

  #disown(h: HandleState, keep: (index: number) => boolean): void {
    for (const [index, f] of h.owned) {
      if (keep(index)) continue;
      h.owned.delete(index);
      f.owners.delete(h);
      this.#cancelIfUnwanted(f);
    }
  }

  async #demand(file: string, version: string, fileSize: number, index: number): Promise<Uint8Array> {
    const key = this.#key(file, version, index);
    const k = chunkKeyString(key);
    let f = this.#flights.get(k);
    if (f === undefined) f = this.#start(file, version, index, fileSize, false);
    else this.#s.deduplicated++;
    f.demand++;
    try {
      return await f.promise;
    } finally {
      f.demand--;
    }
  }

  async read(
    file: string,
    version: string,
    fileSize: number,
    offset: number,
    length: number,
    handle?: ReadHandle,
  ): Promise<Uint8Array> {
    const parts = await this.readParts(file, version, fileSize, offset, length, handle);
    if (parts.length === 1) return parts[0]!;
    if (parts.length === 0) return new Uint8Array(0);
    return Buffer.concat(parts);
  }

  async readParts(
    file: string,
    version: string,
    fileSize: number,
    offset: number,
    length: number,
    handle?: ReadHandle,
  ): Promise<Uint8Array[]> {
    if (!isInt(fileSize) || !isInt(offset) || !isInt(length)) {
      throw CacheError.INVALID_ARGUMENT('fileSize, offset and length must be non-negative integers');
    }
    const end = Math.min(offset + length, fileSize);
    if (end <= offset) return [];
    const cs = this.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((end - 1) / cs);

    const h = handle === undefined ? undefined : this.#handleState(handle, file, version);
    const sequential = h !== undefined && this.#track(h, offset, end, first, last);

    // A small read off the sequential path (random access) needs a few KiB, not the chunk:
    // take just its blocks from the cache. A miss fetches the whole chunk as usual. A read of
    // a whole chunk (a small file read whole) is not such a read: it takes the chunk path, so
    // it is cached and joins the same chunk's other fetches (an open's prefetch, the kernel's
    // read, files fetched ahead) instead of asking the host once more each.
    if (
      !sequential &&
      first === last &&
      end - offset <= RANGE_READ_MAX &&
      end - offset < this.#chunkLen(fileSize, first)
    ) {
      const key = this.#key(file, version, first);
      const part = this.#cache.getRange(key, offset - first * cs, end - first * cs);
      if (part !== undefined) return [part];
      if (h !== undefined) this.#disown(h, (i) => i > last);
      if (this.#fetchRange !== undefined && !this.#flights.has(chunkKeyString(key)))
        return [await this.#rangeMiss(file, version, first, offset, end)];
      return [
        (await this.#demand(file, version, fileSize, first)).subarray(offset - first * cs, end - first * cs),
      ];
    }

    // Demand chunks first: the first byte waits for its own chunk only, and its fetch is
    // issued before any read-ahead.
    const parts: Array<Uint8Array | Promise<Uint8Array>> = [];
    for (let i = first; i <= last; i++) {
      const key = this.#key(file, version, i);
      // With loadL2InWriter, a prefetch may be reading this chunk from L2 in the writer
      // thread: join it rather than read L2 again here. Otherwise look the cache up first
      // (a chunk still in flight from the host is a miss, and counted as one) then join.
      if (this.#ra?.l2InWriter === true && this.#flights.has(chunkKeyString(key))) {
        parts.push(this.#demand(file, version, fileSize, i));
        continue;
      }
      const hit = this.#cache.get(key);
      if (hit !== undefined && hit.byteLength === this.#chunkLen(fileSize, i)) parts.push(hit);
      else parts.push(this.#demand(file, version, fileSize, i));
    }
    if (h !== undefined) {
      this.#disown(h, (i) => i > last);
      // Not after a small first read (`head -c 1`, a file-type sniff: 16 KiB from the kernel):
      // prefetches issued with it compete with its own chunk on the host's disk. A sequential
      // reader gets them one request later.
      const sniff = h.streak === 1 && end - offset <= RANGE_READ_MAX;
      if (sequential && !sniff) this.#readAhead(h, file, version, fileSize, last);
      // A file streamed from its first byte past its second chunk is being read whole (a copy,
      // a player, an editor's import): keep it whole on disk too, for FUSE passthrough.
      if (sequential && h.runFromStart && !h.copyAsked && last >= 2) {
        h.copyAsked = true;
        this.#cache.recordCopy(file, this.#key(file, version, 0).version, fileSize, cs);
      }
    }

    const chunks = await Promise.all(parts);
    for (let j = 0; j < chunks.length; j++) {
      const start = (first + j) * cs;
      chunks[j] = chunks[j]!.subarray(Math.max(offset, start) - start, Math.min(end, start + cs) - start);
    }
    if (sequential && h?.copyAsked === true && this.#onlyReaderOf(h))
      for (let i = first; i <= last; i++)
        if (Math.min((i + 1) * cs, fileSize) <= end) this.#cache.passCopied(this.#key(file, version, i));
    return chunks;
  }

  /**
   * A file streamed into a whole-file copy: the chunks its reader has finished are in the copy,
   * so L1 lets them go (ChunkCache.passCopied) unless another handle reads the same file (it
   * may be behind). Kept, they filled L1 (256 MiB of buffers for V8 to mark-compact away):
   * cold `dd` of 1 GiB through the mount 392-411 -> 442-455 MB/s (five alternating pairs,
   * medians 404 -> 446), the mount's RSS 450 -> 190 MB. A re-read behind the reader while the
   * copy is being written reads the chunk back from it (FileCopies.readChunk).
   */
  #onlyReaderOf(h: HandleState): boolean {
    for (const other of this.#handles.values())
      if (other !== h && other.file === h.file && other.version === h.version) return false;
    return true;
  }

  /** A small random miss: fetch just its bytes (see {@link FetchRange}). */
  async #rangeMiss(
    file: string,
    version: string,
    index: number,
    offset: number,
    end: number,
  ): Promise<Uint8Array> {
    this.#s.rangeFetches++;
    const ctrl = new AbortController();
    this.#rangeCtrls.add(ctrl);
    try {
      const got = await this.#fetchRange!(file, version, offset, end - offset, ctrl.signal);
      if (got.byteLength !== end - offset) {
        throw CacheError.BAD_CHUNK(`Range ${offset}+${end - offset} of ${file} has ${got.byteLength} bytes`, {
          file,
          index,
          size: got.byteLength,
          expected: end - offset,
        });
      }
      return got;
    } catch (err) {
      if (!ctrl.signal.aborted) this.#s.fetchErrors++;
      throw err;
    } finally {
      this.#rangeCtrls.delete(ctrl);
    }
  }

  #handleState(handle: ReadHandle, file: string, version: string): HandleState | undefined {
    if (this.#ra === undefined) return undefined;
    let h = this.#handles.get(handle);
    if (h !== undefined && (h.file !== file || h.version !== version)) {
      this.#disown(h, () => false);
      h = undefined;
    }
    if (h === undefined) {
      h = {
        file,
        version,
        lastEnd: 0,
        streak: 0,
        window: this.#ra.initial,
        aheadUntil: -1,
        lastChunk: -1,
        runFromStart: true,
        copyAsked: false,
        owned: new Map(),
      };
      this.#handles.set(handle, h);
    }
    return h;
  }

  /**
   * Classifies a read. Sequential = starts near where the run ended (the kernel may issue
   * neighbouring reads slightly out of order). Anything else is a seek: the window resets
   * and prefetches outside the new position are cancelled.
   */
  #track(h: HandleState, offset: number, end: number, first: number, last: number): boolean {
    const cs = this.chunkSize;
    const ra = this.#ra!;
    // Slack of four requests either way: the kernel's own read-ahead keeps several requests
    // in flight (4 MiB as 1 MiB requests on a libfuse3 mount), and they arrive out of order.
    const slack = 4 * (end - offset);
    if (offset >= h.lastEnd - Math.max(2 * cs, slack) && offset <= h.lastEnd + Math.max(cs, slack)) {
      h.streak++;
      if (last > h.lastChunk && h.streak > 1) h.window = Math.min(ra.max, h.window * 2);
      h.lastEnd = Math.max(h.lastEnd, end);
      h.lastChunk = Math.max(h.lastChunk, last);
      return true;
    }
    h.streak = 0;
    h.runFromStart = offset === 0;
    h.window = ra.initial;
    h.lastEnd = end;
    h.lastChunk = last;
    h.aheadUntil = last;
    this.#disown(h, (i) => i >= first && i <= last);
    return false;
  }

  #readAhead(h: HandleState, file: string, version: string, fileSize: number, last: number): void {
    const lastOfFile = Math.floor((fileSize - 1) / this.chunkSize);
    const until = Math.min(last + h.window, lastOfFile);
    const from = Math.max(last + 1, h.aheadUntil + 1);
    // Batch the window's advance (one L2 round trip per quarter window) unless the reader is
    // about to need the next chunk.
    const batch = Math.max(1, Math.floor(h.window / 4));
    if (until - from + 1 < batch && from > last + batch && until < lastOfFile) return;
    const wanted: number[] = [];
    for (let i = from; i <= until; i++) {
      h.aheadUntil = i;
      const key = this.#key(file, version, i);
      const f = this.#flights.get(chunkKeyString(key));
      if (f !== undefined) {
        f.owners.add(h);
        h.owned.set(i, f);
      } else if (this.#ra!.l2InWriter || !this.#cache.has(key)) {
        wanted.push(i);
      }
    }
    if (wanted.length === 0) return;
    // One L2 round trip for the batch, read in the writer thread; chunks found in L1 or L2
    // never reach the network. Flights exist at once so demand reads join them.
    const loaded = this.#ra!.l2InWriter
      ? this.#cache.loadAhead(wanted.map((i) => this.#key(file, version, i)))
      : undefined;
    loaded?.catch(() => {});
    wanted.forEach((i, j) => {
      const f = this.#start(
        file,
        version,
        i,
        fileSize,
        true,
        loaded?.then((r) => r[j]),
      );
      f.owners.add(h);
      h.owned.set(i, f);
    });
  }

  release(handle: ReadHandle): void {
    const h = this.#handles.get(handle);
    if (h === undefined) return;
    this.#handles.delete(handle);
    this.#disown(h, () => false);
  }

  async warm(
    file: string,
    version: string,
    size: number,
    onProgress?: (p: WarmProgress) => void,
    options: { concurrency?: number; signal?: AbortSignal } = {},
  ): Promise<WarmProgress> {
    if (!isInt(size)) throw CacheError.INVALID_ARGUMENT('size must be a non-negative integer');
    const totalChunks = Math.ceil(size / this.chunkSize);
    const p: WarmProgress = { file, doneChunks: 0, totalChunks, doneBytes: 0, totalBytes: size, fetched: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < totalChunks) {
        if (options.signal?.aborted) throw CacheError.ABORTED('Warm-up was cancelled');
        const i = next++;
        if (!this.#cache.has(this.#key(file, version, i))) {
          await this.#demand(file, version, size, i);
          p.fetched++;
        }
        p.doneChunks++;
        p.doneBytes += this.#chunkLen(size, i);
        onProgress?.({ ...p });
      }
    };
    const n = Math.max(1, Math.min(options.concurrency ?? 4, totalChunks));
    await Promise.all(Array.from({ length: n }, worker));
    await this.#cache.flush();
    return p;
  }

  stats(): ReaderStats {
    return { ...this.#s, inFlight: this.#flights.size };
  }

  close(): void {
    for (const h of this.#handles.values()) h.owned.clear();
    this.#handles.clear();
    for (const f of this.#flights.values()) {
      this.#s.cancelled++;
      f.ctrl.abort(CacheError.ABORTED());
    }
    this.#flights.clear();
    for (const c of this.#rangeCtrls) c.abort(CacheError.ABORTED());
    this.#rangeCtrls.clear();
  }
}
