import { randomBytes } from 'node:crypto';
import {
  Attr,
  HEADER_BYTES,
  MAGIC_COOKIE,
  MAX_ATTRIBUTES,
  MAX_MESSAGE_BYTES,
  type StunClass,
} from './stun-constants.js';
import { fingerprint, messageIntegrity } from './stun-integrity.js';
import { TurnError } from './turn-error.js';

/** One attribute: its type and value (without padding). */
export interface StunAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/** A decoded message. `attributes` keeps wire order; `raw` is the message as received. */
export interface StunMessage {
  readonly method: number;
  readonly cls: StunClass;
  /** 12 bytes. */
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
  /** Byte offset of MESSAGE-INTEGRITY's header inside `raw`, when present. */
  readonly integrityOffset: number | undefined;
  readonly raw: Buffer;
}

/** What `encodeStunMessage` needs. */
export interface StunMessageInit {
  readonly method: number;
  readonly cls: StunClass;
  /** 12 bytes; default: fresh random. */
  readonly transactionId?: Buffer;
  readonly attributes?: readonly StunAttribute[];
}

const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

/** Message type field from method and class (RFC 8489 §5: M11..M0 interleaved with C1, C0). */
export function messageType(method: number, cls: StunClass): number {
  return ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | CLASS_BITS[cls];
}

function splitType(type: number): { method: number; cls: StunClass } {
  const method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
  const c = type & 0x0110;
  const cls: StunClass =
    c === 0x000 ? 'request' : c === 0x010 ? 'indication' : c === 0x100 ? 'success' : 'error';
  return { method, cls };
}

/** A fresh random 96-bit transaction id. */
export const newTransactionId = (): Buffer => randomBytes(12);

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Encodes a message. With `key`, MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) is appended;
 * with `withFingerprint`, FINGERPRINT (§14.7) goes last. Padding bytes are zero.
 */
export function encodeStunMessage(
  init: StunMessageInit,
  options: { key?: Uint8Array; withFingerprint?: boolean } = {},
): Buffer {
  const tid = init.transactionId ?? newTransactionId();
  if (tid.byteLength !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const attrs = init.attributes ?? [];
  let body = 0;
  for (const a of attrs) {
    if (a.value.byteLength > 0xffff) throw new RangeError('STUN attribute too long');
    body += 4 + pad4(a.value.byteLength);
  }
  const total = HEADER_BYTES + body + (options.key ? 24 : 0) + (options.withFingerprint ? 8 : 0);
  const out = Buffer.alloc(total);
  out.writeUInt16BE(messageType(init.method, init.cls), 0);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  tid.copy(out, 8);
  let pos = HEADER_BYTES;
  for (const a of attrs) {
    out.writeUInt16BE(a.type, pos);
    out.writeUInt16BE(a.value.byteLength, pos + 2);
    a.value.copy(out, pos + 4);
    pos += 4 + pad4(a.value.byteLength);
  }
  if (options.key) {
    // The length field covers up to and including MESSAGE-INTEGRITY while the HMAC is computed.
    out.writeUInt16BE(pos + 24 - HEADER_BYTES, 2);
    out.writeUInt16BE(Attr.MessageIntegrity, pos);
    out.writeUInt16BE(20, pos + 2);
    messageIntegrity(out.subarray(0, pos), options.key).copy(out, pos + 4);
    pos += 24;
  }
  if (options.withFingerprint) {
    out.writeUInt16BE(pos + 8 - HEADER_BYTES, 2);
    out.writeUInt16BE(Attr.Fingerprint, pos);
    out.writeUInt16BE(4, pos + 2);
    out.writeUInt32BE(fingerprint(out.subarray(0, pos)), pos + 4);
    pos += 8;
  }
  out.writeUInt16BE(pos - HEADER_BYTES, 2);
  return out;
}

/**
 * Total size of the message starting at `buf[0]`, from its header, or undefined while fewer
 * than 20 bytes are there. Throws TURN_MALFORMED when the header cannot start a STUN message.
 */
export function stunMessageLength(buf: Buffer): number | undefined {
  if (buf.byteLength < HEADER_BYTES) return undefined;
  if ((buf[0]! & 0xc0) !== 0) throw TurnError.MALFORMED('first two bits of the header are not zero');
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) throw TurnError.MALFORMED('bad magic cookie');
  const len = buf.readUInt16BE(2);
  if (len % 4 !== 0) throw TurnError.MALFORMED(`message length ${len} is not a multiple of 4`);
  if (HEADER_BYTES + len > MAX_MESSAGE_BYTES)
    throw TurnError.MALFORMED(`message of ${HEADER_BYTES + len} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  return HEADER_BYTES + len;
}

/**
 * Decodes exactly one message. Validates the header, every attribute's bounds, the position
 * of MESSAGE-INTEGRITY (only FINGERPRINT may follow it; later attributes are ignored as
 * RFC 8489 §14.5 says) and FINGERPRINT (last; its CRC is checked). Throws TurnError
 * TURN_MALFORMED or TURN_BAD_INTEGRITY; never anything else.
 */
export function decodeStunMessage(buf: Buffer): StunMessage {
  const size = stunMessageLength(buf);
  if (size === undefined) throw TurnError.MALFORMED(`${buf.byteLength} bytes is shorter than a header`);
  if (size !== buf.byteLength)
    throw TurnError.MALFORMED(`header announces ${size} bytes, got ${buf.byteLength}`);
  const { method, cls } = splitType(buf.readUInt16BE(0));
  const attributes: StunAttribute[] = [];
  let integrityOffset: number | undefined;
  let pos = HEADER_BYTES;
  let count = 0;
  while (pos < size) {
    if (size - pos < 4) throw TurnError.MALFORMED('truncated attribute header');
    if (++count > MAX_ATTRIBUTES) throw TurnError.MALFORMED(`more than ${MAX_ATTRIBUTES} attributes`);
    const type = buf.readUInt16BE(pos);
    const len = buf.readUInt16BE(pos + 2);
    const end = pos + 4 + len;
    if (end > size) throw TurnError.MALFORMED(`attribute 0x${type.toString(16)} overruns the message`);
    const next = pos + 4 + pad4(len);
    if (next > size)
      throw TurnError.MALFORMED(`attribute 0x${type.toString(16)} padding overruns the message`);
    const value = buf.subarray(pos + 4, end);
    if (type === Attr.Fingerprint) {
      if (next !== size) throw TurnError.MALFORMED('FINGERPRINT is not the last attribute');
      if (len !== 4) throw TurnError.MALFORMED('FINGERPRINT must be 4 bytes');
      const expected = fingerprint(withLength(buf.subarray(0, pos), pos + 8 - HEADER_BYTES));
      if (value.readUInt32BE(0) !== expected) throw TurnError.BAD_INTEGRITY('FINGERPRINT mismatch');
    } else if (integrityOffset === undefined) {
      if (type === Attr.MessageIntegrity) {
        if (len !== 20) throw TurnError.MALFORMED('MESSAGE-INTEGRITY must be 20 bytes');
        integrityOffset = pos;
      }
      attributes.push({ type, value });
    }
    pos = next;
  }
  return { method, cls, transactionId: buf.subarray(8, 20), attributes, integrityOffset, raw: buf };
}

/** A copy of `head` (a message prefix) whose length field says `length`. */
function withLength(head: Buffer, length: number): Buffer {
  const copy = Buffer.from(head);
  copy.writeUInt16BE(length, 2);
  return copy;
}

/**
 * Checks MESSAGE-INTEGRITY with `key` (long-term: MD5(user:realm:pass); short-term: the
 * password). Throws TURN_BAD_INTEGRITY when it is missing or wrong.
 */
export function verifyIntegrity(msg: StunMessage, key: Uint8Array): void {
  const at = msg.integrityOffset;
  if (at === undefined) throw TurnError.BAD_INTEGRITY('MESSAGE-INTEGRITY missing');
  const head = withLength(msg.raw.subarray(0, at), at + 24 - HEADER_BYTES);
  const expected = messageIntegrity(head, key);
  if (!expected.equals(msg.raw.subarray(at + 4, at + 24)))
    throw TurnError.BAD_INTEGRITY('MESSAGE-INTEGRITY mismatch');
}

/** The first attribute of a type, or undefined. */
export function getAttribute(msg: StunMessage, type: number): Buffer | undefined {
  return msg.attributes.find((a) => a.type === type)?.value;
}
