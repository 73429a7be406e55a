import { decodeFrame, FRAME_HEADER_BYTES, type Frame, MAX_FRAME_BYTES } from './frames.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Incremental decoder for length-prefixed frames on a byte stream. Feed it chunks as they
 * arrive; it returns the complete frames. A bad length poisons the decoder (the stream has
 * lost framing and must be closed), so after a throw every further `push` throws the same error.
 */
export class FrameDecoder {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: ProtocolError | undefined;

  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.#max = maxFrameBytes;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.byteLength > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#buffered += chunk.byteLength;
    }
    const frames: Frame[] = [];
    try {
      while (this.#buffered >= 4) {
        const head = this.#peek(4);
        const size = head.readUInt32BE(0);
        if (size > this.#max) throw ProtocolError.FRAME_TOO_LARGE(size, this.#max);
        if (size < FRAME_HEADER_BYTES)
          throw ProtocolError.TRUNCATED(`frame length ${size} is below the header size`);
        if (this.#buffered < 4 + size) break;
        const whole = this.#take(4 + size);
        frames.push(decodeFrame(whole.subarray(4), this.#max));
      }
    } catch (err) {
      this.#failed = err instanceof ProtocolError ? err : ProtocolError.BAD_BODY('undecodable frame', err);
      throw this.#failed;
    }
    return frames;
  }

  /** Throws if the stream ended in the middle of a frame. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.#buffered > 0)
      throw ProtocolError.TRUNCATED(`stream ended with ${this.#buffered} bytes of a partial frame`);
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) return first;
    return Buffer.concat(this.#chunks, this.#buffered).subarray(0, n);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.byteLength === n) {
      this.#chunks.shift();
      this.#buffered -= n;
      return first;
    }
    if (first.byteLength > n) {
      this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.#chunks, this.#buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#buffered = rest.byteLength;
    return out;
  }
}
