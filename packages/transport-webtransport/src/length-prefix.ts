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
 * sits inside one chunk is returned as a view into it (no copy); one spanning chunks is
 * concatenated once.
 */
export class LengthPrefixDecoder {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxMessageBytes: number) {
    this.#max = maxMessageBytes;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): Buffer[] {
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    const out: Buffer[] = [];
    while (this.#buffered >= 4) {
      const size = this.#peekLength();
      if (size > this.#max) throw new FramingError(`message of ${size} bytes exceeds ${this.#max}`);
      if (this.#buffered < 4 + size) break;
      out.push(this.#take(4 + size).subarray(4));
    }
    return out;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.byteLength >= 4) return first.readUInt32BE(0);
    const all = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [all];
    return all.readUInt32BE(0);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.#chunks, this.#buffered);
    const rest = all.subarray(n);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#buffered = rest.byteLength;
    return all.subarray(0, n);
  }
}
