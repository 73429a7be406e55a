import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FileSystem } from './file-system.js';
import { FuseError, type FuseErrorCode } from './fuse-error.js';
import { guardFileSystem } from './guard.js';
import { abortConnection, findFuseMount, prepareMountpoint, unmount as unmountPath } from './mountpoint.js';
import { type NativeMount, nativeMount } from './native-mount.js';
import { type MountOptions, type ResolvedMountOptions, resolveOptions } from './options.js';
import { PipeServer } from './pipe-server.js';
import {
  Control,
  Event,
  FrameSplitter,
  KIND_CONTROL,
  KIND_EVENT,
  KIND_REQUEST,
  Reader,
  Writer,
} from './wire.js';

/** Events of a {@link Mount}. */
export interface MountEvents {
  /** The mount is gone (unmount(), an outside unmount, or the helper died). Emitted once. */
  unmounted: [];
  /** Something went wrong after mounting (the helper died, a protocol error). Only emitted with a listener. */
  error: [FuseError];
}

/** A live mount returned by {@link mount}. */
export interface Mount {
  /** Absolute path of the mount point. */
  readonly mountpoint: string;
  /** `helper` (fuse-native in a child process) or `in-process`. */
  readonly mode: 'helper' | 'in-process';
  /** The helper's pid (undefined in-process). */
  readonly pid: number | undefined;
  /** True until the mount is gone. */
  readonly mounted: boolean;
  /**
   * Drops the mount's cached attributes of `path` and everything below it, so the next
   * lookup asks the FileSystem. Call on the host's change push. The kernel's own attribute
   * cache still holds for up to `attrTimeoutS`; file data cached by the kernel is dropped at
   * the next open that sees a new size or mtime (`kernelCache: 'auto'`).
   */
  invalidate(path: string): void;
  /**
   * Drops `[offset, offset + length)` of the kernel's page cache of `path` (libfuse3 binding;
   * a no-op on fuse-native): for data the mount keeps elsewhere, so it is not cached twice.
   */
  invalidateData(path: string, offset: number, length: number): void;
  /**
   * Puts `bytes` of `path` at `offset` into the kernel's page cache, so reads of them are
   * answered by the kernel (libfuse3 binding in this process; false elsewhere: the helper does
   * not forward it, and its reads reach the FileSystem as before). Only for bytes of the version
   * the kernel's attributes describe; a later `invalidate` drops them.
   */
  storeData(path: string, offset: number, bytes: Uint8Array): boolean;
  /** Unmounts. Idempotent, and bounded in time: a wedged helper is aborted and killed. */
  unmount(): Promise<void>;
  on<E extends keyof MountEvents>(event: E, listener: (...args: MountEvents[E]) => void): this;
  once<E extends keyof MountEvents>(event: E, listener: (...args: MountEvents[E]) => void): this;
  off<E extends keyof MountEvents>(event: E, listener: (...args: MountEvents[E]) => void): this;
}

/** Extra options of the helper path. */
export interface HelperOptions {
  /** The Node runtime that runs the helper. Default `process.execPath` (must not be Electron). */
  nodePath?: string;
}

// Running from TypeScript source (tests, `pnpm start`): the helper is helper.ts and needs tsx.
const HERE = import.meta.url;
const FROM_SOURCE = HERE.endsWith('.ts');
const HELPER = fileURLToPath(new URL(FROM_SOURCE ? './helper.ts' : './helper.js', HERE));

class MountHandle extends EventEmitter implements Mount {
  readonly mountpoint: string;
  readonly mode: 'helper' | 'in-process';
  #mounted = true;
  #closing: Promise<void> | undefined;
  readonly #child: ChildProcess | undefined;
  readonly #pipe: Socket | undefined;
  readonly #native: NativeMount | undefined;

  constructor(mountpoint: string, via: { child: ChildProcess; pipe: Socket } | { native: NativeMount }) {
    super();
    this.mountpoint = mountpoint;
    if ('native' in via) {
      this.mode = 'in-process';
      this.#native = via.native;
      // Unmounted from outside (fusermount -u, `wormhole unmount`): the libfuse3 loop ends.
      via.native.gone.then(
        () => this.#finish(),
        () => this.#finish(),
      );
    } else {
      this.mode = 'helper';
      this.#child = via.child;
      this.#pipe = via.pipe;
      via.child.once('exit', (code, signal) => void this.#onHelperExit(code, signal));
    }
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get mounted(): boolean {
    return this.#mounted;
  }

  invalidate(path: string): void {
    if (!this.#mounted) return;
    if (this.#native !== undefined) {
      this.#native.invalidate(path);
      return;
    }
    const pipe = this.#pipe;
    if (pipe === undefined || pipe.destroyed) return;
    pipe.write(new Writer(32 + path.length * 3).u8(Control.invalidate).str(path).finish(KIND_CONTROL, 0));
  }

  invalidateData(path: string, offset: number, length: number): void {
    if (!this.#mounted || !(length > 0) || !(offset >= 0)) return;
    if (this.#native !== undefined) {
      this.#native.invalidateData(path, offset, length);
      return;
    }
    const pipe = this.#pipe;
    if (pipe === undefined || pipe.destroyed) return;
    pipe.write(
      new Writer(48 + path.length * 3)
        .u8(Control.invalidateData)
        .str(path)
        .f64(offset)
        .f64(length)
        .finish(KIND_CONTROL, 0),
    );
  }

  storeData(path: string, offset: number, bytes: Uint8Array): boolean {
    if (!this.#mounted || this.#native === undefined) return false;
    return this.#native.storeData(path, offset, bytes);
  }

  unmount(): Promise<void> {
    this.#closing ??= this.#doUnmount();
    return this.#closing;
  }

  async #doUnmount(): Promise<void> {
    if (!this.#mounted) return;
    if (this.#native !== undefined) {
      await this.#native.close();
      this.#finish();
      return;
    }
    const child = this.#child!;
    const exited = new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r();
      else child.once('exit', () => r());
    });
    const pipe = this.#pipe!;
    if (!pipe.destroyed) pipe.write(new Writer(16).u8(Control.unmount).finish(KIND_CONTROL, 0));
    const inTime = await Promise.race([exited.then(() => true), delay(5000).then(() => false)]);
    if (!inTime) {
      // Wedged: fail every request in the kernel, detach the mount, kill the helper.
      await abortConnection(this.mountpoint);
      child.kill('SIGKILL');
      await Promise.race([exited, delay(2000)]);
    }
    if (findFuseMount(this.mountpoint) !== undefined) await unmountPath(this.mountpoint, { abort: !inTime });
    this.#finish();
  }

  async #onHelperExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.#pipe?.destroy();
    if (!this.#mounted) return;
    if (this.#closing === undefined) {
      // Not asked to stop: report it, and don't leave a dead mount behind.
      if (code !== 0 && this.listenerCount('error') > 0)
        this.emit('error', FuseError.HELPER_EXITED(code, signal));
      try {
        await unmountPath(this.mountpoint);
      } catch {}
      this.#finish();
    }
  }

  #finish(): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    this.emit('unmounted');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/**
 * Mounts `fs` on `mountpoint` and resolves once the kernel serves it. By default fuse-native
 * runs in a helper Node process (the only way from Electron, and the path the CLI uses);
 * `inProcess: true` runs it here. The mount point is created if missing, a stale mount on it
 * is cleared, and a non-empty directory is refused (FUSE_MOUNTPOINT_NOT_EMPTY).
 */
export async function mount(
  fs: FileSystem,
  mountpoint: string,
  options: MountOptions & HelperOptions = {},
): Promise<Mount> {
  if (process.platform === 'linux' && !existsSync('/dev/fuse'))
    throw FuseError.UNAVAILABLE('/dev/fuse is missing (load the fuse kernel module)');
  const o = resolveOptions(options, typeof fs.write === 'function');
  const abs = await prepareMountpoint(mountpoint);
  const guarded = guardFileSystem(fs, o.opTimeoutMs);
  if (o.inProcess) return new MountHandle(abs, { native: await nativeMount(guarded, abs, o) });
  return spawnHelper(guarded, abs, o, options.nodePath ?? process.execPath);
}

function spawnHelper(
  fs: FileSystem,
  mountpoint: string,
  o: ResolvedMountOptions,
  nodePath: string,
): Promise<Mount> {
  const args = FROM_SOURCE ? ['--conditions=@wormhole/source', '--import', 'tsx'] : [];
  const child = spawn(nodePath, [...args, HELPER, JSON.stringify({ mountpoint, options: o })], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  const pipe = child.stdio[3] as Socket;
  const server = new PipeServer(fs, pipe);
  const splitter = new FrameSplitter();
  return new Promise<Mount>((resolve, reject) => {
    let handle: MountHandle | undefined;
    const fail = (err: FuseError) => {
      clearTimeout(timer);
      if (handle === undefined) {
        child.kill('SIGKILL');
        void unmountPath(mountpoint).catch(() => {});
        reject(err);
      } else if (handle.listenerCount('error') > 0) handle.emit('error', err);
    };
    const timer = setTimeout(
      () => fail(FuseError.MOUNT_TIMEOUT(mountpoint, o.mountTimeoutMs)),
      o.mountTimeoutMs + 2000,
    );
    pipe.on('error', () => {});
    pipe.on('data', (chunk: Buffer) => {
      try {
        splitter.push(chunk, (f) => {
          if (f.kind === KIND_REQUEST) server.onRequest(f.id, new Reader(f.body));
          else if (f.kind === KIND_EVENT) {
            const r = new Reader(f.body);
            const ev = r.u8();
            if (ev === Event.ready && handle === undefined) {
              clearTimeout(timer);
              handle = new MountHandle(mountpoint, { child, pipe });
              resolve(handle);
            } else if (ev === Event.error) {
              const text = r.str();
              let code: FuseErrorCode = 'FUSE_MOUNT_FAILED';
              let message = text;
              try {
                const parsed = JSON.parse(text) as { code?: string; message?: string };
                if (parsed.code?.startsWith('FUSE_')) code = parsed.code as FuseErrorCode;
                message = parsed.message ?? text;
              } catch {}
              fail(new FuseError(code, message, { details: { mountpoint } }));
            }
          }
        });
      } catch (err) {
        fail(err instanceof FuseError ? err : FuseError.PROTOCOL(String(err)));
        child.kill('SIGKILL');
      }
    });
    child.once('exit', (code, signal) => {
      if (handle === undefined) fail(FuseError.HELPER_EXITED(code, signal));
    });
    child.once('error', (err) =>
      fail(FuseError.MOUNT_FAILED(mountpoint, `cannot start helper: ${err.message}`, err)),
    );
  });
}
