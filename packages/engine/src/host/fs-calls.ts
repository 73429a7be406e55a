import * as fs from 'node:fs';
import { promisify } from 'node:util';

// Raw-fd flavours of node:fs. The host works with plain fds (not FileHandle) so it controls
// exactly when each one closes, and so the procfs walk can name them as /proc/self/fd/N.
export const openFd = promisify(fs.open) as (path: string, flags: number) => Promise<number>;
export const closeFd = promisify(fs.close);
export const fstatBig = (fd: number): Promise<fs.BigIntStats> =>
  new Promise((resolve, reject) =>
    fs.fstat(fd, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))),
  );
export const lstatBig = (path: string): Promise<fs.BigIntStats> =>
  new Promise((resolve, reject) =>
    fs.lstat(path, { bigint: true }, (err, st) => (err ? reject(err) : resolve(st))),
  );
/**
 * Opens `.` of a directory we hold open, on the event loop: its inode is in memory, so this never
 * waits for the disk, and a thread-pool hop costs more than the call.
 */
export const dupDirNow = (dirFd: number): number => fs.openSync(fdPath(dirFd, '.'), O_DIR_NOFOLLOW);
/** fstat on the event loop: for an fd that is open, so its inode is in memory. */
export const fstatBigNow = (fd: number): fs.BigIntStats => fs.fstatSync(fd, { bigint: true });
export const readlinkStr = (path: string): Promise<string> =>
  new Promise((resolve, reject) =>
    fs.readlink(path, 'utf8', (err, target) => (err ? reject(err) : resolve(target))),
  );
export const readdirNames = (path: string): Promise<string[]> =>
  new Promise((resolve, reject) =>
    fs.readdir(path, 'utf8', (err, names) => (err ? reject(err) : resolve(names))),
  );
export const readInto = (fd: number, buf: Uint8Array, at: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    fs.read(fd, buf, at, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
export const statfsPath = promisify(fs.statfs) as (path: string) => Promise<fs.StatsFs>;

/**
 * Closes without throwing: used on cleanup paths where the first error is the one to report.
 * On the event loop: the host only closes directories and files it opened read-only, which
 * never wait for the disk, and handing a close to the thread pool cost ~50 µs of the event
 * loop (waking a pool thread) — three per small file served (`tar` of 10,000 files).
 */
export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EBADF and the like: nothing left to release
  }
}

/** `/proc/self/fd/N[/name]`: names a file relative to an open directory fd, like openat(2). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

export const O_DIR_NOFOLLOW =
  fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
// O_NONBLOCK: opening a FIFO someone left in the share must never park a libuv thread forever.
export const O_FILE_NOFOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
