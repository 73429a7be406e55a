/**
 * @packageDocumentation
 * Wormhole's two-tier chunk cache: L1 a byte-bounded LRU in memory, L2 a byte-bounded,
 * hash-checked, persistent SQLite store (better-sqlite3, WAL) written by a worker thread,
 * plus a chunk reader with per-handle sequential read-ahead. It knows nothing of peers: the
 * engine injects `fetchChunk`.
 *
 * @example
 * ```ts
 * import { openChunkCache, createChunkReader, DEFAULT_CHUNK_SIZE } from '@wormhole/cache';
 * const cache = await openChunkCache({ l2Path: '/home/me/.cache/wormhole/chunks.db' });
 * const reader = createChunkReader({
 *   cache,
 *   chunkSize: DEFAULT_CHUNK_SIZE,
 *   fetchChunk: (file, version, index, signal) => remote.readChunk(file, version, index, signal),
 * });
 * const bytes = await reader.read('docs/a.mkv', 'v1:1048576:1712000000', 1048576, 0, 131072, fh);
 * await reader.warm('docs/b.iso', 'v7', 1 << 30, (p) => console.log(p.doneBytes, '/', p.totalBytes));
 * reader.release(fh);
 * console.log(cache.stats().l1.hitRate);
 * await cache.close();
 * ```
 */

export { CacheError, type CacheErrorCode, isCacheError } from './cache-error.js';
export {
  type CacheStats,
  type ChunkCache,
  type ChunkCacheOptions,
  openChunkCache,
  type TierStats,
  type VerifyProgress,
  type VerifyReport,
} from './chunk-cache.js';
export type { ChunkHashAlgorithm } from './chunk-hash.js';
export type { ChunkKey } from './chunk-key.js';
export {
  type ChunkReader,
  type ChunkReaderOptions,
  createChunkReader,
  DEFAULT_CHUNK_SIZE,
  type FetchChunk,
  type ReadAheadOptions,
  type ReaderStats,
  type ReadHandle,
  type WarmProgress,
} from './chunk-reader.js';
export { copyName, FileCopies, type FileCopiesOptions, type FileCopyStats } from './file-copies.js';
export type { WriterMode } from './l2-writer-host.js';
export { isSqliteAvailable } from './sqlite-binding.js';
