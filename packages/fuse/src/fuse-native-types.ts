// A minimal typed view of fuse-native 2.2.6 (it ships no types): only what this package uses.

/** `cb(result)`: 0 or a positive count for success, a negative errno for failure. */
export type NativeCallback<T extends unknown[] = []> = (errOrResult: number, ...rest: T) => void;

/** The stat object fuse-native converts; times in ms. */
export interface NativeStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  blocks: number;
  blksize: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface NativeStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

/** The handlers fuse-native calls (a subset of its full list). */
export interface NativeOps {
  init?(cb: NativeCallback): void;
  getattr?(path: string, cb: NativeCallback<[NativeStat?]>): void;
  readdir?(path: string, cb: NativeCallback<[string[]?, NativeStat[]?]>): void;
  open?(path: string, flags: number, cb: NativeCallback<[number?]>): void;
  read?(
    path: string,
    fh: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (bytesOrErrno: number) => void,
  ): void;
  release?(path: string, fh: number, cb: NativeCallback): void;
  readlink?(path: string, cb: NativeCallback<[string?]>): void;
  statfs?(path: string, cb: NativeCallback<[NativeStatfs?]>): void;
  write?(
    path: string,
    fh: number,
    buf: Buffer,
    len: number,
    pos: number,
    cb: (bytesOrErrno: number) => void,
  ): void;
  create?(path: string, mode: number, cb: NativeCallback<[number?]>): void;
  truncate?(path: string, size: number, cb: NativeCallback): void;
  ftruncate?(path: string, fh: number, size: number, cb: NativeCallback): void;
  unlink?(path: string, cb: NativeCallback): void;
  mkdir?(path: string, mode: number, cb: NativeCallback): void;
  rmdir?(path: string, cb: NativeCallback): void;
  rename?(from: string, to: string, cb: NativeCallback): void;
  chmod?(path: string, mode: number, cb: NativeCallback): void;
  chown?(path: string, uid: number, gid: number, cb: NativeCallback): void;
  utimens?(path: string, atime: number, mtime: number, cb: NativeCallback): void;
  fsync?(path: string, datasync: number, fh: number, cb: NativeCallback): void;
  flush?(path: string, fh: number, cb: NativeCallback): void;
}

/** Constructor options fuse-native understands (subset). */
export interface NativeOptions {
  displayFolder?: boolean;
  debug?: boolean;
  force?: boolean;
  mkdir?: boolean;
  autoUnmount?: boolean;
  allowOther?: boolean;
  defaultPermissions?: boolean;
  fsname?: string;
  subtype?: string;
  kernelCache?: boolean;
  autoCache?: boolean;
  attrTimeout?: number;
  entryTimeout?: number;
  acAttrTimeout?: number;
  maxRead?: number;
  /** Per-handler timeout in ms (fuse-native default 15000); `false` disables it. */
  timeout?: number | false;
}

/** An instance of fuse-native's `Fuse` class. */
export interface NativeFuse {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

/** The fuse-native module export. */
export interface NativeFuseClass {
  new (mnt: string, ops: NativeOps, opts?: NativeOptions): NativeFuse;
  unmount(mnt: string, cb: (err: Error | null) => void): void;
}
