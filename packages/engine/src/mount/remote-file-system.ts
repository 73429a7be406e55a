import type { ChunkCache, ChunkReader } from '@wormhole/cache';
import type { Attr, FileSystem, DirEntry as FuseDirEntry, StatFs } from '@wormhole/fuse';
import type { Stat, DirEntry as WireDirEntry } from '@wormhole/protocol';
import type { RemoteFs } from '../client/remote-fs.js';
import { RemoteFsError } from '../remote-fs-error.js';

/** Options of `remoteFileSystem`. */
export interface RemoteFileSystemOptions {
  /** How long a stat answer is trusted before asking the host again. Default 1000 ms. */
  readonly attrTtlMs?: number;
  /** Chunk cache + read-ahead; without it every read goes to the host. */
  readonly reader?: ChunkReader;
  /** The reader's cache: invalidated paths drop their chunks here (keys are versioned, so this frees space; it is not needed for correctness). */
  readonly cache?: ChunkCache;
  /** Called when cached kernel state for `path` must go (the mount's `invalidate`). */
  readonly onInvalidate?: (path: string) => void;
  /**
   * After a listing, fetch the listings of up to this many of its subdirectories in the
   * background (served to a readdir within the attribute TTL), so a tree walk (`find`,
   * `ls -R`, a file manager opening folders) waits for one round trip per level, not per
   * directory. 0 disables. Default 256: the bench tree's 100 subdirectories all ahead, 16 at a
   * time, took `find` 548-605 -> 433-480 ms and `ls -lR` 536-577 -> 440-457 ms after a cache
   * drop (64 ahead, 8 at a time before; alternating runs).
   */
  readonly readdirAhead?: number;
  /**
   * When the files of a directory are opened one after another in listing order (`tar`,
   * `cp -r`, `rsync`, a thumbnailer), the next this-many small files of that listing (one chunk
   * or less each) are fetched into the cache ahead of their opens, as read-ahead does within a
   * file. 0 disables. Default 16.
   */
  readonly siblingsAhead?: number;
  /**
   * When a directory is listed for someone (a readdir reaching the mount, the mount's own root
   * listing), the first bytes (HEAD_BYTES) of its first this-many files above
   * WHOLE_AT_OPEN_BYTES are fetched at once and kept for their version: opening a folder is
   * what precedes a file manager's type sniffing and thumbnails, a player's probe, `head`; their
   * open then asks the host nothing and the first read answers locally. 0 disables. Default 16
   * (256 KiB per listing at most; a listing of small files fetches nothing). A tree walk
   * (`find`, `du`) lists faster than anyone looks: heads are rate-limited (HEADS_AHEAD_BURST).
   */
  readonly headsAhead?: number;
  /**
   * Called to drop a range of the kernel's page cache of a file being copied whole (its bytes
   * are kept in the copy, whose own page cache serves the re-reads by FUSE passthrough): the
   * mount's `invalidateData`. Without it a streamed file sat in RAM twice, and the first
   * passthrough open had to drop it all (135 ms for 1 GiB of 4 KiB folios).
   */
  readonly dropBehind?: (path: string, offset: number, length: number) => void;
  /**
   * Offers the kernel a file's first bytes (a head fetched ahead, `headsAhead`) for its page
   * cache, so a first read within them is answered without asking this FileSystem: the mount's
   * `storeData`; false when the kernel does not know the file yet (the head of a listing often
   * arrives before the kernel's readdirplus page), and then the file's open offers it again.
   * Called only while the listing's version is the newest known; an invalidation after it
   * drops the bytes from the kernel again.
   */
  readonly storeHead?: (path: string, bytes: Uint8Array) => boolean;
  /**
   * The mount lists the root into the kernel as it starts (mountShare does): that first listing
   * of the root, served from the one fetched at start, does not read the root's subdirectories
   * ahead (`readdirAhead`); a user's listing does.
   */
  readonly rootListedAtMount?: boolean;
}

/** Drop-behind: ranges of this size, this far behind the reader (beyond the kernel's read-ahead). */
const DROP_STEP = 32 * 1024 * 1024;
const DROP_LAG = 16 * 1024 * 1024;

/** Heads fetched ahead of opens (`headsAhead`) kept at most (the oldest goes first): 4 MiB. */
const MAX_HEADS_AHEAD = 256;
/**
 * Heads fetched ahead at once at most, and per second after that: a person opening folders
 * stays within it, a walk over 1,000 folders of videos costs 512 KiB and 32 host reads plus
 * 16 per second, not 16 per folder.
 */
const HEADS_AHEAD_BURST = 32;
const HEADS_AHEAD_PER_S = 16;

/** Directories whose open order is followed for `siblingsAhead` (most recent kept). */
const MAX_WALKS = 64;
/** A listing older than this is not used to fetch ahead (its versions are likely stale). */
const SIBLINGS_LISTING_MAX_AGE_MS = 60_000;
/**
 * Opens that followed the listing's order (gaps of at most SIBLING_GAP entries) before fetching
 * ahead starts: the second file opened in order starts it.
 */
const SIBLING_RUN = 1;
/** Directory listings whose stats are kept (the oldest listed goes first). */
const MAX_LISTED = 10_000;
const SIBLING_GAP = 4;

/** Background listings in flight at once (the host answers them in parallel). */
const READDIR_AHEAD_CONCURRENCY = 16;
/**
 * How long a statfs answer is reused. `find` asks once at its start, usually just as the
 * listings it triggers fill the host's thread pool: uncached, that one call waited 39 ms of a
 * 200 ms walk of 10,000 files. Free space shown by `df` is at most this old.
 */
const STATFS_TTL_MS = 5000;
/**
 * An open asks the host for the file's first bytes on their own, next to its first chunk: a
 * small first read (`head`, a file-type sniff: the kernel asks 16 KiB) is answered from them
 * without waiting for the whole 256 KiB chunk, which a cold host disk reads and the channel
 * carries first. Measured, `head -c 1` on a fresh mount after a cache drop: 6.5-9.5 -> 4.8-6.9 ms
 * (two runs of six, alternating). Exactly the kernel's first read: a cold read of 16 KiB takes
 * this VM's disk 0.3-0.4 ms, of 64 KiB 0.6-0.75 ms; a 64 KiB head gave medians of 5.9/6.3 ms,
 * 16 KiB 5.4/5.6 (alternating loops of eight). Not cached: the chunk fetch behind it fills the cache.
 */
const HEAD_BYTES = 16 * 1024;
/**
 * A file up to this size is fetched whole at open, with no head: for it the head would save
 * little and cost a second round trip before the rest (`cat`, `tar` and `cp` read it whole).
 */
const WHOLE_AT_OPEN_BYTES = 64 * 1024;

const S_IFMT = { file: 0o100000, dir: 0o040000, symlink: 0o120000, other: 0o100000 } as const;
const OFFLINE_CODES = new Set(['ENOTCONN', 'ETIMEDOUT', 'EIO']);

function toAttr(st: Stat): Attr {
  return {
    mode: S_IFMT[st.type] | (st.mode & 0o7777),
    size: st.size,
    mtimeMs: st.mtimeMs,
    atimeMs: st.atimeMs,
    ctimeMs: st.ctimeMs,
    nlink: st.nlink,
    ino: st.ino,
    blocks: Math.ceil(st.size / 512),
  };
}

/** The directory holding `path` ('/' for the root's entries). */
function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

interface OpenFile {
  readonly path: string;
  readonly version: string;
  readonly size: number;
  /** A complete local copy of this version (ChunkReader.localCopy), handed to FUSE passthrough. */
  readonly copy?: string;
  /** Page cache dropped below this offset (dropBehind). */
  droppedTo?: number;
}

/**
 * Presents a `RemoteFs` as the FUSE package's `FileSystem`: attributes cached for a short TTL
 * (and dropped on the host's invalidations), file contents through the chunk cache with
 * read-ahead, and — when the host is gone — the last known attributes plus whatever chunks are
 * cached, so fully cached files stay readable offline while everything else fails with EIO.
 */
export function remoteFileSystem(
  remote: RemoteFs,
  options: RemoteFileSystemOptions = {},
): FileSystem & {
  /** Drops cached attributes (all, or one path and its parent listing). */
  invalidate(paths: readonly string[] | 'all'): void;
  /**
   * Opens answered with a local copy, and reads of such opens that reached this FileSystem
   * (0 while the kernel reads the copies itself: FUSE passthrough).
   */
  copyStats(): { opens: number; readsHere: number };
} {
  const ttl = options.attrTtlMs ?? 1000;
  const attrs = new Map<string, { stat: Stat; fetchedAt: number }>();
  const handles = new Map<number, OpenFile>();
  /** The first bytes of a just-opened file, asked for at open (HEAD_BYTES); taken by its first read. */
  const heads = new Map<number, Promise<Uint8Array>>();
  /** The first chunk's fetch of a handle whose head was there at open, started by its first read. */
  const chunkAfterRead = new Map<number, () => void>();
  /** Heads fetched when their directory was listed (`headsAhead`), per path, for one version. */
  const headsAhead = new Map<
    string,
    {
      version: string;
      bytes: Promise<Uint8Array>;
      fetchedAt: number;
      /** The bytes once here, and whether the kernel took them (`storeHead`). */
      arrived?: Uint8Array;
      stored?: boolean;
    }
  >();
  const headsAheadCount = options.headsAhead ?? 16;
  const headsBudget = { tokens: HEADS_AHEAD_BURST, at: Date.now() };
  let nextFh = 1;
  const copyCounts = { opens: 0, readsHere: 0 };

  const remember = (path: string, stat: Stat) => attrs.set(path, { stat, fetchedAt: Date.now() });
  // The stats a listing brought, per directory, kept as they came and indexed by name on the
  // first stat of one of them: a walk that never stats its entries (the kernel got them with
  // readdirplus) pays nothing per entry here (10 ms of the mount's ~90 ms of CPU for `find`
  // over 10,000 files went to a path string and a map entry per file).
  const listed = new Map<
    string,
    {
      entries: readonly WireDirEntry[];
      fetchedAt: number;
      /** name → position in `entries`, built on first use. */
      positions?: Map<string, number>;
    }
  >();
  /** Where `name` is in a listing (building the name index on first use). */
  function positionIn(
    dir: { entries: readonly WireDirEntry[]; positions?: Map<string, number> },
    name: string,
  ) {
    dir.positions ??= new Map(dir.entries.map((e, i) => [e.name, i]));
    return dir.positions.get(name);
  }
  /** The newest stat known for `path` (from its own answer or its directory's listing), however old. */
  function known(path: string): { stat: Stat; fetchedAt: number } | undefined {
    const own = attrs.get(path);
    const slash = path.lastIndexOf('/');
    if (slash < 0 || slash === path.length - 1) return own;
    const dir = listed.get(parentOf(path));
    if (dir === undefined || (own !== undefined && own.fetchedAt >= dir.fetchedAt)) return own;
    const at = positionIn(dir, path.slice(slash + 1));
    return at === undefined ? own : { stat: dir.entries[at]!.stat, fetchedAt: dir.fetchedAt };
  }
  // Per directory: where the last open was in its listing, how many opens in a row followed the
  // listing's order, and how far ahead files were fetched.
  const siblingsAhead = options.siblingsAhead ?? 16;
  const walks = new Map<string, { last: number; run: number; aheadTo: number }>();
  function fetchSiblingsAhead(path: string): void {
    const reader = options.reader;
    if (reader === undefined || siblingsAhead <= 0) return;
    const dirPath = parentOf(path);
    const dir = listed.get(dirPath);
    if (dir === undefined || Date.now() - dir.fetchedAt > SIBLINGS_LISTING_MAX_AGE_MS) return;
    const at = positionIn(dir, path.slice(path.lastIndexOf('/') + 1));
    if (at === undefined) return;
    let walk = walks.get(dirPath);
    if (walk === undefined) {
      walk = { last: at, run: 0, aheadTo: at };
      walks.set(dirPath, walk);
      if (walks.size > MAX_WALKS) walks.delete(walks.keys().next().value as string);
      return;
    }
    const inOrder = at > walk.last && at - walk.last <= SIBLING_GAP;
    walk.run = inOrder ? walk.run + 1 : 0;
    walk.last = at;
    if (!inOrder) walk.aheadTo = at;
    if (walk.run < SIBLING_RUN) return;
    const until = Math.min(dir.entries.length, at + 1 + siblingsAhead);
    for (let i = Math.max(walk.aheadTo + 1, at + 1); i < until; i++) {
      const { name, stat } = dir.entries[i]!;
      if (stat.type !== 'file' || stat.size === 0 || stat.size > reader.chunkSize) continue;
      // A version that changed since the listing fails at the host (ESTALE) and is dropped:
      // chunks are keyed by version, so nothing stale can be cached this way.
      reader.read(join(dirPath, name), stat.version, stat.size, 0, stat.size).catch(() => {});
    }
    walk.aheadTo = Math.max(walk.aheadTo, until - 1);
  }

  /** Forgets what is known of `path` (its own answer and its directory's listing). */
  function forget(path: string): void {
    attrs.delete(path);
    listed.delete(parentOf(path));
    headsAhead.delete(path);
  }

  /** `headsAhead`: the heads of the first large files of a listing someone asked for. */
  function fetchHeadsOf(dirPath: string): void {
    const reader = options.reader;
    const dir = listed.get(dirPath);
    if (reader === undefined || dir === undefined || headsAheadCount <= 0) return;
    let n = 0;
    for (const { name, stat } of dir.entries) {
      if (n >= headsAheadCount) break;
      if (stat.type !== 'file' || stat.size <= WHOLE_AT_OPEN_BYTES) continue;
      n++;
      const path = join(dirPath, name);
      // Nor for a file read from a cached first chunk or from its local copy (which the
      // lookup also remembers for the open: ~0.3 ms of an open after idle).
      if (
        headsAhead.get(path)?.version === stat.version ||
        reader.has(path, stat.version, 0) ||
        reader.hasLocalCopy(path, stat.version, stat.size)
      )
        continue;
      if (!takeHeadsBudget()) return;
      // A version changed since the listing fails at the host (ESTALE): the open asks again.
      const bytes = remote.read(path, 0, HEAD_BYTES, stat.version);
      bytes.then(
        (b) => {
          // Still the head of the newest version known: an invalidation meanwhile dropped the
          // entry, a newer stat (the kernel may hold its attributes) outdates it. A change after
          // this is followed by the host's invalidation push, queued behind the store.
          const entry = headsAhead.get(path);
          if (entry?.bytes !== bytes || b.byteLength !== HEAD_BYTES) return;
          entry.arrived = b;
          entry.stored = known(path)?.stat.version === entry.version && options.storeHead?.(path, b) === true;
        },
        () => {
          if (headsAhead.get(path)?.bytes === bytes) headsAhead.delete(path);
        },
      );
      headsAhead.delete(path);
      headsAhead.set(path, { version: stat.version, bytes, fetchedAt: Date.now() });
      if (headsAhead.size > MAX_HEADS_AHEAD) headsAhead.delete(headsAhead.keys().next().value as string);
    }
  }

  function takeHeadsBudget(): boolean {
    const now = Date.now();
    headsBudget.tokens = Math.min(
      HEADS_AHEAD_BURST,
      headsBudget.tokens + ((now - headsBudget.at) * HEADS_AHEAD_PER_S) / 1000,
    );
    headsBudget.at = now;
    if (headsBudget.tokens < 1) return false;
    headsBudget.tokens--;
    return true;
  }

  /**
   * The head fetched ahead for this version of `path`, taken (an open uses it once). One the
   * kernel could not take when it came is offered again: the open means the kernel knows the file.
   */
  function takeHeadAhead(path: string, version: string): Promise<Uint8Array> | undefined {
    const got = headsAhead.get(path);
    if (got === undefined) return undefined;
    headsAhead.delete(path);
    if (got.version !== version || Date.now() - got.fetchedAt >= SIBLINGS_LISTING_MAX_AGE_MS)
      return undefined;
    if (got.arrived !== undefined && got.stored === false) options.storeHead?.(path, got.arrived);
    return got.bytes;
  }

  // Directory listings fetched ahead (or just fetched), trusted for the attribute TTL and
  // dropped by the same invalidations as attributes.
  const ahead = options.readdirAhead ?? 256;
  const listings = new Map<string, { entries: Promise<FuseDirEntry[]>; fetchedAt: number }>();
  const aheadQueue: string[] = [];
  let aheadRunning = 0;

  async function list(path: string): Promise<FuseDirEntry[]> {
    const entries = await remote.readdir(path);
    // Re-inserted, so the map's order is listing order and the oldest goes when it is full.
    listed.delete(path);
    listed.set(path, { entries, fetchedAt: Date.now() });
    if (listed.size > MAX_LISTED) listed.delete(listed.keys().next().value as string);
    const out: FuseDirEntry[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      out[i] = { name: e.name, attr: toAttr(e.stat) };
    }
    return out;
  }

  function pumpAhead(): void {
    while (aheadRunning < READDIR_AHEAD_CONCURRENCY && aheadQueue.length > 0) {
      const dir = aheadQueue.shift()!;
      if (listings.has(dir)) continue;
      aheadRunning++;
      const entries = list(dir);
      const entry = { entries, fetchedAt: Date.now() };
      listings.set(dir, entry);
      // Only a listing someone reads fetches further ahead (in readdir): a prefetched one
      // does not, or listing the root would crawl the whole share.
      entries
        .catch(() => {
          // A failed prefetch is forgotten; the readdir that wants it asks again.
          if (listings.get(dir) === entry) listings.delete(dir);
        })
        .finally(() => {
          aheadRunning--;
          pumpAhead();
        });
    }
  }

  function readAheadOf(path: string, entries: readonly FuseDirEntry[]): void {
    if (ahead === 0) return;
    let n = 0;
    for (const e of entries) {
      if (n >= ahead) break;
      if (e.attr === undefined || (e.attr.mode & 0o170000) !== S_IFMT.dir) continue;
      const child = join(path, e.name);
      if (!listings.has(child)) aheadQueue.push(child);
      n++;
    }
    pumpAhead();
  }

  async function stat(path: string): Promise<Stat> {
    const cached = known(path);
    if (cached && Date.now() - cached.fetchedAt < ttl) return cached.stat;
    try {
      const st = await remote.stat(path);
      remember(path, st);
      return st;
    } catch (err) {
      // Offline: serve what we last knew so cached files stay readable.
      if (cached && err instanceof RemoteFsError && OFFLINE_CODES.has(err.code)) return cached.stat;
      throw err;
    }
  }

  const invalidate = (paths: readonly string[] | 'all') => {
    if (paths === 'all') {
      // Chunks stay: their keys carry the file version, so they can never be served stale,
      // and a reconnect (which sends `all`) must not throw away a warm cache.
      attrs.clear();
      listed.clear();
      listings.clear();
      headsAhead.clear();
      aheadQueue.length = 0;
      options.onInvalidate?.('/');
      return;
    }
    for (const p of paths) {
      const path = p.startsWith('/') ? p : `/${p}`;
      forget(path);
      listed.delete(path);
      listings.delete(path);
      listings.delete(parentOf(path));
      void options.cache?.invalidateFile(path);
      options.onInvalidate?.(path);
    }
  };
  remote.on('invalidate', (e) => invalidate(e.all ? 'all' : e.paths));
  // The root is what a mount is opened at (a file manager, `ls`, the first path looked up):
  // its listing, and with it the attributes of every entry, is fetched at once.
  let rootQuiet = options.rootListedAtMount === true;
  if (ahead > 0) {
    aheadQueue.push('/');
    pumpAhead();
  }
  // So is statfs (file managers and `find` ask for it first).
  let statfsCached: { value: Promise<StatFs>; fetchedAt: number } | undefined;
  function statfs(): Promise<StatFs> {
    if (statfsCached && Date.now() - statfsCached.fetchedAt < STATFS_TTL_MS) return statfsCached.value;
    const entry = {
      value: remote.statfs().then(
        (s): StatFs => ({
          bsize: s.bsize,
          frsize: s.bsize,
          blocks: s.blocks,
          bfree: s.bfree,
          bavail: s.bavail,
          files: s.files,
          ffree: s.ffree,
          namemax: s.namemax,
        }),
      ),
      fetchedAt: Date.now(),
    };
    statfsCached = entry;
    // A failure is not kept: the next call asks again.
    entry.value.catch(() => {
      if (statfsCached === entry) statfsCached = undefined;
    });
    return entry.value;
  }
  if (ahead > 0) statfs().catch(() => {});

  /** Drop-behind for a file being copied whole, as its reader moves on. */
  function dropBehind(file: OpenFile, offset: number): void {
    const drop = options.dropBehind;
    if (drop === undefined || options.reader === undefined) return;
    const from = file.droppedTo ?? 0;
    const to = offset - DROP_LAG;
    if (to - from < DROP_STEP || !options.reader.isCopying(file.path, file.version)) return;
    file.droppedTo = to;
    drop(file.path, from, to - from);
  }

  async function readRange(file: OpenFile, offset: number, length: number, fh: number): Promise<Uint8Array> {
    dropBehind(file, offset);
    if (options.reader) return options.reader.read(file.path, file.version, file.size, offset, length, fh);
    return remote.read(file.path, offset, length, file.version);
  }

  async function readRangeParts(
    file: OpenFile,
    offset: number,
    length: number,
    fh: number,
  ): Promise<Uint8Array[]> {
    dropBehind(file, offset);
    if (options.reader)
      return options.reader.readParts(file.path, file.version, file.size, offset, length, fh);
    return [await remote.read(file.path, offset, length, file.version)];
  }

  /** Reads through `how`; a file changed on the host since open continues with its new version. */
  async function readFile<T>(path: string, fh: number, how: (file: OpenFile) => Promise<T>): Promise<T> {
    let file = handles.get(fh);
    if (!file) {
      const st = await stat(path);
      file = { path, version: st.version, size: st.size };
    }
    try {
      return await how(file);
    } catch (err) {
      // Rather than failing the reader: editors replace files under readers all the time.
      if (err instanceof RemoteFsError && err.code === 'ESTALE') {
        forget(path);
        const st = await stat(path);
        file = { path, version: st.version, size: st.size };
        handles.set(fh, file);
        return how(file);
      }
      throw err;
    }
  }

  /**
   * A handle's first read, from the head fetched at open when it lies within it; `undefined`
   * otherwise (any other first read drops the head). Synchronous when there is no head, so the
   * read path pays no extra await.
   */
  function fromHead(fh: number, offset: number, length: number): Promise<Uint8Array | undefined> | undefined {
    const head = heads.get(fh);
    if (head === undefined) return undefined;
    heads.delete(fh);
    const chunk = chunkAfterRead.get(fh);
    chunkAfterRead.delete(fh);
    // After this read's reply (which runs first, as the read's continuation).
    if (chunk !== undefined) setImmediate(chunk);
    if (offset !== 0 || length > HEAD_BYTES) return undefined;
    return head.then(
      (bytes) => {
        const file = handles.get(fh);
        // A short head (the file changed meanwhile) leaves the read to the usual path.
        if (file === undefined || bytes.byteLength < Math.min(length, file.size)) return undefined;
        return bytes.subarray(0, Math.min(length, bytes.byteLength));
      },
      // A failed head (ESTALE, say) too.
      () => undefined,
    );
  }

  return {
    invalidate,
    copyStats: () => ({ ...copyCounts }),
    async getattr(path) {
      return toAttr(await stat(path));
    },
    async readdir(path) {
      const quiet = path === '/' && rootQuiet;
      if (quiet) rootQuiet = false;
      const cached = listings.get(path);
      if (cached && Date.now() - cached.fetchedAt < ttl) {
        // Used once: a second listing of the same directory asks the host again.
        listings.delete(path);
        const entries = await cached.entries.catch(() => undefined);
        if (entries) {
          if (!quiet) readAheadOf(path, entries);
          fetchHeadsOf(path);
          return entries;
        }
      }
      const entries = await list(path);
      if (!quiet) readAheadOf(path, entries);
      fetchHeadsOf(path);
      return entries;
    },
    async open(path) {
      const st = await stat(path);
      if (st.type === 'dir') throw RemoteFsError.of('EISDIR', `${path} is a directory`);
      const fh = nextFh++;
      const reader = options.reader;
      // Almost every open is followed by a read at offset 0: its bytes (the head, HEAD_BYTES) are
      // asked for first thing, so the host round trip overlaps the rest of the open, its reply
      // and the kernel's read request (which takes the head). Measured: the first read() after
      // open went from 2.0-3.2 ms to 0.95-1.9 ms (loopback, loaded 2-core box); an open without
      // a read only warms the cache. Not when the first chunk is cached (it answers at once), nor
      // while the file is being copied whole (`dd` again as the first one ends: the copy is
      // waited for below).
      // A head fetched ahead is used as is: whether the chunk was cached was asked when it was
      // fetched, and asking again (an L2 query) cost this open ~0.3 ms after idle.
      const ahead = takeHeadAhead(path, st.version);
      const head =
        ahead ??
        (reader !== undefined &&
        st.size > WHOLE_AT_OPEN_BYTES &&
        !reader.has(path, st.version, 0) &&
        !reader.isCopying(path, st.version)
          ? remote.read(path, 0, HEAD_BYTES, st.version)
          : undefined);
      head?.catch(() => {});
      // After the head left: a copy another process made (this one's are known to `has`) costs
      // a head fetched for nothing, 16 KiB.
      const found = reader?.localCopy(path, st.version, st.size);
      const copy = found instanceof Promise ? await found : found;
      handles.set(fh, { path, version: st.version, size: st.size, ...(copy === undefined ? {} : { copy }) });
      // The kernel reads the copy itself (passthrough), or the reads below do: no fetch.
      if (copy !== undefined) {
        copyCounts.opens++;
        return fh;
      }
      if (reader !== undefined && st.size > 0) {
        const prefetch = () => {
          reader.read(path, st.version, st.size, 0, Math.min(st.size, reader.chunkSize)).catch(() => {});
        };
        if (head !== undefined) {
          heads.set(fh, head);
          if (head === ahead) {
            // Fetched ahead, so here already: the chunk's request (~0.3-0.8 ms of JS and TLS
            // after idle) would go out before the kernel's first read reached us, and that read
            // waited behind it (strace of `head -c 1`).
            chunkAfterRead.set(fh, prefetch);
          } else {
            // The chunk once the head has arrived: asked for at once, its read raced the head's
            // on the host's disk (the same first pages, after a cache drop) and its answer queued
            // in front of the head's processing (`head -c 1` after a cache drop, two loops of ten
            // mounts: median 5.2/6.1 -> 4.6/5.2 ms). A reader that wants more than the head asks
            // for the chunk itself, with its first read.
            const later = () => setImmediate(prefetch);
            head.then(later, later);
          }
        } else if (st.size <= WHOLE_AT_OPEN_BYTES) {
          // A small file comes whole with its chunk, asked for at once (a head as well would
          // double the host's work for every small file `tar` or `cp -r` opens).
          prefetch();
        }
      }
      // After this file's own fetch: the next files of a directory being walked in order.
      fetchSiblingsAhead(path);
      return fh;
    },
    passthroughPath(fh) {
      return handles.get(fh)?.copy;
    },
    read(path, fh, offset, length) {
      // A read of an open file with a copy reached us anyway (no passthrough: not root, an older
      // kernel, the inode already open through the page cache): the chunk cache reads the copy.
      if (handles.get(fh)?.copy !== undefined) copyCounts.readsHere++;
      const usual = () => readFile(path, fh, (file) => readRange(file, offset, length, fh));
      const head = fromHead(fh, offset, length);
      return head === undefined ? usual() : head.then((b) => b ?? usual());
    },
    readv(path, fh, offset, length) {
      if (handles.get(fh)?.copy !== undefined) copyCounts.readsHere++;
      const usual = () => readFile(path, fh, (file) => readRangeParts(file, offset, length, fh));
      const head = fromHead(fh, offset, length);
      return head === undefined ? usual() : head.then((b) => (b === undefined ? usual() : [b]));
    },
    async release(_path, fh) {
      handles.delete(fh);
      heads.delete(fh);
      chunkAfterRead.delete(fh);
      options.reader?.release(fh);
    },
    async readlink(path) {
      return remote.readlink(path);
    },
    statfs,
  };
}
