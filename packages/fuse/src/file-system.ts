/**
 * Attributes of one file, directory or symlink. Times are milliseconds since the epoch (FUSE
 * via fuse-native carries millisecond precision).
 */
export interface Attr {
  /** Type and permission bits, as in `stat.st_mode` (e.g. `0o100644`, `0o40755`, `0o120777`). */
  mode: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ctimeMs: number;
  nlink: number;
  /** Owner; ignored unless the mount sets `preserveOwners` (remote ids mean nothing locally). */
  uid?: number;
  gid?: number;
  ino?: number;
  /** 512-byte blocks; `ceil(size / 512)` when absent so `du` is not zero. */
  blocks?: number;
}

/** One directory entry; `attr`, when given, primes the mount's attribute cache (saves a getattr per entry on `ls -l`). */
export interface DirEntry {
  name: string;
  attr?: Attr;
}

/** File-system statistics for `df` / `statfs(2)`. */
export interface StatFs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

/**
 * What a mount talks to. Paths are absolute within the share, `/`-separated, starting at `/`.
 * To fail an operation, throw (or reject with) an error whose `code` is a POSIX errno name
 * (`ENOENT`, `EACCES`, `ENOTCONN`, ...; see `errnoError`). Anything else becomes EIO.
 * Calls may run concurrently; each is bounded by the mount's `opTimeoutMs` (then EIO).
 *
 * The write operations are optional: a file system without `write` is mounted read-only.
 */
export interface FileSystem {
  getattr(path: string): Promise<Attr>;
  readdir(path: string): Promise<DirEntry[]>;
  /** Opens a file; `flags` are open(2) flags. Returns a handle passed back to read/release. */
  open(path: string, flags: number): Promise<number>;
  /** Up to `length` bytes at `offset`; fewer only at end of file. */
  read(path: string, fh: number, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: the same bytes as `read`, as consecutive pieces. The libfuse3 binding replies
   * with one gather write over them, so a read spanning several cached chunks is not first
   * copied into one buffer.
   */
  readv?(path: string, fh: number, offset: number, length: number): Promise<Uint8Array[]>;
  /**
   * Optional: a local file holding exactly the bytes of the file `fh` opened (asked right after
   * `open`). A read-only libfuse3 mount whose kernel offers FUSE passthrough (Linux >= 6.9, as
   * root) hands it to the kernel, which then reads that file itself: no read of this open
   * reaches the FileSystem, and the page cache is the local file's.
   */
  passthroughPath?(fh: number): string | undefined;
  release(path: string, fh: number): Promise<void>;
  readlink(path: string): Promise<string>;
  statfs(): Promise<StatFs>;

  write?(path: string, fh: number, data: Uint8Array, offset: number): Promise<number>;
  create?(path: string, mode: number): Promise<number>;
  truncate?(path: string, size: number): Promise<void>;
  unlink?(path: string): Promise<void>;
  mkdir?(path: string, mode: number): Promise<void>;
  rmdir?(path: string): Promise<void>;
  rename?(from: string, to: string): Promise<void>;
  chmod?(path: string, mode: number): Promise<void>;
  utimens?(path: string, atimeMs: number, mtimeMs: number): Promise<void>;
  fsync?(path: string, fh: number, datasync: boolean): Promise<void>;
  flush?(path: string, fh: number): Promise<void>;
}

/** Names of the optional write operations, in wire order. */
export const WRITE_OPS = [
  'write',
  'create',
  'truncate',
  'unlink',
  'mkdir',
  'rmdir',
  'rename',
  'chmod',
  'utimens',
  'fsync',
  'flush',
] as const;
