import { timingSafeEqual } from 'node:crypto';

/** UTF-8 encoding (shared encoder: hot in the sealed channel). */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time equality. Lengths are public (MACs have fixed length), so a length mismatch returns early. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Strict base64url decode: returns undefined on any non-alphabet character or bad length. */
export function fromBase64(s: unknown, maxChars = 1 << 20): Uint8Array | undefined {
  if (typeof s !== 'string' || s.length > maxChars || !B64URL.test(s) || s.length % 4 === 1) return undefined;
  const buf = Buffer.from(s, 'base64url');
  // Reject non-canonical encodings (trailing bits set) so one message has exactly one encoding.
  if (buf.toString('base64url') !== s) return undefined;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** 8-byte little-endian length prefix, as RFC 9382's transcript uses. */
export function le64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/** `len(x) || x` with an 8-byte little-endian length (RFC 9382 §3.3). */
export function lenPrefixed(x: Uint8Array): Uint8Array {
  return concatBytes(le64(x.length), x);
}
