/**
 * Minimal u32-big-endian length-prefixed message framing for byte streams. (The protocol's
 * `FrameDecoder` decodes peer frames and checks their headers; a transport carries opaque
 * messages, so it frames them itself.)
 */

/** Encodes the 4-byte length header of a message. */
export function lengthHeader(byteLength: number): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(byteLength, 0);
  return head;
}

/** Thrown by `LengthPrefixDecoder.push` when the peer announces an over-long message. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/**
 * Incremental decoder: push chunks as they arrive, get whole messages back. A message that
 * sits inside one chunk is returned as a view into it (no copy). One spanning chunks is copied
 * once, piece by piece as they arrive, into a buffer of its announced size: TLS hands over
 * ≤ 16 KiB records, so a 256 KiB message spans ~16 chunks, and gathering them for a
 * `Buffer.concat` re-copied the tail left over after each message.
 */
export class LengthPrefixDecoder {
  readonly #max: number;
  /** Length header bytes seen so far when a header itself is split across chunks. */
  readonly #head = Buffer.alloc(4);
  #headFill = 0;
  /** The message being assembled, and how much of it has arrived. */
  #msg: Buffer | undefined;
  #msgFill = 0;

  constructor(maxMessageBytes: number) {
    this.#max = maxMessageBytes;
  }

  get bufferedBytes(): number {
    return this.#headFill + this.#msgFill;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const end = chunk.byteLength;
    let pos = 0;
    while (pos < end) {
      const msg = this.#msg;
      if (msg !== undefined) {
        const n = Math.min(msg.byteLength - this.#msgFill, end - pos);
        chunk.copy(msg, this.#msgFill, pos, pos + n);
        this.#msgFill += n;
        pos += n;
        if (this.#msgFill === msg.byteLength) {
          out.push(msg);
          this.#msg = undefined;
          this.#msgFill = 0;
        }
        continue;
      }
      let size: number;
      if (this.#headFill === 0 && end - pos >= 4) {
        size = chunk.readUInt32BE(pos);
        pos += 4;
      } else {
        const n = Math.min(4 - this.#headFill, end - pos);
        chunk.copy(this.#head, this.#headFill, pos, pos + n);
        this.#headFill += n;
        pos += n;
        if (this.#headFill < 4) break;
        this.#headFill = 0;
        size = this.#head.readUInt32BE(0);
      }
      if (size > this.#max) throw new FramingError(`message of ${size} bytes exceeds ${this.#max}`);
      if (end - pos >= size) {
        out.push(chunk.subarray(pos, pos + size));
        pos += size;
      } else {
        this.#msg = Buffer.allocUnsafe(size);
        this.#msgFill = 0;
      }
    }
    return out;
  }
}
