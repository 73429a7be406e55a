import { writeFile } from 'node:fs/promises';
import { AttrCache } from './attr-cache.js';
import type { FileSystem } from './file-system.js';
import { FuseError } from './fuse-error.js';
import { type Fuse3Handle, loadFuse3 } from './fuse3-addon.js';
import { createFuse3Handler } from './fuse3-ops.js';
import { abortFuseConnection, findFuseMount, unmount as unmountPath } from './mountpoint.js';
import type { NativeMount } from './native-mount.js';
import type { ResolvedMountOptions } from './options.js';

/** libfuse3 mount options for the resolved mount options. */
export function fuse3Args(o: ResolvedMountOptions): string[] {
  const opts = [`fsname=${o.fsname.replaceAll(',', '_')}`, 'subtype=wormhole'];
  if (o.readOnly) opts.push('ro');
  if (o.allowOther) opts.push('allow_other');
  if (o.autoUnmount) opts.push('auto_unmount');
  return [...(o.debug ? ['-d'] : []), '-o', opts.join(',')];
}

function delay(ms: number): Promise<boolean> {
  return new Promise((r) => setTimeout(() => r(false), ms).unref());
}

/**
 * Mounts `fs` with the project's libfuse3 binding in the calling process. Works where
 * fuse-native cannot (Electron: no buffer is shared with JavaScript). `fs` must already be
 * bounded in time (guardFileSystem / PipeFileSystem).
 */
export async function fuse3Mount(
  fs: FileSystem,
  mountpoint: string,
  o: ResolvedMountOptions,
): Promise<NativeMount> {
  const loaded = loadFuse3();
  if ('error' in loaded) {
    const msg = loaded.error instanceof Error ? loaded.error.message : String(loaded.error);
    throw FuseError.UNAVAILABLE(`the libfuse3 binding did not load (${msg})`, loaded.error);
  }
  const { addon } = loaded;
  const cache = new AttrCache(o.attrCacheTtlMs);
  let handle: Fuse3Handle | undefined;
  let onGone: () => void = () => {};
  const gone = new Promise<void>((r) => {
    onGone = r;
  });
  const handler = createFuse3Handler(fs, cache, o, addon, () => handle!);
  try {
    handle = addon.mount(
      mountpoint,
      fuse3Args(o),
      o.readOnly,
      handler,
      () => {
        // The loop ended: unmounted (by us or from outside). Pending requests get EIO.
        addon.destroy(handle!);
        onGone();
      },
      o.fuse3Loop === 'thread',
      o.passthrough && o.readOnly,
    );
  } catch (err) {
    throw FuseError.MOUNT_FAILED(mountpoint, (err as Error).message, err);
  }
  const h = handle;
  const info = findFuseMount(mountpoint);
  // Known now, while the mount answers: needed to abort a connection a lazy unmount leaves busy.
  const connection = info?.connection;
  // The kernel reads ahead 128 KiB on a FUSE mount: sequential reads would arrive as 128 KiB
  // requests one at a time (passthrough of a local file: 644 MB/s; 1.5 GB/s with 4 MiB). Only
  // root may raise it; for anyone else the default stays.
  if (info !== undefined && o.readAheadKiB > 0)
    await writeFile(`/sys/class/bdi/${info.device}/read_ahead_kb`, String(Math.round(o.readAheadKiB))).catch(
      () => {},
    );
  let closing: Promise<void> | undefined;
  return {
    binding: 'fuse3',
    cache,
    gone,
    invalidateData(path: string, offset: number, length: number): void {
      addon.invalidateData(h, path, offset, length);
    },
    storeData(path: string, offset: number, bytes: Uint8Array): boolean {
      return addon.storeData(h, path, offset, bytes);
    },
    invalidate(path: string): void {
      cache.invalidate(path);
      addon.invalidate(h, path);
    },
    close(): Promise<void> {
      closing ??= (async () => {
        addon.exit(h);
        await unmountPath(mountpoint).catch(() => {});
        if (await Promise.race([gone.then(() => true), delay(3000)])) return;
        // Still busy (an open file keeps a detached mount alive): abort the connection so the
        // FUSE threads see it end.
        if (connection !== undefined) await abortFuseConnection(connection);
        await Promise.race([gone, delay(3000)]);
      })();
      return closing;
    },
  };
}
