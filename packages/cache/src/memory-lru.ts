/** One L1 entry. */
interface Entry {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/**
 * L1: a byte-bounded LRU of chunks in memory. A Map keeps insertion order, so "move to the
 * back on hit" (delete + set) and "evict from the front" make it an LRU in O(1).
 */
export class MemoryLru {
  readonly maxBytes: number;
  #map = new Map<string, Entry>();
  #bytes = 0;
  evictions = 0;
  /** Called for each chunk pushed out by the byte bound (not for delete/deleteFile/clear). */
  onEvict: ((key: string, bytes: Uint8Array) => void) | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Returns the chunk and marks it most recently used. */
  get(key: string): Uint8Array | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.bytes;
  }

  /** Returns the chunk without changing the LRU order. */
  peek(key: string): Uint8Array | undefined {
    return this.#map.get(key)?.bytes;
  }

  /** True when present; does not change the LRU order. */
  has(key: string): boolean {
    return this.#map.has(key);
  }

  /**
   * Stores a chunk, evicting least recently used ones until it fits. Returns the bytes kept
   * (a copy when `bytes` was a small view of a larger buffer), or `undefined` when the chunk
   * is larger than the whole bound.
   */
  set(key: string, file: string, bytes: Uint8Array): Uint8Array | undefined {
    this.delete(key);
    if (bytes.byteLength > this.maxBytes) return undefined;
    // A view into a much larger buffer (a batch of frames, say) would pin all of it: copy so
    // the byte bound is about real memory. A view that is nearly all of its buffer (a frame
    // body behind a small header) is kept as is.
    const own = bytes.byteLength * 16 >= bytes.buffer.byteLength * 15 ? bytes : bytes.slice();
    while (this.#bytes + own.byteLength > this.maxBytes) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      const e = this.#map.get(oldest.value)!;
      this.delete(oldest.value);
      this.evictions++;
      this.onEvict?.(oldest.value, e.bytes);
    }
    this.#map.set(key, { file, bytes: own });
    this.#bytes += own.byteLength;
    return own;
  }

  delete(key: string): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#map.delete(key);
    this.#bytes -= e.bytes.byteLength;
    return true;
  }

  /** Drops every chunk of `file` (all versions); returns how many. */
  deleteFile(file: string): number {
    let n = 0;
    for (const [key, e] of this.#map) {
      if (e.file === file && this.delete(key)) n++;
    }
    return n;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }

  /** Keys from least to most recently used (diagnostics and tests). */
  keys(): string[] {
    return [...this.#map.keys()];
  }
}
