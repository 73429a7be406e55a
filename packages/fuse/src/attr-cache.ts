import type { Attr, DirEntry } from './file-system.js';

interface Listed {
  readonly entries: readonly DirEntry[];
  readonly expires: number;
  /** name → attr, built on the first lookup in this directory. */
  index?: Map<string, Attr>;
}

/**
 * Short-lived path → Attr cache on the kernel-facing side. `ls -l` of a big directory does one
 * readdir (which carries attributes) and then a getattr per entry; serving those from here turns
 * N round trips into one. The TTL bounds staleness when no invalidation arrives.
 *
 * A listing is kept as the entry array it came in (`setListing`), indexed by name only when a
 * lookup first asks for one of its entries: a walk such as `find`, whose entries arrive with
 * readdirplus and are never looked up, costs nothing per entry here (a path string and a map
 * entry per file were 12 ms of the mount's 136 ms of CPU for `find` over 10,000 files).
 */
export class AttrCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { attr: Attr; expires: number }>();
  readonly #listings = new Map<string, Listed>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(path: string): Attr | undefined {
    const now = performance.now();
    let e = this.#entries.get(path);
    if (e !== undefined && e.expires < now) {
      this.#entries.delete(path);
      e = undefined;
    }
    const slash = path.lastIndexOf('/');
    const listed = slash < 0 || slash === path.length - 1 ? undefined : this.#listing(path, slash, now);
    const fromListing = listed === undefined ? undefined : indexOf(listed).get(path.slice(slash + 1));
    // Both known: the one stored last is the newer answer.
    if (e !== undefined && (fromListing === undefined || e.expires >= listed!.expires)) return e.attr;
    return fromListing;
  }

  /** The unexpired listing of the directory holding `path` (whose last '/' is at `slash`). */
  #listing(path: string, slash: number, now: number): Listed | undefined {
    const dir = slash === 0 ? '/' : path.slice(0, slash);
    const listed = this.#listings.get(dir);
    if (listed === undefined || listed.expires >= now) return listed;
    this.#listings.delete(dir);
    return undefined;
  }

  set(path: string, attr: Attr): void {
    if (this.#ttlMs <= 0) return;
    // Bound memory: a sweep of expired entries when the map grows large.
    if (this.#entries.size >= 100_000) this.#sweep();
    this.#entries.set(path, { attr, expires: performance.now() + this.#ttlMs });
  }

  /** The attributes a listing of `dir` carried, for the entries of `dir` (kept, not copied). */
  setListing(dir: string, entries: readonly DirEntry[]): void {
    if (this.#ttlMs <= 0) return;
    if (this.#listings.size >= 10_000) this.#sweep();
    this.#listings.set(dir, { entries, expires: performance.now() + this.#ttlMs });
  }

  /** Drops `path`, everything below it, and the listing of its parent (which carries its attributes). */
  invalidate(path: string): void {
    this.#entries.delete(path);
    const prefix = path.endsWith('/') ? path : path + '/';
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
    const slash = path.lastIndexOf('/');
    this.#listings.delete(slash <= 0 ? '/' : path.slice(0, slash));
    this.#listings.delete(path);
    for (const key of this.#listings.keys()) if (key.startsWith(prefix)) this.#listings.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#listings.clear();
  }

  /** Paths cached one by one, plus listings (each counted once). */
  get size(): number {
    return this.#entries.size + this.#listings.size;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [k, e] of this.#entries) if (e.expires < now) this.#entries.delete(k);
    if (this.#entries.size >= 100_000) this.#entries.clear();
    for (const [k, l] of this.#listings) if (l.expires < now) this.#listings.delete(k);
    if (this.#listings.size >= 10_000) this.#listings.clear();
  }
}

/** name → attr of a listing, built on the first lookup in it. */
function indexOf(listed: Listed): Map<string, Attr> {
  if (listed.index === undefined) {
    const index = new Map<string, Attr>();
    for (const entry of listed.entries) if (entry.attr !== undefined) index.set(entry.name, entry.attr);
    listed.index = index;
  }
  return listed.index;
}
