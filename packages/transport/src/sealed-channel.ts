import { createCipheriv, createDecipheriv } from 'node:crypto';
import { SIGNAL_MAX_PAYLOAD_CHARS } from '@wormhole/protocol';
import { fromBase64, toBase64, utf8 } from './bytes.js';
import { TransportError } from './transport-error.js';

/** Relay payloads that carry a sealed message start with this. */
export const SEALED_PREFIX = 'S1.';
/** Largest plaintext one sealed message may carry (its base64 must fit a relay payload). */
export const SEALED_MAX_PLAINTEXT =
  Math.floor(((SIGNAL_MAX_PAYLOAD_CHARS - SEALED_PREFIX.length) * 3) / 4) - 8 - 16 - 64;
const AAD = utf8('wormhole-v1 sealed room message');
const TAG = 16;

/**
 * One direction pair of the encrypted room channel: AES-256-GCM with a per-direction key and a
 * 64-bit sequence number as the nonce. The receiver accepts exactly the next sequence number,
 * so a replayed, dropped or reordered message is an error (the relay is ordered, so that only
 * happens when someone tampers).
 */
export class SealedChannel {
  readonly #sendKey: Uint8Array;
  readonly #recvKey: Uint8Array;
  #sendSeq = 0n;
  #recvSeq = 0n;

  constructor(sendKey: Uint8Array, recvKey: Uint8Array) {
    this.#sendKey = sendKey;
    this.#recvKey = recvKey;
  }

  /** Encrypts one message into a relay payload string. */
  seal(plaintext: Uint8Array): string {
    if (plaintext.length > SEALED_MAX_PLAINTEXT)
      throw TransportError.MESSAGE_TOO_LARGE(plaintext.length, SEALED_MAX_PLAINTEXT);
    const seq = this.#sendSeq++;
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(seq);
    const cipher = createCipheriv('aes-256-gcm', this.#sendKey, nonce(seq), { authTagLength: TAG });
    cipher.setAAD(Buffer.concat([AAD, header]));
    const body = Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return SEALED_PREFIX + toBase64(body);
  }

  /**
   * Decrypts one relay payload. Throws TRANSPORT_DECRYPT_FAILED on anything that does not
   * authenticate, TRANSPORT_OUT_OF_ORDER on a replayed or reordered (but authentic) message.
   */
  open(payload: string): Uint8Array {
    if (typeof payload !== 'string' || !payload.startsWith(SEALED_PREFIX)) {
      throw TransportError.DECRYPT_FAILED('not a sealed message');
    }
    const body = fromBase64(payload.slice(SEALED_PREFIX.length), SIGNAL_MAX_PAYLOAD_CHARS);
    if (!body || body.length < 8 + TAG)
      throw TransportError.DECRYPT_FAILED('sealed message is truncated or malformed');
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const seq = buf.readBigUInt64BE(0);
    const decipher = createDecipheriv('aes-256-gcm', this.#recvKey, nonce(seq), { authTagLength: TAG });
    decipher.setAAD(Buffer.concat([AAD, buf.subarray(0, 8)]));
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(buf.subarray(8, buf.length - TAG)), decipher.final()]);
    } catch (err) {
      throw TransportError.DECRYPT_FAILED(undefined, { cause: err });
    }
    // Checked after authentication so a forged sequence number reads as tampering, not reordering.
    if (seq !== this.#recvSeq) throw TransportError.OUT_OF_ORDER(this.#recvSeq, seq);
    this.#recvSeq++;
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  }
}

function nonce(seq: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(seq, 4);
  return n;
}
