// The message protocol between the L2 store (main thread) and its writer (a worker thread, or
// the same thread in 'inline' mode). Plain objects only: they cross a structured clone.
import type { ChunkHashAlgorithm } from './chunk-hash.js';

/** A chunk to insert. */
export interface PutItem {
  key: string;
  file: string;
  version: string;
  index: number;
  bytes: Uint8Array;
}

/** [meta.id, last_access tick] pairs collected by reads. */
export type Touches = Array<[number, number]>;

/** What the writer is started with. */
export interface WriterInit {
  path: string;
  busyTimeoutMs: number;
  hash: ChunkHashAlgorithm;
  maxBytes: number;
}

export type ToWriter =
  | { t: 'put'; items: PutItem[]; touches: Touches; tick: number; bytes: number }
  | { t: 'touch'; touches: Touches }
  | { t: 'invalidateFile'; rid: number; file: string }
  | { t: 'clear'; rid: number }
  | { t: 'sync'; rid: number }
  | { t: 'verify'; rid: number }
  | { t: 'load'; rid: number; keys: string[]; tick: number }
  | { t: 'close'; rid: number };

export interface VerifyProgress {
  /** Chunks rehashed so far. */
  checked: number;
  /** Chunks in the file when verification started (others may be added meanwhile). */
  total: number;
  /** Corrupt chunks found (and dropped) so far. */
  corrupt: number;
}

/** Reply to 'load': one entry per key, the verified bytes or null (missing or corrupt). */
export interface LoadResult {
  chunks: Array<Uint8Array | null>;
  corrupt: number;
}

export type FromWriter =
  | { t: 'ready'; hash: ChunkHashAlgorithm }
  | { t: 'openError'; code: string; message: string }
  | { t: 'putDone'; bytes: number; inserted: number; evicted: number; error?: string }
  | { t: 'done'; rid: number; value: unknown }
  | { t: 'failed'; rid: number; code: string; message: string }
  | { t: 'progress'; rid: number; progress: VerifyProgress };
