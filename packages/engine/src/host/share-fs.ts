import {
  type DirEntry,
  type EntryType,
  FRAME_HEADER_BYTES,
  FrameKind,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ReaddirResult,
  type Stat,
  type StatfsResult,
} from '@wormhole/protocol';
import { RemoteFsError } from '../remote-fs-error.js';
import { FdCache } from './fd-cache.js';
import {
  closeQuietly,
  fdPath,
  fstatBig,
  fstatBigNow,
  lstatBig,
  readdirNames,
  readInto,
  readlinkStr,
  statfsPath,
} from './fs-calls.js';
import { loadNativeFs, type NativeFs, StatField } from './native-fs.js';
import type { OpenedRead, SafeRoot } from './safe-root.js';
import { parseSharePath } from './share-path.js';
import { lstatWireAt, toWireStat, typeOf, typeOfMode, versionOf, versionOfFields } from './stat-convert.js';

/** Entries per READDIR page when the client does not say. */
export const DEFAULT_READDIR_PAGE = 1024;
/** A page's encoded size must leave room for the frame header (and msgpack framing slack). */
const PAGE_SLACK = 1024;
/** Rough upper bound of one encoded entry besides its name (msgpack of a Stat). */
const ENTRY_OVERHEAD = 256;
/**
 * Names lstat'ed per native-helper job: a 100-entry directory in one job; a huge one in a few,
 * so a page cut short by the frame budget wastes little.
 */
const NATIVE_BATCH = 256;

interface Listing {
  readonly version: string;
  readonly names: readonly string[];
}

/**
 * The file-system half of the host: every operation a peer may ask for, over one SafeRoot.
 * Shared by all sessions; holds the fd cache and a small cache of sorted directory listings
 * (so paging a 10,000-entry directory lists it once, not once per page).
 */
export class ShareFs {
  readonly root: SafeRoot;
  readonly fds: FdCache;
  readonly #listings = new Map<string, Listing>();
  readonly #maxListings = 16;
  readonly #native: NativeFs | undefined;

  /** `nativeFs: false` lists with node:fs even where the native helper is built (tests, A/B). */
  constructor(root: SafeRoot, fdCacheSize: number, nativeFs = true) {
    this.root = root;
    this.fds = new FdCache(fdCacheSize);
    this.#native = nativeFs ? loadNativeFs() : undefined;
  }

  /** Forgets cached fds and listings for changed paths. */
  invalidate(paths: readonly string[] | null): void {
    if (paths === null) {
      this.fds.invalidateAll();
      this.#listings.clear();
      return;
    }
    this.fds.invalidate(paths);
    for (const p of paths) this.#listings.delete(p);
  }

  close(): void {
    this.fds.close();
    this.#listings.clear();
    this.root.close();
  }

  async stat(path: string): Promise<Stat> {
    const loc = await this.root.locate(parseSharePath(path), false);
    try {
      const st = loc.name === null ? await fstatBig(loc.dirFd) : await lstatBig(fdPath(loc.dirFd, loc.name));
      return toWireStat(st);
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    } finally {
      loc.release();
    }
  }

  async readlink(path: string): Promise<string> {
    const loc = await this.root.locate(parseSharePath(path), false);
    try {
      if (loc.name === null) throw RemoteFsError.EINVAL('not a symlink');
      // readlink never follows the final component; the parent is an fd inside the root.
      return await readlinkStr(fdPath(loc.dirFd, loc.name));
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    } finally {
      loc.release();
    }
  }

  async statfs(): Promise<StatfsResult> {
    try {
      const s = await statfsPath(this.root.rootFdPath);
      return {
        bsize: s.bsize,
        blocks: s.blocks,
        bfree: s.bfree,
        bavail: s.bavail,
        files: s.files,
        ffree: s.ffree,
        namemax: 255,
      };
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    }
  }

  /** `maxBody`: the largest frame body the session's channel can carry. */
  async readdir(
    path: string,
    cursor = 0,
    limit = DEFAULT_READDIR_PAGE,
    maxBody = MAX_FRAME_BYTES - FRAME_HEADER_BYTES,
  ): Promise<ReaddirResult> {
    const comps = parseSharePath(path);
    const loc = await this.root.locate(comps, true);
    try {
      if (loc.name !== null) throw RemoteFsError.of('ENOTDIR', 'not a directory');
      const dirStat = await fstatBig(loc.dirFd);
      const key = loc.dirPath.join('/');
      const version = versionOf(dirStat);
      let listing = this.#listings.get(key);
      if (!listing || listing.version !== version) {
        const names = (await readdirNames(fdPath(loc.dirFd))).sort();
        listing = { version, names };
        this.#listings.set(key, listing);
        while (this.#listings.size > this.#maxListings)
          this.#listings.delete(this.#listings.keys().next().value as string);
      }
      const entries: DirEntry[] = [];
      let i = cursor;
      let budget = maxBody - PAGE_SLACK;
      const names = listing.names;
      const native = this.#native;
      while (i < names.length && entries.length < limit) {
        const batch = names.slice(
          i,
          Math.min(names.length, i + Math.min(native ? NATIVE_BATCH : 64, limit - entries.length)),
        );
        // On the thread pool: a cold inode waits for the disk, and the event loop must keep
        // serving other requests meanwhile (synchronous lstat halved the CPU of a warm listing,
        // 10,000 entries 105-168 -> 48-78 ms, but would stall every client on a slow disk).
        // The native helper does a whole batch in one job, relative to the directory's fd.
        const stats = native
          ? await lstatWireAt(native, loc.dirFd, batch)
          : await Promise.all(
              batch.map((name) => lstatBig(fdPath(loc.dirFd, name)).then(toWireStat, () => null)),
            );
        let j = 0;
        for (; j < batch.length; j++) {
          const cost = ENTRY_OVERHEAD + 3 * batch[j]!.length;
          if (budget - cost < 0 && entries.length > 0) break;
          budget -= cost;
          const stat = stats[j];
          // Vanished between listing and lstat: skip it, as readdir(3) would.
          if (stat) entries.push({ name: batch[j]!, stat });
        }
        i += j;
        if (j < batch.length) break;
      }
      return i < names.length ? { entries, next: i } : { entries };
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    } finally {
      loc.release();
    }
  }

  /**
   * Reads into a ready-to-send DATA frame (header written in place, so the bytes are copied
   * once, kernel → frame). `version`, when given, must match the file's current version.
   */
  async readFrame(
    id: number,
    path: string,
    offset: number,
    length: number,
    version?: string,
  ): Promise<Uint8Array> {
    const comps = parseSharePath(path);
    const key = comps.join('/');
    // A file not in the fd cache is opened and first read in one native job where possible.
    let first: OpenedRead | undefined;
    const open = async () => {
      const native = this.#native;
      const opened = native ? await this.root.openRead(native, comps, offset, length) : undefined;
      if (opened !== undefined) {
        first = opened;
        return regularOrClose(opened.fd, typeOfMode(opened.fields[StatField.mode]!));
      }
      const fd = await this.root.openFile(comps);
      let type: EntryType;
      try {
        type = typeOf(fstatBigNow(fd));
      } catch (err) {
        closeQuietly(fd);
        throw err;
      }
      return regularOrClose(fd, type);
    };
    let lease = await this.fds.acquire(key, open);
    try {
      // The bytes came with the open, from the same fstat the version is judged on.
      if (
        first?.frame !== undefined &&
        (version === undefined || versionOfFields(first.fields) === version)
      ) {
        const frame = first.frame;
        frame[0] = PROTOCOL_VERSION;
        frame[1] = FrameKind.DATA;
        frame.writeUInt32BE(id, 2);
        return frame;
      }
      // fstat of an open fd never waits for the disk: on the event loop it costs a syscall,
      // on the thread pool a hop each way, per chunk read (235 ms of the host's main thread
      // per GiB in a profile).
      let st = fstatBigNow(lease.fd);
      if (version !== undefined && versionOf(st) !== version) {
        // The cached fd may predate a rename-over that the watcher has not reported yet:
        // judge staleness on a fresh open before answering ESTALE.
        lease.release();
        this.fds.invalidate([key]);
        lease = await this.fds.acquire(key, open);
        st = fstatBigNow(lease.fd);
        if (versionOf(st) !== version) throw RemoteFsError.ESTALE(path);
      }
      // Clients ask for whole chunks (256 KiB); a small file's answer is sized to the file, not
      // to the request: a 256 KiB buffer per 5 KiB file made `tar` of 10,000 small files spend
      // a fifth of the host's CPU in GC. Bytes appended after the fstat are not read (as if the
      // read came first); the version names what was read.
      const size = Number(st.size);
      length = Math.max(0, Math.min(length, size - offset));
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
      let got = 0;
      while (got < length) {
        const n = await readInto(lease.fd, frame, FRAME_HEADER_BYTES + got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      frame[0] = PROTOCOL_VERSION;
      frame[1] = FrameKind.DATA;
      frame.writeUInt32BE(id, 2);
      return frame.subarray(0, FRAME_HEADER_BYTES + got);
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    } finally {
      lease.release();
    }
  }
}

/** `fd` when it is a regular file; otherwise closes it and throws (a FIFO or device is never read). */
function regularOrClose(fd: number, type: EntryType): number {
  if (type === 'file') return fd;
  closeQuietly(fd);
  if (type === 'dir') throw RemoteFsError.of('EISDIR', 'is a directory');
  throw RemoteFsError.EINVAL('not a regular file');
}
