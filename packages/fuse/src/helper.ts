// The FUSE helper process: owns the fuse-native mount and forwards every operation to its
// parent (which holds the FileSystem) over fd 3. Started by mount(); never imported.
// Electron ≥ 20 cannot host fuse-native (external buffers), so this runs under a plain Node.
//
// argv[2]: JSON { mountpoint, options: ResolvedMountOptions }
// Exits when: the parent asks to unmount; the pipe ends (parent died) — after unmounting; the
// mount disappears from outside (`wormhole unmount`, fusermount -u).
import { Socket } from 'node:net';
import { findFuseMount } from './mountpoint.js';
import { type NativeMount, nativeMount } from './native-mount.js';
import type { ResolvedMountOptions } from './options.js';
import { PipeFileSystem } from './pipe-file-system.js';
import {
  Control,
  Event,
  FrameSplitter,
  KIND_CONTROL,
  KIND_EVENT,
  KIND_RESPONSE,
  Reader,
  Writer,
} from './wire.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { mountpoint: string; options: ResolvedMountOptions };
const { mountpoint, options } = config;
const pipe = new Socket({ fd: 3, readable: true, writable: true });
// The backstop only fires if the parent stops answering; the parent's own bound is shorter.
const pfs = new PipeFileSystem(pipe, options.opTimeoutMs + 2000);
const splitter = new FrameSplitter();
let live: NativeMount | undefined;
let exiting = false;

function event(ev: number, message?: string): void {
  if (pipe.destroyed) return;
  const w = new Writer(64).u8(ev);
  if (message !== undefined) w.str(message);
  pipe.write(w.finish(KIND_EVENT, 0));
}

async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  pfs.closeAll();
  // Bounded: if unmounting hangs, exit anyway (autoUnmount / the parent's abort clean up).
  const force = setTimeout(() => process.exit(code), 4000);
  try {
    await live?.close();
  } catch (err) {
    process.stderr.write(`wormhole-fuse-helper: unmount failed: ${String(err)}\n`);
  }
  clearTimeout(force);
  event(Event.unmounted);
  pipe.end(() => process.exit(code));
  setTimeout(() => process.exit(code), 500).unref();
}

pipe.on('data', (chunk: Buffer) => {
  try {
    splitter.push(chunk, (f) => {
      if (f.kind === KIND_RESPONSE) pfs.onResponse(f.id, f.body);
      else if (f.kind === KIND_CONTROL) {
        const r = new Reader(f.body);
        const c = r.u8();
        if (c === Control.invalidate) live?.invalidate(r.str());
        else if (c === Control.invalidateData) live?.invalidateData(r.str(), r.f64(), r.f64());
        else if (c === Control.unmount) void shutdown(0);
      }
    });
  } catch (err) {
    process.stderr.write(`wormhole-fuse-helper: ${String(err)}\n`);
    void shutdown(2);
  }
});
// Parent gone (EOF or error): unmount and leave; nothing can answer FUSE anymore.
pipe.on('end', () => void shutdown(0));
pipe.on('error', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
// Never let a stray exception kill the mount's owner without unmounting.
process.on('uncaughtException', (err) => {
  event(Event.error, String(err?.stack ?? err));
});

nativeMount(pfs, mountpoint, options).then(
  (m) => {
    live = m;
    event(Event.ready, String(process.pid));
    // An unmount from outside (fusermount -u, `wormhole unmount`): the libfuse3 binding
    // reports it (`gone`), fuse-native does not, so poll for it too. Exit so the parent sees
    // 'unmounted'.
    const outside = () => {
      if (exiting) return;
      exiting = true;
      event(Event.unmounted);
      pipe.end(() => process.exit(0));
      setTimeout(() => process.exit(0), 500).unref();
    };
    void m.gone.then(outside);
    setInterval(() => {
      if (findFuseMount(mountpoint) === undefined) outside();
    }, 1000).unref();
  },
  (err: unknown) => {
    event(
      Event.error,
      JSON.stringify({
        code: (err as { code?: string }).code,
        message: String((err as Error).message ?? err),
      }),
    );
    exiting = true;
    pipe.end(() => process.exit(1));
    setTimeout(() => process.exit(1), 500).unref();
  },
);
