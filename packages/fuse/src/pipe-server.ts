import type { Duplex } from 'node:stream';
import { ERRNO, errnoFromError } from './errno.js';
import type { FileSystem } from './file-system.js';
import { KIND_RESPONSE, Op, type Reader, Writer, writeEntries, writeStatFs } from './wire.js';

/**
 * The parent's end of the helper pipe: decodes each REQUEST, calls the (guarded) FileSystem,
 * and writes one RESPONSE. Requests are served concurrently in arrival order of completion.
 */
export class PipeServer {
  readonly #fs: FileSystem;
  readonly #out: Duplex;

  constructor(fs: FileSystem, out: Duplex) {
    this.#fs = fs;
    this.#out = out;
  }

  onRequest(id: number, r: Reader): void {
    let op: number;
    try {
      op = r.u8();
    } catch {
      this.#status(id, ERRNO.EIO);
      return;
    }
    let p: Promise<void>;
    try {
      p = this.#dispatch(id, op, r);
    } catch (err) {
      // Malformed arguments: answer rather than leave the FUSE request waiting.
      p = Promise.reject(err);
    }
    p.catch((err: unknown) => this.#status(id, errnoFromError(err)));
  }

  #status(id: number, status: number): void {
    if (this.#out.destroyed) return;
    this.#out.write(new Writer(16).i32(status).finish(KIND_RESPONSE, id));
  }

  #ok(id: number, w: Writer): void {
    if (this.#out.destroyed) return;
    this.#out.write(w.finish(KIND_RESPONSE, id));
  }

  #dispatch(id: number, op: number, r: Reader): Promise<void> {
    const fs = this.#fs;
    const ok = () => new Writer(16).i32(0);
    switch (op) {
      case Op.getattr: {
        const path = r.str();
        return fs.getattr(path).then((a) => this.#ok(id, new Writer(96).i32(0).attr(a)));
      }
      case Op.readdir: {
        const path = r.str();
        return fs.readdir(path).then((entries) => {
          const w = new Writer(64 + entries.length * 120).i32(0);
          writeEntries(w, entries);
          this.#ok(id, w);
        });
      }
      case Op.open: {
        const path = r.str();
        const flags = r.u32();
        // The local copy's path rides with the handle ('' = none): the helper owns the mount.
        return fs.open(path, flags).then((fh) =>
          this.#ok(
            id,
            ok()
              .f64(fh)
              .str(fs.passthroughPath?.(fh) ?? ''),
          ),
        );
      }
      case Op.read: {
        const path = r.str();
        const fh = r.f64();
        const offset = r.f64();
        const length = r.u32();
        return fs.read(path, fh, offset, length).then((data) => {
          if (this.#out.destroyed) return;
          const bytes = data.byteLength > length ? data.subarray(0, length) : data;
          // Header and data go out as one writev; the FileSystem's buffer is not copied here.
          this.#out.cork();
          this.#out.write(ok().finish(KIND_RESPONSE, id, bytes.byteLength));
          this.#out.write(bytes);
          this.#out.uncork();
        });
      }
      case Op.release: {
        const path = r.str();
        return fs.release(path, r.f64()).then(() => this.#ok(id, ok()));
      }
      case Op.readlink: {
        const path = r.str();
        return fs.readlink(path).then((t) => this.#ok(id, ok().str(t)));
      }
      case Op.statfs:
        return fs.statfs().then((s) => {
          const w = ok();
          writeStatFs(w, s);
          this.#ok(id, w);
        });
      default:
        return this.#dispatchWrite(id, op, r);
    }
  }

  #dispatchWrite(id: number, op: number, r: Reader): Promise<void> {
    const fs = this.#fs;
    const done = () => this.#ok(id, new Writer(16).i32(0));
    const missing = () => Promise.reject(Object.assign(new Error('read-only'), { code: 'EROFS' }));
    switch (op) {
      case Op.write: {
        const path = r.str();
        const fh = r.f64();
        const offset = r.f64();
        // Copy: the frame buffer is a view of a socket chunk the FileSystem might keep.
        const data = Buffer.from(r.rest());
        if (!fs.write) return missing();
        return fs.write(path, fh, data, offset).then((n) => this.#ok(id, new Writer(16).i32(0).f64(n)));
      }
      case Op.create: {
        const path = r.str();
        const mode = r.u32();
        if (!fs.create) return missing();
        return fs.create(path, mode).then((fh) => this.#ok(id, new Writer(16).i32(0).f64(fh)));
      }
      case Op.truncate: {
        const path = r.str();
        const size = r.f64();
        return fs.truncate ? fs.truncate(path, size).then(done) : missing();
      }
      case Op.unlink: {
        const path = r.str();
        return fs.unlink ? fs.unlink(path).then(done) : missing();
      }
      case Op.mkdir: {
        const path = r.str();
        const mode = r.u32();
        return fs.mkdir ? fs.mkdir(path, mode).then(done) : missing();
      }
      case Op.rmdir: {
        const path = r.str();
        return fs.rmdir ? fs.rmdir(path).then(done) : missing();
      }
      case Op.rename: {
        const from = r.str();
        const to = r.str();
        return fs.rename ? fs.rename(from, to).then(done) : missing();
      }
      case Op.chmod: {
        const path = r.str();
        const mode = r.u32();
        return fs.chmod ? fs.chmod(path, mode).then(done) : missing();
      }
      case Op.utimens: {
        const path = r.str();
        const atime = r.f64();
        const mtime = r.f64();
        return fs.utimens ? fs.utimens(path, atime, mtime).then(done) : missing();
      }
      case Op.fsync: {
        const path = r.str();
        const fh = r.f64();
        const datasync = r.u8() === 1;
        return fs.fsync ? fs.fsync(path, fh, datasync).then(done) : Promise.resolve(done());
      }
      case Op.flush: {
        const path = r.str();
        const fh = r.f64();
        return fs.flush ? fs.flush(path, fh).then(done) : Promise.resolve(done());
      }
      default:
        return Promise.reject(Object.assign(new Error(`unknown op ${op}`), { code: 'ENOSYS' }));
    }
  }
}
