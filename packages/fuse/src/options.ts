import type { NativeOptions } from './fuse-native-types.js';

/** How the kernel page cache treats file data between opens. */
export type KernelCacheMode = 'auto' | 'keep' | 'none';

/** Options of {@link mount}. Every field has a default suited to a remote share. */
export interface MountOptions {
  /** Mount read-only (`ro`): writes fail with EROFS in the kernel. Default: true unless the FileSystem has `write`. */
  readOnly?: boolean;
  /** Source name shown by `mount`/`df`. Default `wormhole`. */
  fsname?: string;
  /**
   * Page-cache policy. `auto` (default, libfuse `auto_cache`): data stays cached across opens
   * while size and mtime are unchanged, and is dropped at the next open after they change.
   * `keep` (`kernel_cache`): never dropped (only for immutable content). `none`: dropped on every open.
   */
  kernelCache?: KernelCacheMode;
  /** Kernel attribute cache, seconds. Default 1. */
  attrTimeoutS?: number;
  /** Kernel name-lookup cache, seconds. Default 1. */
  entryTimeoutS?: number;
  /** TTL of the mount's own attribute cache (filled by getattr and readdir), ms; 0 disables. Default 1000. */
  attrCacheTtlMs?: number;
  /** Each FileSystem call settles within this bound or the FUSE op fails with EIO. Default 10000. */
  opTimeoutMs?: number;
  /** Owner reported for every file. Default: the mounting process's uid/gid. */
  uid?: number;
  gid?: number;
  /** Report the FileSystem's own uid/gid where given instead of mapping to `uid`/`gid`. Default false. */
  preserveOwners?: boolean;
  /** Let the kernel drop the mount when its owner dies (libfuse `auto_unmount`). Default true. */
  autoUnmount?: boolean;
  /** Pass `allow_other` (needs `user_allow_other` in /etc/fuse.conf for non-root). Default false. */
  allowOther?: boolean;
  /** Run fuse-native in this process instead of the helper process (not in Electron). Default false. */
  inProcess?: boolean;
  /** How long mounting may take, ms. Default 10000. */
  mountTimeoutMs?: number;
  /**
   * FUSE binding: `fuse3` (the project's libfuse3 binding: 1 MiB reads, readdirplus, no JS
   * buffers shared, so it also runs inside Electron), `fuse-native` (libfuse2), or `auto`
   * (default: fuse3 where it is built, else fuse-native).
   */
  binding?: 'auto' | 'fuse3' | 'fuse-native';
  /**
   * Kernel read-ahead of the mount, KiB (libfuse3 binding; needs root, else the kernel's 128 KiB
   * stays). Big sequential reads then arrive as 1 MiB requests, several in flight. Default 4096.
   */
  readAheadKiB?: number;
  /**
   * Where the libfuse3 binding reads FUSE requests: `main` (default), on the JS thread itself,
   * or `thread`, on libfuse's threads with a hand-over to the JS thread per request. Measured
   * (docs/fuse-bridge.md): `main` does 4 KiB random reads ~7 % faster and find/ls -lR ~10 %.
   * Builds without libuv's header always use `thread`.
   */
  fuse3Loop?: 'main' | 'thread';
  /**
   * FUSE passthrough for files the FileSystem has a local copy of (`passthroughPath`): the
   * kernel reads the copy directly. libfuse3 binding, read-only mounts, main loop; needs Linux
   * >= 6.9 and root (elsewhere the kernel declines and opens stay normal). Default true.
   */
  passthrough?: boolean;
  /** libfuse debug output on stderr. Default false. */
  debug?: boolean;
}

/** Options after defaults; what travels to the helper process as JSON. */
export interface ResolvedMountOptions {
  readOnly: boolean;
  fsname: string;
  kernelCache: KernelCacheMode;
  attrTimeoutS: number;
  entryTimeoutS: number;
  attrCacheTtlMs: number;
  opTimeoutMs: number;
  uid: number;
  gid: number;
  preserveOwners: boolean;
  autoUnmount: boolean;
  allowOther: boolean;
  inProcess: boolean;
  mountTimeoutMs: number;
  binding: 'auto' | 'fuse3' | 'fuse-native';
  readAheadKiB: number;
  fuse3Loop: 'main' | 'thread';
  passthrough: boolean;
  debug: boolean;
}

/** Applies defaults. `writable` says whether the FileSystem implements `write`. */
export function resolveOptions(options: MountOptions, writable: boolean): ResolvedMountOptions {
  return {
    readOnly: options.readOnly ?? !writable,
    fsname: options.fsname ?? 'wormhole',
    kernelCache: options.kernelCache ?? 'auto',
    attrTimeoutS: options.attrTimeoutS ?? 1,
    entryTimeoutS: options.entryTimeoutS ?? 1,
    attrCacheTtlMs: options.attrCacheTtlMs ?? 1000,
    opTimeoutMs: options.opTimeoutMs ?? 10_000,
    uid: options.uid ?? process.getuid?.() ?? 0,
    gid: options.gid ?? process.getgid?.() ?? 0,
    preserveOwners: options.preserveOwners ?? false,
    autoUnmount: options.autoUnmount ?? true,
    allowOther: options.allowOther ?? false,
    inProcess: options.inProcess ?? false,
    mountTimeoutMs: options.mountTimeoutMs ?? 10_000,
    binding: options.binding ?? 'auto',
    readAheadKiB: options.readAheadKiB ?? 4096,
    fuse3Loop: options.fuse3Loop ?? 'main',
    passthrough: options.passthrough ?? true,
    debug: options.debug ?? false,
  };
}

/**
 * fuse-native constructor options. fuse-native has no option for `ro`, `big_writes` or
 * `negative_timeout`, but joins its option string unescaped, so they ride along in `fsname`.
 * The fsname itself must not contain a comma (it would be taken as an option).
 */
export function nativeOptions(o: ResolvedMountOptions): NativeOptions {
  const extra = [o.readOnly ? 'ro' : 'big_writes', 'negative_timeout=0'];
  return {
    fsname: [o.fsname.replaceAll(',', '_'), ...extra].join(','),
    subtype: 'wormhole',
    autoUnmount: o.autoUnmount,
    allowOther: o.allowOther,
    debug: o.debug,
    kernelCache: o.kernelCache === 'keep',
    autoCache: o.kernelCache === 'auto',
    // fuse-native skips zero-valued options, and libfuse's default is 1 s; a tiny value is the
    // nearest to "no caching" it can pass.
    attrTimeout: o.attrTimeoutS > 0 ? o.attrTimeoutS : 0.001,
    entryTimeout: o.entryTimeoutS > 0 ? o.entryTimeoutS : 0.001,
    acAttrTimeout: o.attrTimeoutS > 0 ? o.attrTimeoutS : 0.001,
    // Our own bound (opTimeoutMs) answers first; this is the last resort inside fuse-native.
    timeout: o.opTimeoutMs + 3000,
    mkdir: false,
    force: false,
  };
}
