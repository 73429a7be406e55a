import { AttrCache } from './attr-cache.js';
import type { FileSystem } from './file-system.js';
import { FuseError } from './fuse-error.js';
import { createFuseOps } from './fuse-ops.js';
import { loadFuse3 } from './fuse3-addon.js';
import { fuse3Mount } from './fuse3-mount.js';
import { unmount as unmountPath } from './mountpoint.js';
import { loadFuseNative } from './native.js';
import { nativeOptions, type ResolvedMountOptions } from './options.js';

/** A live mount in this process, on either binding. */
export interface NativeMount {
  /** Which binding serves it. */
  readonly binding: FuseBinding;
  readonly cache: AttrCache;
  /** Settles when the mount is gone, also when unmounted from outside (libfuse3 only; fuse-native never settles it). */
  readonly gone: Promise<void>;
  /** Drops what is cached about `path` (and below): the mount's attributes, and with libfuse3 the kernel's attributes, page cache and name. */
  invalidate(path: string): void;
  /** Drops a range of the kernel's page cache of `path` (libfuse3 only; fuse-native cannot). */
  invalidateData(path: string, offset: number, length: number): void;
  /** Puts bytes of `path` into the kernel's page cache; false when it cannot (fuse-native, a path the kernel does not know). */
  storeData(path: string, offset: number, bytes: Uint8Array): boolean;
  /** Unmounts; falls back to a lazy unmount (and an abort) when the binding's own unmount fails. */
  close(): Promise<void>;
}

/** Which FUSE binding serves a mount: the project's libfuse3 binding, or fuse-native (libfuse2). */
export type FuseBinding = 'fuse3' | 'fuse-native';

/** The binding `auto` picks: libfuse3 where it is built and loads, else fuse-native. */
export function defaultBinding(): FuseBinding {
  return 'addon' in loadFuse3() ? 'fuse3' : 'fuse-native';
}

/**
 * Mounts `fs` in the calling process with the binding `o.binding` names (`auto`: see
 * defaultBinding). The helper process calls this; so does `mount(..., { inProcess: true })`.
 */
export function nativeMount(
  fs: FileSystem,
  mountpoint: string,
  o: ResolvedMountOptions,
): Promise<NativeMount> {
  const binding = o.binding === 'auto' ? defaultBinding() : o.binding;
  return binding === 'fuse3' ? fuse3Mount(fs, mountpoint, o) : fuseNativeMount(fs, mountpoint, o);
}

/**
 * Mounts `fs` with fuse-native in the calling process. `fs` must already be bounded in time
 * (see guardFileSystem and PipeFileSystem): the handlers wait for it.
 */
function fuseNativeMount(fs: FileSystem, mountpoint: string, o: ResolvedMountOptions): Promise<NativeMount> {
  const loaded = loadFuseNative();
  if ('error' in loaded) {
    const msg = loaded.error instanceof Error ? loaded.error.message : String(loaded.error);
    return Promise.reject(FuseError.UNAVAILABLE(`fuse-native did not load (${msg})`, loaded.error));
  }
  const cache = new AttrCache(o.attrCacheTtlMs);
  const fuse = new loaded.fuse(mountpoint, createFuseOps(fs, cache, o), nativeOptions(o));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(FuseError.MOUNT_TIMEOUT(mountpoint, o.mountTimeoutMs)),
      o.mountTimeoutMs,
    );
    fuse.mount((err) => {
      clearTimeout(timer);
      if (err) return reject(FuseError.MOUNT_FAILED(mountpoint, err.message, err));
      let closing: Promise<void> | undefined;
      resolve({
        binding: 'fuse-native',
        cache,
        gone: new Promise<void>(() => {}),
        invalidate: (path) => cache.invalidate(path),
        invalidateData: () => {},
        storeData: () => false,
        close: () => {
          closing ??= new Promise<void>((done) => fuse.unmount(() => done())).then(() =>
            unmountPath(mountpoint),
          );
          return closing;
        },
      });
    });
  });
}
