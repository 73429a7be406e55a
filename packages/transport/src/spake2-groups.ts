import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { TransportError } from './transport-error.js';

/** The slice of a prime-order group element SPAKE2 needs (noble's point classes fit it). */
export interface GroupElement<E> {
  add(other: E): E;
  subtract(other: E): E;
  multiply(scalar: bigint): E;
  is0(): boolean;
}

/**
 * A prime-order group with SPAKE2's fixed points M and N (RFC 9382 §4). Cofactor 1 for both
 * groups here (ristretto255 removes ed25519's cofactor), so `h = 1`.
 */
export interface Spake2Group<E extends GroupElement<E>> {
  readonly name: string;
  /** Group order p; scalars live in [1, p-1]. */
  readonly order: bigint;
  readonly base: E;
  readonly M: E;
  readonly N: E;
  /** Canonical element encoding used on the wire and in the transcript. */
  encodeElement(e: E): Uint8Array;
  /** Decodes and validates a peer element; throws TRANSPORT_PAKE_FAILED on anything invalid or the identity. */
  decodeElement(bytes: Uint8Array): E;
  /** Scalar encoding for `w` in the transcript. */
  encodeScalar(s: bigint): Uint8Array;
}

function bigintToBytesBE(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

type P256Point = InstanceType<typeof p256.Point>;
type RistrettoPoint = InstanceType<typeof ristretto255.Point>;

/**
 * P-256 with RFC 9382's M and N (its Appendix B vectors use this group, uncompressed SEC1
 * encodings and a 32-byte big-endian `w`). Used to prove the implementation against the RFC.
 */
export const P256_GROUP: Spake2Group<P256Point> = {
  name: 'P-256',
  order: p256.Point.Fn.ORDER,
  base: p256.Point.BASE,
  M: p256.Point.fromHex('02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f'),
  N: p256.Point.fromHex('03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49'),
  encodeElement: (e) => e.toBytes(false),
  decodeElement(bytes) {
    let e: P256Point;
    try {
      e = p256.Point.fromBytes(bytes);
      e.assertValidity();
    } catch (err) {
      throw TransportError.PAKE_FAILED('PAKE message carries an invalid group element', { cause: err });
    }
    if (e.is0()) throw TransportError.PAKE_FAILED('PAKE message carries the identity element');
    return e;
  },
  encodeScalar: (s) => bigintToBytesBE(s, 32),
};

/**
 * Seeds of ristretto255's M and N, derived with RFC 9380 hash-to-curve
 * (ristretto255_XMD:SHA-512_R255MAP_RO_). Nobody knows the discrete log of either relative to
 * the base point or to each other, which SPAKE2's security needs. Changing them is a protocol break.
 */
export const RISTRETTO255_M_SEED = 'wormhole-v1 SPAKE2 M';
export const RISTRETTO255_N_SEED = 'wormhole-v1 SPAKE2 N';
export const RISTRETTO255_H2C_DST = 'wormhole-v1-SPAKE2-ristretto255_XMD:SHA-512_R255MAP_RO_';

const te = new TextEncoder();

// A process runs a handful of exchanges, not thousands: noble builds an 8-bit window table for
// the base point on its first multiply (~30 ms, all of it inside a CLI's first connection); a
// 4-bit table builds in ~12 ms and each later multiply costs ~0.2 ms more. Built lazily.
ristretto255.Point.BASE.precompute(4);

/** ristretto255 with M/N from the seeds above: the group Wormhole uses in production. */
export const RISTRETTO255_GROUP: Spake2Group<RistrettoPoint> = {
  name: 'ristretto255',
  order: ristretto255.Point.Fn.ORDER,
  base: ristretto255.Point.BASE,
  M: ristretto255_hasher.hashToCurve(te.encode(RISTRETTO255_M_SEED), { DST: RISTRETTO255_H2C_DST }),
  N: ristretto255_hasher.hashToCurve(te.encode(RISTRETTO255_N_SEED), { DST: RISTRETTO255_H2C_DST }),
  encodeElement: (e) => e.toBytes(),
  decodeElement(bytes) {
    let e: RistrettoPoint;
    try {
      e = ristretto255.Point.fromBytes(bytes);
    } catch (err) {
      throw TransportError.PAKE_FAILED('PAKE message carries an invalid group element', { cause: err });
    }
    if (e.is0()) throw TransportError.PAKE_FAILED('PAKE message carries the identity element');
    return e;
  },
  encodeScalar: (s) => bigintToBytesBE(s, 32).reverse(),
};
