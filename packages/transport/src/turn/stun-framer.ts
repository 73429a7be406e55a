import { stunMessageLength } from './stun-message.js';

/**
 * Splits a TCP byte stream into whole STUN messages (RFC 8489 §6.2.2: over TCP, messages are
 * delimited by their own length field). Throws TurnError TURN_MALFORMED as soon as the header
 * cannot start a STUN message or announces more than MAX_MESSAGE_BYTES; the caller then drops
 * the connection (the stream cannot be resynchronised).
 */
export class StunFramer {
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes held that do not make a whole message yet. */
  get buffered(): number {
    return this.#buf.byteLength;
  }

  /** Appends `chunk`; returns every whole message now available (copies, owned by the caller). */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.byteLength === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const size = stunMessageLength(this.#buf);
      if (size === undefined || this.#buf.byteLength < size) break;
      out.push(Buffer.from(this.#buf.subarray(0, size)));
      this.#buf = this.#buf.subarray(size);
    }
    return out;
  }

  /** Takes whatever is buffered after the last whole message (the first bytes of a raw stream). */
  takeRest(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }
}
