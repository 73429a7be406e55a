import { closeQuietly } from './fs-calls.js';

interface Entry {
  readonly key: string;
  readonly fd: number;
  refs: number;
  /** Dropped from the map (evicted/invalidated): close when the last user releases it. */
  dropped: boolean;
}

/** A borrowed fd; call `release()` exactly once when the read is done. */
export interface FdLease {
  readonly fd: number;
  release(): void;
}

/**
 * Bounded LRU of open read fds keyed by share path, so a sequential read does not reopen the
 * file per chunk. Entries in use are never closed under a reader: eviction and invalidation
 * only mark them, and the last `release()` closes. Concurrent misses for one key share a
 * single open.
 */
export class FdCache {
  readonly #max: number;
  readonly #map = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<Entry>>();
  #generation = 0;
  #closed = false;

  constructor(max = 64) {
    this.#max = Math.max(1, max);
  }

  get size(): number {
    return this.#map.size;
  }

  async acquire(key: string, open: () => Promise<number>): Promise<FdLease> {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return this.#lease(hit);
    }
    let pending = this.#opening.get(key);
    if (!pending) {
      const gen = this.#generation;
      pending = open().then((fd) => {
        const entry: Entry = { key, fd, refs: 0, dropped: false };
        // Invalidated while opening (or cache closed): serve this one reader, then close.
        if (gen !== this.#generation || this.#closed) entry.dropped = true;
        else this.#insert(entry);
        return entry;
      });
      this.#opening.set(key, pending);
      const clear = () => {
        if (this.#opening.get(key) === pending) this.#opening.delete(key);
      };
      pending.then(clear, clear);
    }
    const entry = await pending;
    return this.#lease(entry);
  }

  /** Forgets the fds of these paths (and, for a directory, everything below it). */
  invalidate(paths: Iterable<string>): void {
    this.#generation++;
    for (const p of paths) {
      const prefix = p === '' ? '' : `${p}/`;
      for (const [key, entry] of this.#map) {
        if (key === p || key.startsWith(prefix)) this.#drop(entry);
      }
    }
  }

  invalidateAll(): void {
    this.#generation++;
    for (const entry of [...this.#map.values()]) this.#drop(entry);
  }

  close(): void {
    this.#closed = true;
    this.invalidateAll();
  }

  #insert(entry: Entry): void {
    const old = this.#map.get(entry.key);
    if (old) this.#drop(old);
    this.#map.set(entry.key, entry);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.values().next().value as Entry;
      this.#drop(oldest);
    }
  }

  #drop(entry: Entry): void {
    if (this.#map.get(entry.key) === entry) this.#map.delete(entry.key);
    entry.dropped = true;
    if (entry.refs === 0) closeQuietly(entry.fd);
  }

  #lease(entry: Entry): FdLease {
    entry.refs++;
    let done = false;
    return {
      fd: entry.fd,
      release: () => {
        if (done) return;
        done = true;
        entry.refs--;
        if (entry.refs === 0 && entry.dropped) closeQuietly(entry.fd);
      },
    };
  }
}
