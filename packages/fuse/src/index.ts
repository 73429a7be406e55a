/**
 * @packageDocumentation
 * FUSE mounts for Wormhole. The package defines the {@link FileSystem} interface a mount talks
 * to (the engine's RemoteFs implements it), one errno table, and the mount machinery: fuse-native
 * runs in a small Node helper process that forwards each FUSE operation over a pipe, so the
 * same path works from the CLI and from Electron (which cannot host fuse-native itself).
 *
 * @example
 * ```ts
 * import { checkFuse, LocalFileSystem, mount } from '@wormhole/fuse';
 *
 * if (!checkFuse().available) throw new Error('no FUSE here');
 * const m = await mount(new LocalFileSystem('/srv/share'), '/mnt/share', { attrTimeoutS: 1 });
 * m.on('unmounted', () => console.log('gone'));
 * // on a change pushed by the host:
 * m.invalidate('/docs/report.txt');
 * await m.unmount();
 * ```
 */
export type { ErrnoName } from './errno.js';
export { ERRNO, errnoError, errnoFromError, errnoName, errnoOf } from './errno.js';
export type { Attr, DirEntry, FileSystem, StatFs } from './file-system.js';
export { FuseError, type FuseErrorCode } from './fuse-error.js';
export { LocalFileSystem } from './local-file-system.js';
export type { HelperOptions, Mount, MountEvents } from './mount.js';
export { mount } from './mount.js';
export { type FuseMountInfo, findFuseMount, unmount } from './mountpoint.js';
export type { KernelCacheMode, MountOptions } from './options.js';
export {
  checkFuse,
  checkPassthrough,
  evaluatePassthrough,
  evaluatePlatform,
  type FuseCheck,
  type FuseReport,
  isAvailable,
  linuxInstallHint,
  type PassthroughProbe,
  type PassthroughReport,
  type PlatformProbe,
  probePlatform,
} from './platform.js';
