import type { Attr } from './file-system.js';

/**
 * Short-lived path → Attr cache on the kernel-facing side. `ls -l` of a big directory does one
 * readdir (which carries attributes) and then a getattr per entry; serving those from here turns
 * N round trips into one. The TTL bounds staleness when no invalidation arrives.
 */
export class AttrCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { attr: Attr; expires: number }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(path: string): Attr | undefined {
    const e = this.#entries.get(path);
    if (e === undefined) return undefined;
    if (e.expires < performance.now()) {
      this.#entries.delete(path);
      return undefined;
    }
    return e.attr;
  }

  set(path: string, attr: Attr): void {
    if (this.#ttlMs <= 0) return;
    // Bound memory: a sweep of expired entries when the map grows large.
    if (this.#entries.size >= 100_000) this.#sweep();
    this.#entries.set(path, { attr, expires: performance.now() + this.#ttlMs });
  }

  /** Drops `path` and everything below it. */
  invalidate(path: string): void {
    this.#entries.delete(path);
    const prefix = path.endsWith('/') ? path : path + '/';
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [k, e] of this.#entries) if (e.expires < now) this.#entries.delete(k);
    if (this.#entries.size >= 100_000) this.#entries.clear();
  }
}
