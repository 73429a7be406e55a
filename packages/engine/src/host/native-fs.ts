// The only module that loads the host's native helper (native/wormhole_hostfs.c, built by
// native/build.mjs). Where it is missing (no compiler, not Linux) or disabled with
// WORMHOLE_NATIVE_FS=0, `loadNativeFs` returns undefined and the host uses node:fs.
import { createRequire } from 'node:module';

/** The helper's functions. */
export interface NativeFs {
  /**
   * fstatat(dirFd, name, AT_SYMLINK_NOFOLLOW) for each name, in one thread-pool job. Resolves
   * `fields` numbers per name (layout: `StatField`); throws a TypeError for a name containing
   * '/' or NUL, or more than 4096 names.
   */
  lstatAt(dirFd: number, names: readonly string[]): Promise<Float64Array>;
  /**
   * The first read of a file in one thread-pool job: opens `names` down from `dirFd` without
   * following any link (directories O_DIRECTORY | O_NOFOLLOW, the file O_NOFOLLOW |
   * O_NONBLOCK), fstats it and, for a regular file, reads `[offset, offset + length)` clipped to
   * its size into `frame` after FRAME_HEADER_BYTES free bytes. `fields`: the stat layout, then
   * `OpenField.failedAt` (-1, or the index of the name whose open failed with `errno`; `names.length`
   * for the fstat or the read) and `OpenField.fd` (the file's fd, left open for the caller, or -1).
   * Throws a TypeError for a name that is not one path component.
   */
  openRead(dirFd: number, names: readonly string[], offset: number, length: number): Promise<OpenReadResult>;
  readonly fields: number;
}

/** What `openRead` resolves to. */
export interface OpenReadResult {
  readonly fields: Float64Array;
  readonly frame?: Buffer;
}

/** `openRead`'s fields after the stat ones (wormhole_hostfs.c; keep in sync). */
export const OpenField = { failedAt: 13, fd: 14 } as const;

/** Offsets into one entry of `lstatAt`'s result (wormhole_hostfs.c's enum; keep in sync). */
export const StatField = {
  errno: 0,
  mode: 1,
  nlink: 2,
  inoHi: 3,
  inoLo: 4,
  sizeHi: 5,
  sizeLo: 6,
  mtimeS: 7,
  mtimeNs: 8,
  ctimeS: 9,
  ctimeNs: 10,
  atimeS: 11,
  atimeNs: 12,
} as const;
const FIELDS = 13;

let loaded: NativeFs | null | undefined;

/** The helper, or undefined where it is not built or is disabled. Cached after the first call. */
export function loadNativeFs(): NativeFs | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.WORMHOLE_NATIVE_FS !== '0') {
      try {
        // src/host/ and dist/host/ are both two levels below the package root.
        const addon = createRequire(import.meta.url)('../../native/build/wormhole_hostfs.node') as NativeFs;
        // A helper built from another layout would misread every field: use node:fs instead.
        if (addon.fields === FIELDS && typeof addon.openRead === 'function') loaded = addon;
      } catch {
        // not built here: node:fs it is
      }
    }
  }
  return loaded ?? undefined;
}

/** True when the host's native helper is built and enabled here (`wormhole doctor` reports it). */
export function hostNativeHelperLoaded(): boolean {
  return loadNativeFs() !== undefined;
}
