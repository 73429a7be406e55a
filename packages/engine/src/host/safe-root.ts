import { realpath } from 'node:fs/promises';
import { constants as os } from 'node:os';
import { EngineError } from '../engine-error.js';
import { RemoteFsError } from '../remote-fs-error.js';
import {
  closeQuietly,
  dupDirNow,
  fdPath,
  lstatBig,
  O_DIR_NOFOLLOW,
  O_FILE_NOFOLLOW,
  openFd,
  readlinkStr,
} from './fs-calls.js';
import { type NativeFs, OpenField, type OpenReadResult } from './native-fs.js';

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.errno).map(([name, n]) => [n, name]));

/** A file opened and first read by the native helper (`SafeRoot.openRead`). */
export interface OpenedRead extends OpenReadResult {
  readonly fd: number;
}

/** Symlinks followed in one resolution before ELOOP (Linux's own limit is 40). */
const MAX_HOPS = 40;

/**
 * Where a path landed: an open directory fd plus the final name inside it, or (`name` null)
 * the directory itself. The caller owns `dirFd` and must `release()` it.
 */
export interface Located {
  readonly dirFd: number;
  readonly name: string | null;
  /** Real components from the root to `dirFd` (no symlinks in them). */
  readonly dirPath: readonly string[];
  release(): void;
}

/**
 * The share root, pinned by an open directory fd, and a walker that resolves peer paths
 * below it the way openat(2) with O_NOFOLLOW would, using `/proc/self/fd/N/name` (Linux).
 *
 * Why this is race-safe: every step opens exactly one name relative to the fd of a directory
 * that is already known to be inside the root, with O_NOFOLLOW|O_DIRECTORY, so the kernel
 * itself refuses to cross a symlink. A symlink is only ever "followed" by reading its target
 * and re-walking that target lexically from the root fd (or from the current directory fd),
 * with the same no-follow steps; a target that lexically leaves the root is refused (EACCES)
 * before anything is opened. Swapping a directory for a symlink between two steps makes the
 * next open fail (ENOTDIR/ELOOP) instead of escaping, and nothing is checked by path string
 * and then re-opened by path string, so there is no check-then-use window.
 */
export class SafeRoot {
  readonly realRoot: string;
  readonly #rootFd: number;
  #closed = false;

  private constructor(realRoot: string, rootFd: number) {
    this.realRoot = realRoot;
    this.#rootFd = rootFd;
  }

  static async open(root: string): Promise<SafeRoot> {
    if (process.platform !== 'linux')
      throw EngineError.BAD_ROOT(root, new Error('the host needs /proc/self/fd (Linux)'));
    try {
      const real = await realpath(root);
      const fd = await openFd(real, O_DIR_NOFOLLOW);
      return new SafeRoot(real, fd);
    } catch (err) {
      throw EngineError.BAD_ROOT(root, err);
    }
  }

  /** The pinned root fd, for statfs and similar root-wide calls. */
  get rootFdPath(): string {
    return fdPath(this.#rootFd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#rootFd);
  }

  /**
   * Resolves `components` (already lexically validated by `parseSharePath`). Intermediate
   * symlinks are followed only while they stay inside the root. The final component is
   * followed only when `followFinal` (READ/READDIR); STAT and READLINK see the link itself.
   */
  async locate(components: readonly string[], followFinal: boolean): Promise<Located> {
    if (this.#closed) throw RemoteFsError.EIO('share is closed');
    const todo = [...components];
    let stack: string[] = [];
    // Directory fds are duplicated and closed on the event loop (no disk wait for either): a
    // thread-pool hop each cost more than the call, ~10 hops per small file read.
    let cur = dupDirNow(this.#rootFd);
    let hops = 0;
    try {
      while (todo.length > 0) {
        const name = todo.shift()!;
        if (name === '' || name === '.') continue;
        if (name === '..') {
          // Only reachable from a symlink target: fold it by re-walking the real prefix.
          if (stack.length === 0) throw RemoteFsError.EACCES('symlink escapes the share root');
          todo.unshift(...stack.slice(0, -1));
          stack = [];
          closeQuietly(cur);
          cur = dupDirNow(this.#rootFd);
          continue;
        }
        const last = todo.length === 0;
        if (last && !followFinal) return this.#located(cur, name, stack);
        let next: number;
        try {
          next = await openFd(fdPath(cur, name), O_DIR_NOFOLLOW);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
          // Not a directory: a symlink (follow it inside the root) or a plain file.
          const st = await lstatBig(fdPath(cur, name));
          if (!st.isSymbolicLink()) {
            if (last) return this.#located(cur, name, stack);
            throw RemoteFsError.of('ENOTDIR', 'not a directory');
          }
          if (++hops > MAX_HOPS) throw RemoteFsError.ELOOP(components.join('/'));
          const target = await readlinkStr(fdPath(cur, name));
          if (target.includes('\0') || target === '') throw RemoteFsError.EACCES('bad symlink target');
          if (target.startsWith('/')) {
            const rel = this.#relativeToRoot(target);
            if (rel === null) throw RemoteFsError.EACCES('symlink points outside the share root');
            todo.unshift(...rel);
            stack = [];
            closeQuietly(cur);
            cur = dupDirNow(this.#rootFd);
          } else {
            todo.unshift(...target.split('/'));
          }
          continue;
        }
        closeQuietly(cur);
        cur = next;
        stack.push(name);
      }
      return this.#located(cur, null, stack);
    } catch (err) {
      closeQuietly(cur);
      throw RemoteFsError.fromNode(err);
    }
  }

  /**
   * Opens a file for reading below the root (final symlinks followed inside the root), with
   * O_NONBLOCK so a FIFO cannot park the open. Returns the fd; the caller fstats it and refuses
   * anything but a regular file.
   */
  async openFile(components: readonly string[]): Promise<number> {
    // Usually the final name is a plain file: open it with O_NOFOLLOW straight away (the caller
    // fstats the fd and refuses anything but a regular file). Only a final symlink (ELOOP) takes
    // the walk that follows it inside the root. Saves two thread-pool hops per cold open.
    const direct = await this.locate(components, false);
    try {
      if (direct.name !== null) return await openFd(fdPath(direct.dirFd, direct.name), O_FILE_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw RemoteFsError.fromNode(err);
    } finally {
      direct.release();
    }
    const loc = await this.locate(components, true);
    try {
      if (loc.name === null) throw RemoteFsError.of('EISDIR', 'is a directory');
      // O_NOFOLLOW: if the name was swapped for a symlink after the walk, this fails (ELOOP).
      return await openFd(fdPath(loc.dirFd, loc.name), O_FILE_NOFOLLOW);
    } catch (err) {
      throw RemoteFsError.fromNode(err);
    } finally {
      loc.release();
    }
  }

  /**
   * `openFile` and the first read in one native job, for paths with no link on the way: every
   * component is opened with O_NOFOLLOW relative to the previous directory's fd, from a copy of
   * the root fd. `undefined` when a component is a symlink (ELOOP) or not a directory where one
   * is needed (ENOTDIR): the caller then takes `openFile`, whose walk follows links inside the
   * root. Other failures throw as `openFile` would.
   */
  async openRead(
    native: NativeFs,
    components: readonly string[],
    offset: number,
    length: number,
  ): Promise<OpenedRead | undefined> {
    if (this.#closed) throw RemoteFsError.EIO('share is closed');
    if (components.length === 0) return undefined;
    const dir = dupDirNow(this.#rootFd);
    let r: OpenReadResult;
    try {
      r = await native.openRead(dir, components, offset, length);
    } finally {
      closeQuietly(dir);
    }
    const errno = r.fields[0]!;
    if (errno !== 0) {
      const code = ERRNO_NAMES.get(errno) ?? 'EIO';
      if (code === 'ELOOP' || code === 'ENOTDIR') return undefined;
      throw RemoteFsError.fromNode({ code });
    }
    return { ...r, fd: r.fields[OpenField.fd]! };
  }

  #relativeToRoot(abs: string): string[] | null {
    if (abs === this.realRoot) return [];
    const prefix = this.realRoot.endsWith('/') ? this.realRoot : `${this.realRoot}/`;
    if (!abs.startsWith(prefix)) return null;
    return abs.slice(prefix.length).split('/');
  }

  #located(dirFd: number, name: string | null, stack: string[]): Located {
    let released = false;
    return {
      dirFd,
      name,
      dirPath: stack,
      release: () => {
        if (released) return;
        released = true;
        closeQuietly(dirFd);
      },
    };
  }
}
