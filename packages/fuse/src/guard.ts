import { errnoError } from './errno.js';
import type { FileSystem } from './file-system.js';
import { WRITE_OPS } from './file-system.js';

/**
 * Wraps a FileSystem so every call settles within `timeoutMs` (EIO after that) and never throws
 * synchronously. FUSE gives each request 15 s before the kernel side gives up, and a reader on a
 * dead share must see EIO, not hang; so the bound lives here, on the side that owns the
 * FileSystem, well inside the 15 s.
 */
export function guardFileSystem(fs: FileSystem, timeoutMs: number): FileSystem {
  const call = <T>(op: string, fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(errnoError('EIO', `${op} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      let p: Promise<T>;
      try {
        p = Promise.resolve(fn());
      } catch (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  const guarded: FileSystem = {
    getattr: (p) => call('getattr', () => fs.getattr(p)),
    readdir: (p) => call('readdir', () => fs.readdir(p)),
    open: (p, f) => call('open', () => fs.open(p, f)),
    read: (p, fh, o, l) => call('read', () => fs.read(p, fh, o, l)),
    release: (p, fh) => call('release', () => fs.release(p, fh)),
    readlink: (p) => call('readlink', () => fs.readlink(p)),
    statfs: () => call('statfs', () => fs.statfs()),
  };
  const passthroughPath = fs.passthroughPath?.bind(fs);
  if (passthroughPath !== undefined) guarded.passthroughPath = passthroughPath;
  const readv = fs.readv?.bind(fs);
  if (readv !== undefined) guarded.readv = (p, fh, o, l) => call('read', () => readv(p, fh, o, l));
  const target = guarded as unknown as Record<string, unknown>;
  const source = fs as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>;
  for (const name of WRITE_OPS) {
    const fn = source[name];
    if (typeof fn !== 'function') continue;
    target[name] = (...args: unknown[]) => call(name, () => fn.apply(fs, args));
  }
  return guarded;
}
