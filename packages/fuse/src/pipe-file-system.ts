import type { Duplex } from 'node:stream';
import { errnoError, errnoName } from './errno.js';
import type { Attr, DirEntry, FileSystem, StatFs } from './file-system.js';
import { KIND_REQUEST, Op, Reader, readEntries, readStatFs, Writer } from './wire.js';

interface Pending {
  resolve: (r: Reader) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The helper's view of the parent's FileSystem: each call is one REQUEST frame and settles on
 * its RESPONSE. Many calls are in flight at once (FUSE runs requests on several threads), keyed
 * by request id. A backstop timer fails a call with EIO if the parent never answers (it should
 * answer first: its own bound is shorter), and `closeAll()` fails everything when the pipe ends.
 */
export class PipeFileSystem implements FileSystem {
  readonly #out: Duplex;
  readonly #backstopMs: number;
  readonly #pending = new Map<number, Pending>();
  /** fh → the local copy the mount process named for it (FUSE passthrough). */
  readonly #passthrough = new Map<number, string>();
  #nextId = 1;
  #closed = false;

  constructor(out: Duplex, backstopMs: number) {
    this.#out = out;
    this.#backstopMs = backstopMs;
  }

  /** Delivers a RESPONSE frame body. */
  onResponse(id: number, body: Buffer): void {
    const p = this.#pending.get(id);
    if (p === undefined) return; // answered by the backstop already
    this.#pending.delete(id);
    clearTimeout(p.timer);
    const r = new Reader(body);
    const status = r.i32();
    if (status < 0) p.reject(errnoError(errnoName(status)));
    else p.resolve(r);
  }

  /** Fails every pending and future call with ENOTCONN (the parent is gone). */
  closeAll(): void {
    this.#closed = true;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(errnoError('ENOTCONN', 'FileSystem owner disconnected'));
    }
  }

  get pending(): number {
    return this.#pending.size;
  }

  #call(w: Writer): Promise<Reader> {
    if (this.#closed) return Promise.reject(errnoError('ENOTCONN', 'FileSystem owner disconnected'));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_fff0 ? 1 : this.#nextId + 1;
    return new Promise<Reader>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(errnoError('EIO', 'no answer from the FileSystem owner'));
      }, this.#backstopMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#out.write(w.finish(KIND_REQUEST, id));
    });
  }

  #req(op: number): Writer {
    return new Writer(64).u8(op);
  }

  async getattr(path: string): Promise<Attr> {
    return (await this.#call(this.#req(Op.getattr).str(path))).attr();
  }

  async readdir(path: string): Promise<DirEntry[]> {
    return readEntries(await this.#call(this.#req(Op.readdir).str(path)));
  }

  async open(path: string, flags: number): Promise<number> {
    const r = await this.#call(
      this.#req(Op.open)
        .str(path)
        .u32(flags >>> 0),
    );
    const fh = r.f64();
    const local = r.str();
    if (local !== '') this.#passthrough.set(fh, local);
    return fh;
  }

  passthroughPath(fh: number): string | undefined {
    return this.#passthrough.get(fh);
  }

  async read(path: string, fh: number, offset: number, length: number): Promise<Uint8Array> {
    return (await this.#call(this.#req(Op.read).str(path).f64(fh).f64(offset).u32(length))).rest();
  }

  async release(path: string, fh: number): Promise<void> {
    this.#passthrough.delete(fh);
    await this.#call(this.#req(Op.release).str(path).f64(fh));
  }

  async readlink(path: string): Promise<string> {
    return (await this.#call(this.#req(Op.readlink).str(path))).str();
  }

  async statfs(): Promise<StatFs> {
    return readStatFs(await this.#call(this.#req(Op.statfs)));
  }

  async write(path: string, fh: number, data: Uint8Array, offset: number): Promise<number> {
    return (await this.#call(this.#req(Op.write).str(path).f64(fh).f64(offset).bytes(data))).f64();
  }

  async create(path: string, mode: number): Promise<number> {
    return (await this.#call(this.#req(Op.create).str(path).u32(mode))).f64();
  }

  async truncate(path: string, size: number): Promise<void> {
    await this.#call(this.#req(Op.truncate).str(path).f64(size));
  }

  async unlink(path: string): Promise<void> {
    await this.#call(this.#req(Op.unlink).str(path));
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await this.#call(this.#req(Op.mkdir).str(path).u32(mode));
  }

  async rmdir(path: string): Promise<void> {
    await this.#call(this.#req(Op.rmdir).str(path));
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#call(this.#req(Op.rename).str(from).str(to));
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.#call(this.#req(Op.chmod).str(path).u32(mode));
  }

  async utimens(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    await this.#call(this.#req(Op.utimens).str(path).f64(atimeMs).f64(mtimeMs));
  }

  async fsync(path: string, fh: number, datasync: boolean): Promise<void> {
    await this.#call(
      this.#req(Op.fsync)
        .str(path)
        .f64(fh)
        .u8(datasync ? 1 : 0),
    );
  }

  async flush(path: string, fh: number): Promise<void> {
    await this.#call(this.#req(Op.flush).str(path).f64(fh));
  }
}
