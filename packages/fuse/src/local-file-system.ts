import { constants, promises as fsp, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Attr, DirEntry, FileSystem, StatFs } from './file-system.js';

function toAttr(s: Stats): Attr {
  return {
    mode: s.mode,
    size: s.size,
    mtimeMs: Math.floor(s.mtimeMs),
    atimeMs: Math.floor(s.atimeMs),
    ctimeMs: Math.floor(s.ctimeMs),
    nlink: s.nlink,
    uid: s.uid,
    gid: s.gid,
    ino: s.ino,
    blocks: s.blocks,
  };
}

/**
 * A FileSystem over a local directory: the reference implementation of the interface, used
 * by the tests and benchmarks and by `wormhole doctor` for a self-test mount. Symlinks are
 * reported, not followed (lstat). Read-only unless `writable`. With `passthrough`, every read-only
 * open names its own file as the local copy (see FileSystem.passthroughPath), so a mount that
 * negotiated FUSE passthrough serves reads in the kernel.
 */
export class LocalFileSystem implements FileSystem {
  readonly root: string;
  readonly #files = new Map<number, fsp.FileHandle>();
  readonly #localCopies = new Map<number, string>();
  readonly #passthrough: boolean;
  #nextFh = 1;

  constructor(root: string, options: { writable?: boolean; passthrough?: boolean } = {}) {
    this.root = resolve(root);
    this.#passthrough = options.passthrough === true;
    if (options.writable !== true) {
      // Without write the mount defaults to read-only.
      for (const k of [
        'write',
        'create',
        'truncate',
        'unlink',
        'mkdir',
        'rmdir',
        'rename',
        'chmod',
        'utimens',
      ] as const)
        Object.defineProperty(this, k, { value: undefined });
    }
  }

  #abs(path: string): string {
    // FUSE paths are absolute and normalised by the kernel; join keeps them under root.
    return join(this.root, path);
  }

  async getattr(path: string): Promise<Attr> {
    return toAttr(await fsp.lstat(this.#abs(path)));
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const dir = this.#abs(path);
    const names = await fsp.readdir(dir);
    return Promise.all(
      names.map(async (name) => {
        try {
          return { name, attr: toAttr(await fsp.lstat(join(dir, name))) };
        } catch {
          return { name };
        }
      }),
    );
  }

  async open(path: string, flags: number): Promise<number> {
    const fh = await fsp.open(this.#abs(path), flags & ~(constants.O_CREAT | constants.O_EXCL));
    const id = this.#nextFh++;
    this.#files.set(id, fh);
    if (this.#passthrough && (flags & (constants.O_WRONLY | constants.O_RDWR)) === 0)
      this.#localCopies.set(id, this.#abs(path));
    return id;
  }

  passthroughPath(fh: number): string | undefined {
    return this.#localCopies.get(fh);
  }

  async read(_path: string, fh: number, offset: number, length: number): Promise<Uint8Array> {
    const f = this.#files.get(fh);
    if (f === undefined) throw Object.assign(new Error('bad handle'), { code: 'EBADF' });
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await f.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  }

  async release(_path: string, fh: number): Promise<void> {
    const f = this.#files.get(fh);
    this.#files.delete(fh);
    this.#localCopies.delete(fh);
    await f?.close();
  }

  async readlink(path: string): Promise<string> {
    return fsp.readlink(this.#abs(path));
  }

  async statfs(): Promise<StatFs> {
    const s = await fsp.statfs(this.root);
    return {
      bsize: s.bsize,
      frsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      namemax: 255,
    };
  }

  async write(_path: string, fh: number, data: Uint8Array, offset: number): Promise<number> {
    const f = this.#files.get(fh);
    if (f === undefined) throw Object.assign(new Error('bad handle'), { code: 'EBADF' });
    return (await f.write(data, 0, data.byteLength, offset)).bytesWritten;
  }

  async create(path: string, mode: number): Promise<number> {
    const fh = await fsp.open(this.#abs(path), constants.O_CREAT | constants.O_RDWR, mode);
    const id = this.#nextFh++;
    this.#files.set(id, fh);
    return id;
  }

  async truncate(path: string, size: number): Promise<void> {
    await fsp.truncate(this.#abs(path), size);
  }

  async unlink(path: string): Promise<void> {
    await fsp.unlink(this.#abs(path));
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await fsp.mkdir(this.#abs(path), { mode });
  }

  async rmdir(path: string): Promise<void> {
    await fsp.rmdir(this.#abs(path));
  }

  async rename(from: string, to: string): Promise<void> {
    await fsp.rename(this.#abs(from), this.#abs(to));
  }

  async chmod(path: string, mode: number): Promise<void> {
    await fsp.chmod(this.#abs(path), mode);
  }

  async utimens(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    await fsp.lutimes(this.#abs(path), atimeMs / 1000, mtimeMs / 1000);
  }
}
