// The helper pipe's binary protocol. One frame:
//   u32 length of the rest | u8 kind | u32 id | body
// kind REQUEST  (helper → parent): body = u8 op, args
// kind RESPONSE (parent → helper): body = i32 status (0 or negative errno), result
// kind CONTROL  (parent → helper): body = u8 control, args (id 0)
// kind EVENT    (helper → parent): body = u8 event, args (id 0)
// Strings are u32 byte length + UTF-8; numbers are f64 (exact for offsets up to 2^53). A read
// result is the raw bytes to the end of the frame, so the parent writes the FileSystem's buffer
// as-is behind a 13-byte header and the helper copies it straight into FUSE's buffer.
import type { Attr, DirEntry, StatFs } from './file-system.js';
import { FuseError } from './fuse-error.js';

export const KIND_REQUEST = 1;
export const KIND_RESPONSE = 2;
export const KIND_CONTROL = 3;
export const KIND_EVENT = 4;

/** FUSE operations forwarded from the helper. */
export const Op = {
  getattr: 1,
  readdir: 2,
  open: 3,
  read: 4,
  release: 5,
  readlink: 6,
  statfs: 7,
  write: 8,
  create: 9,
  truncate: 10,
  unlink: 11,
  mkdir: 12,
  rmdir: 13,
  rename: 14,
  chmod: 15,
  utimens: 16,
  fsync: 17,
  flush: 18,
} as const;

export const Control = { invalidate: 1, unmount: 2, invalidateData: 3 } as const;
export const Event = { ready: 1, error: 2, unmounted: 3 } as const;

/** Header bytes before the body: length, kind, id. */
export const HEADER = 9;

/** Growable little-endian writer. */
export class Writer {
  #buf: Buffer;
  #pos = HEADER;

  constructor(size = 256) {
    this.#buf = Buffer.allocUnsafe(size);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf.writeUInt8(v, this.#pos);
    this.#pos += 1;
    return this;
  }

  i32(v: number): this {
    this.#ensure(4);
    this.#buf.writeInt32LE(v, this.#pos);
    this.#pos += 4;
    return this;
  }

  u32(v: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32LE(v, this.#pos);
    this.#pos += 4;
    return this;
  }

  f64(v: number): this {
    this.#ensure(8);
    this.#buf.writeDoubleLE(v, this.#pos);
    this.#pos += 8;
    return this;
  }

  str(s: string): this {
    const n = Buffer.byteLength(s);
    this.#ensure(4 + n);
    this.#buf.writeUInt32LE(n, this.#pos);
    this.#buf.write(s, this.#pos + 4);
    this.#pos += 4 + n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.byteLength);
    this.#buf.set(b, this.#pos);
    this.#pos += b.byteLength;
    return this;
  }

  attr(a: Attr): this {
    return this.f64(a.mode)
      .f64(a.size)
      .f64(a.mtimeMs)
      .f64(a.atimeMs)
      .f64(a.ctimeMs)
      .f64(a.nlink)
      .f64(a.uid ?? -1)
      .f64(a.gid ?? -1)
      .f64(a.ino ?? -1)
      .f64(a.blocks ?? -1);
  }

  /**
   * Fills in the header and returns the frame. `extra` bytes (a read result) follow the body
   * on the wire without being copied into this buffer.
   */
  finish(kind: number, id: number, extra = 0): Buffer {
    this.#buf.writeUInt32LE(this.#pos - 4 + extra, 0);
    this.#buf.writeUInt8(kind, 4);
    this.#buf.writeUInt32LE(id, 5);
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Little-endian reader over one frame body. */
export class Reader {
  readonly buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  #need(n: number): void {
    if (this.pos + n > this.buf.length) throw FuseError.PROTOCOL('frame too short');
  }

  u8(): number {
    this.#need(1);
    return this.buf.readUInt8(this.pos++);
  }

  i32(): number {
    this.#need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.#need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.#need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** The rest of the frame, without copying. */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return b;
  }

  attr(): Attr {
    const a: Attr = {
      mode: this.f64(),
      size: this.f64(),
      mtimeMs: this.f64(),
      atimeMs: this.f64(),
      ctimeMs: this.f64(),
      nlink: this.f64(),
    };
    const uid = this.f64();
    const gid = this.f64();
    const ino = this.f64();
    const blocks = this.f64();
    if (uid >= 0) a.uid = uid;
    if (gid >= 0) a.gid = gid;
    if (ino >= 0) a.ino = ino;
    if (blocks >= 0) a.blocks = blocks;
    return a;
  }
}

export function writeEntries(w: Writer, entries: DirEntry[]): void {
  w.u32(entries.length);
  for (const e of entries) {
    w.str(e.name);
    if (e.attr === undefined) w.u8(0);
    else w.u8(1).attr(e.attr);
  }
}

export function readEntries(r: Reader): DirEntry[] {
  const n = r.u32();
  const out: DirEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const name = r.str();
    out[i] = r.u8() === 1 ? { name, attr: r.attr() } : { name };
  }
  return out;
}

export function writeStatFs(w: Writer, s: StatFs): void {
  w.f64(s.bsize)
    .f64(s.frsize)
    .f64(s.blocks)
    .f64(s.bfree)
    .f64(s.bavail)
    .f64(s.files)
    .f64(s.ffree)
    .f64(s.namemax);
}

export function readStatFs(r: Reader): StatFs {
  return {
    bsize: r.f64(),
    frsize: r.f64(),
    blocks: r.f64(),
    bfree: r.f64(),
    bavail: r.f64(),
    files: r.f64(),
    ffree: r.f64(),
    namemax: r.f64(),
  };
}

/** One decoded frame: kind, id and the body (a view into the received bytes). */
export interface Frame {
  kind: number;
  id: number;
  body: Buffer;
}

/**
 * Splits a byte stream into frames. A frame that arrived inside one chunk is handed out as a
 * view of that chunk (no copy); only frames spanning chunks are concatenated.
 */
export class FrameSplitter {
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #maxFrame: number;

  constructor(maxFrame = 64 * 1024 * 1024) {
    this.#maxFrame = maxFrame;
  }

  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    if (this.#length === 0) {
      // Fast path: parse frames straight out of this chunk.
      let pos = 0;
      while (chunk.length - pos >= 4) {
        const len = chunk.readUInt32LE(pos);
        if (len < 5 || len > this.#maxFrame) throw FuseError.PROTOCOL(`bad frame length ${len}`);
        if (chunk.length - pos - 4 < len) break;
        onFrame({
          kind: chunk.readUInt8(pos + 4),
          id: chunk.readUInt32LE(pos + 5),
          body: chunk.subarray(pos + HEADER, pos + 4 + len),
        });
        pos += 4 + len;
      }
      if (pos < chunk.length) {
        this.#chunks.push(chunk.subarray(pos));
        this.#length = chunk.length - pos;
      }
      return;
    }
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#length >= 4) {
      if (this.#chunks[0]!.length < 4) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
      const head = this.#chunks[0]!;
      const len = head.readUInt32LE(0);
      if (len < 5 || len > this.#maxFrame) throw FuseError.PROTOCOL(`bad frame length ${len}`);
      if (this.#length < 4 + len) return;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
      const rest = all.subarray(4 + len);
      onFrame({ kind: all.readUInt8(4), id: all.readUInt32LE(5), body: all.subarray(HEADER, 4 + len) });
      this.#chunks = [];
      this.#length = 0;
      if (rest.length > 0) {
        this.push(rest, onFrame);
        return;
      }
    }
  }
}
