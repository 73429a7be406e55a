// The only module that loads the project's libfuse3 binding (native/wormhole_fuse3.c). It is
// built by native/build.mjs where libfuse3-dev and a compiler exist; elsewhere loading fails and
// mounts use fuse-native. The failure is kept for `checkFuse()` to explain.
import { createRequire } from 'node:module';

/** Opaque mount handle of the binding. */
export type Fuse3Handle = { readonly __fuse3: unique symbol };

/**
 * Called on the JS thread for each FUSE request the binding does not answer itself. `id` names
 * the request in exactly one reply call. `a`..`e`, `path2` and `data` depend on `op` (see Op).
 */
export type Fuse3OpHandler = (
  op: number,
  id: number,
  path: string,
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  path2: string | undefined,
  data: Uint8Array | undefined,
) => void;

/** The binding's functions. Every reply returns false when `id` is not pending (already answered, or unmounted). */
export interface Fuse3Addon {
  /** Built with libuv's header: requests can be read on the JS thread (see mount's `threadLoop`). */
  readonly mainLoop: boolean;
  /**
   * `threadLoop`: read requests on libfuse's own threads and hand each to the JS thread, instead
   * of reading them on the JS thread (the default where `mainLoop` is true).
   */
  mount(
    mountpoint: string,
    args: string[],
    readOnly: boolean,
    onOp: Fuse3OpHandler,
    onExit: (rc: number) => void,
    threadLoop?: boolean,
    /** Negotiate FUSE passthrough (read-only main-loop mounts; the kernel may decline). */
    passthrough?: boolean,
  ): Fuse3Handle;
  exit(h: Fuse3Handle): void;
  destroy(h: Fuse3Handle): void;
  replyErr(h: Fuse3Handle, id: number, errno: number): boolean;
  replyEntry(
    h: Fuse3Handle,
    id: number,
    attr: Float64Array,
    attrTimeoutS: number,
    entryTimeoutS: number,
  ): boolean;
  replyCreate(
    h: Fuse3Handle,
    id: number,
    attr: Float64Array,
    attrTimeoutS: number,
    entryTimeoutS: number,
    fh: number,
    keepCache: boolean,
  ): boolean;
  replyAttr(h: Fuse3Handle, id: number, attr: Float64Array, attrTimeoutS: number): boolean;
  /**
   * `backingPath`: a local file with the open file's bytes, for a passthrough open (used only
   * when the mount negotiated passthrough and the kernel accepts the file; otherwise a normal open).
   */
  replyOpen(h: Fuse3Handle, id: number, fh: number, keepCache: boolean, backingPath?: string): boolean;
  replyData(h: Fuse3Handle, id: number, data: Uint8Array): boolean;
  /** One gather write of consecutive pieces (at most 256). */
  replyDataV(h: Fuse3Handle, id: number, parts: Uint8Array[]): boolean;
  replyWrite(h: Fuse3Handle, id: number, count: number): boolean;
  replyReadlink(h: Fuse3Handle, id: number, target: string): boolean;
  replyStatfs(h: Fuse3Handle, id: number, fields: Float64Array): boolean;
  replyDir(
    h: Fuse3Handle,
    id: number,
    names: string[],
    attrs: Float64Array,
    attrTimeoutS: number,
    entryTimeoutS: number,
  ): boolean;
  /** Drops the kernel's cached attributes, data and name of `path`; true when the kernel knew it. */
  invalidate(h: Fuse3Handle, path: string): boolean;
  /** Drops `[offset, offset + length)` of the kernel's page cache of `path` (length > 0); true when the kernel knew it. */
  invalidateData(h: Fuse3Handle, path: string, offset: number, length: number): boolean;
  /**
   * Stores `bytes` (at most 1 MiB) at `offset` in the kernel's page cache of `path`, behind any
   * invalidation queued before; true when the kernel knows the path (not open in passthrough).
   */
  storeData(h: Fuse3Handle, path: string, offset: number, bytes: Uint8Array): boolean;
  /** [inodes the kernel holds, requests waiting for a reply, passthrough negotiated (0/1), passthrough opens so far] */
  stats(h: Fuse3Handle): [number, number, number, number];
}

/** Operation codes (the `op` argument); the same numbers as in wormhole_fuse3.c. */
export const Op = {
  lookup: 1,
  getattr: 2,
  readlink: 3,
  open: 4,
  read: 5,
  release: 6,
  opendir: 7,
  statfs: 8,
  write: 9,
  create: 10,
  setattr: 11,
  unlink: 12,
  mkdir: 13,
  rmdir: 14,
  rename: 15,
  flush: 16,
  fsync: 17,
} as const;

/** Field order of an attribute record (Float64Array of ATTR_FIELDS per entry), as in wormhole_fuse3.c. */
export const ATTR_FIELDS = 9;

let loaded: { addon: Fuse3Addon } | { error: unknown } | undefined;

/** The binding, or why it did not load. Cached after the first call. */
export function loadFuse3(): { addon: Fuse3Addon } | { error: unknown } {
  if (loaded === undefined) {
    try {
      const require = createRequire(import.meta.url);
      // src/ and dist/ are both one level below the package root.
      loaded = { addon: require('../native/build/wormhole_fuse3.node') as Fuse3Addon };
    } catch (error) {
      loaded = { error };
    }
  }
  return loaded;
}
