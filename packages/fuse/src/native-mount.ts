import { AttrCache } from './attr-cache.js';
import type { FileSystem } from './file-system.js';
import { FuseError } from './fuse-error.js';
import { createFuseOps } from './fuse-ops.js';
import { unmount as unmountPath } from './mountpoint.js';
import { loadFuseNative } from './native.js';
import { nativeOptions, type ResolvedMountOptions } from './options.js';

/** A live fuse-native mount in this process. */
export interface NativeMount {
  readonly cache: AttrCache;
  /** Unmounts; falls back to a lazy unmount when fuse-native's own unmount fails. */
  close(): Promise<void>;
}

/**
 * Mounts `fs` with fuse-native in the calling process. The helper process calls this; so does
 * `mount(..., { inProcess: true })`. `fs` must already be bounded in time (see guardFileSystem
 * and PipeFileSystem): the handlers wait for it.
 */
export function nativeMount(
  fs: FileSystem,
  mountpoint: string,
  o: ResolvedMountOptions,
): Promise<NativeMount> {
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
        cache,
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
