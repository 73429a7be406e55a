import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkCache, ChunkReader } from '@wormhole/cache';
import type { Mount, MountOptions } from '@wormhole/fuse';
import type { RemoteFs } from '../client/remote-fs.js';
import { remoteFileSystem } from '../mount/remote-file-system.js';
import { type ConnectShareOptions, connectShare } from './connect-share.js';

/** Options of `mountShare`. */
export interface MountShareOptions extends ConnectShareOptions {
  readonly mountpoint: string;
  /** L1/L2 chunk cache; omit `l2Path` for memory only. */
  readonly cache?: {
    readonly l1MaxBytes?: number;
    readonly l2Path?: string;
    readonly l2MaxBytes?: number;
    /** Whole-file copies of files read from their start, served by FUSE passthrough. Omitted: none. */
    readonly copiesDir?: string;
    readonly copiesMaxBytes?: number;
  };
  /** Passed to the FUSE mount (timeouts, kernel cache policy...). */
  readonly mount?: MountOptions;
}

/** A mounted share: the FUSE mount, the connection under it, and its cache. */
export interface MountedShare {
  readonly mount: Mount;
  readonly remote: RemoteFs;
  readonly cache: ChunkCache;
  readonly reader: ChunkReader;
  /** Opens answered with a whole-file copy, and their reads that reached the mount (0 with FUSE passthrough). */
  copyStats(): { opens: number; readsHere: number };
  /** Unmounts, disconnects, flushes and closes the cache. Idempotent. */
  close(): Promise<void>;
}

/** How many of the root's entries the mount hands to the kernel as it starts. */
const ROOT_ENTRIES_TO_KERNEL = 256;

async function listRootIntoKernel(mountpoint: string): Promise<void> {
  const dir = await opendir(mountpoint, { bufferSize: 64 });
  try {
    for (let i = 0; i < ROOT_ENTRIES_TO_KERNEL && (await dir.read()) !== null; i++);
  } finally {
    await dir.close();
  }
}

/**
 * Connects to a share and mounts it at `mountpoint` (fuse-native in this process, or in the
 * helper process from Electron), with the two-tier chunk cache and read-ahead in between.
 */
export async function mountShare(options: MountShareOptions): Promise<MountedShare> {
  // The cache and FUSE packages load here, not when the engine is imported: a `get` or a `share`
  // never needs them (~25-35 ms of every other command's start). Opening L2 (SQLite + its
  // writer thread, ~130 ms) overlaps the rendezvous instead of preceding it.
  const cacheModule = import('@wormhole/cache');
  const fuseModule = import('@wormhole/fuse');
  fuseModule.catch(() => {}); // awaited below, after the connection
  const opening = cacheModule.then(({ openChunkCache }) =>
    openChunkCache({
      ...(options.cache?.l1MaxBytes !== undefined && { l1MaxBytes: options.cache.l1MaxBytes }),
      ...(options.cache?.l2Path !== undefined && { l2Path: options.cache.l2Path }),
      ...(options.cache?.l2MaxBytes !== undefined && { l2MaxBytes: options.cache.l2MaxBytes }),
      ...(options.cache?.copiesDir !== undefined && { copiesDir: options.cache.copiesDir }),
      ...(options.cache?.copiesMaxBytes !== undefined && { copiesMaxBytes: options.cache.copiesMaxBytes }),
      requireL2: false,
    }),
  );
  const connecting = connectShare(options);
  const [cacheResult, remoteResult] = await Promise.allSettled([opening, connecting]);
  if (cacheResult.status === 'rejected' || remoteResult.status === 'rejected') {
    if (cacheResult.status === 'fulfilled') await cacheResult.value.close();
    if (remoteResult.status === 'fulfilled') await remoteResult.value.close();
    throw remoteResult.status === 'rejected'
      ? remoteResult.reason
      : (cacheResult as PromiseRejectedResult).reason;
  }
  const cache = cacheResult.value;
  const r = remoteResult.value;
  try {
    const [{ createChunkReader, DEFAULT_CHUNK_SIZE }, { mount }] = await Promise.all([
      cacheModule,
      fuseModule,
    ]);
    const reader = createChunkReader({
      cache,
      chunkSize: DEFAULT_CHUNK_SIZE,
      fetchChunk: (file, version, index, signal) =>
        r.read(file, index * DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, version, { signal }),
      fetchRange: (file, version, offset, length, signal) =>
        r.read(file, offset, length, version, { signal }),
    });
    let m: Mount | undefined;
    const fs = remoteFileSystem(r, {
      reader,
      cache,
      onInvalidate: (path) => m?.invalidate(path),
      dropBehind: (path, offset, length) => m?.invalidateData(path, offset, length),
      storeHead: (path, bytes) => m?.storeData(path, 0, bytes) === true,
      rootListedAtMount: true,
    });
    m = await mount(fs, options.mountpoint, {
      fsname: 'wormhole',
      readOnly: true,
      // The host's invalidation push clears the mount's attribute caches at once, and with the
      // libfuse3 binding the kernel's too (attributes, page cache, names). fuse-native (libfuse2)
      // cannot drop the kernel's: a change shows after the kernel's attribute timeout. At 1 s a
      // rewrite showed after up to 855 ms (bound: 1 s + push latency, over the 1 s); at
      // 0.5 s after at most 563 ms (15 trials each). The extra getattr calls are answered from
      // the mount's own cache, without a round trip.
      attrTimeoutS: 0.5,
      // FUSE in this process unless this is Electron: the libfuse3 binding shares no buffer
      // with JS and should run there too, but has not been run in a real Electron yet. The
      // helper hop cost 1.4x in random 4 KiB reads from a warm cache over a share (1,911 vs
      // 2,791 IOPS, same run) and 0.8x in cold sequential reads; the helper stays for Electron
      // and as `[mount] fuse = "helper"`.
      inProcess: process.versions.electron === undefined,
      ...options.mount,
    });
    const mounted = m;
    // One lookup of a name no share is expected to have, through the kernel, the moment the
    // mount is up: the lookup's JavaScript (FUSE dispatch, attribute caches, the host's stat)
    // runs for the first time now instead of in the user's first `ls` or open. `head -c 1` of a
    // file on a fresh mount, two alternating batches of 15: median 4.64/4.93 -> 4.32/4.20 ms —
    // right after the mount only: after ~50 ms idle what a first call pays is caches gone cold,
    // which no warm-up outlasts (docs/bench/peer-mounts.md, twelfth session).
    void stat(join(options.mountpoint, '.wormhole-warm-up')).catch(() => {});
    // The root's listing (fetched as the mount started) goes to the kernel as a readdirplus,
    // as a file manager opening the drive would: names in the root are then known to the
    // kernel, with their attributes, for the entry timeout, and the first open of one of them
    // skips its lookup (`head -c 1` of a file in the root: its lookup took 0.5-0.7 ms). Only
    // the first ROOT_ENTRIES_TO_KERNEL: a root of 100,000 files must not cost the kernel an
    // inode for each at every mount.
    void listRootIntoKernel(options.mountpoint).catch(() => {});
    let closed = false;
    return {
      mount: mounted,
      remote: r,
      cache,
      reader,
      copyStats: () => fs.copyStats(),
      async close() {
        if (closed) return;
        closed = true;
        await mounted.unmount().catch(() => {});
        reader.close();
        await r.close();
        await cache.close();
      },
    };
  } catch (err) {
    await r.close();
    await cache.close();
    throw err;
  }
}
