import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { concatBytes, constantTimeEqual, utf8 } from './bytes.js';
import { TransportError } from './transport-error.js';

/**
 * CPace (draft-irtf-cfrg-cpace, cipher suite CPACE-X25519-SHA512), initiator-responder setting:
 * A is the client, B the host.
 *
 *   g  = Elligator2(SHA-512(lv_cat("CPace255", PRS, zpad, CI, sid))[0..32])
 *   Ya = X25519(ya, g)      Yb = X25519(yb, g)      K = X25519(ya, Yb) = X25519(yb, Ya), K ≠ 0
 *   ISK = SHA-512(lv_cat("CPace255_ISK", sid, K) ‖ lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb))
 *
 * Why not SPAKE2 on ristretto255 (what came before): both scalar multiplications here are
 * X25519, which node:crypto does natively, so a process' first exchange costs ~1 ms instead of
 * ~15-25 ms of noble's BigInt code warming up (measured on the first connection of a CLI
 * process); only the generator's map to the curve is BigInt, two exponentiations.
 *
 * On top of ISK this module keeps the key confirmation the rendezvous already used: ke and ka
 * are ISK's halves, HMAC-SHA256 keys for the two confirmation MACs come from ka by HKDF with
 * "ConfirmationKeys" ‖ aad, and the MACs cover the transcript.
 */

const P = 2n ** 255n - 19n;
/** Curve25519's Montgomery coefficient. */
const A = 486662n;
/** The non-square Elligator 2 uses for this field (RFC 9380 §6.7.1, the draft's find_z_ell2). */
const Z = 2n;
const DSI = utf8('CPace255');
const DSI_ISK = utf8('CPace255_ISK');
/** SHA-512's input block size: the zero padding makes DSI ‖ PRS fill the first block. */
const S_IN_BYTES = 128;
const FIELD_BYTES = 32;

/** LEB128 length, then the bytes (the draft's prepend_len). */
export function prependLen(data: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = data.length;
  do {
    len.push(n < 128 ? n : (n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  } while (n > 0);
  return concatBytes(Uint8Array.from(len), data);
}

/** Each part with its length prepended (the draft's lv_cat). */
export function lvCat(...parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function decodeLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function encodeUCoordinate(u: bigint): Uint8Array {
  const out = new Uint8Array(FIELD_BYTES);
  let n = u;
  for (let i = 0; i < FIELD_BYTES; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The draft's Elligator 2 (appendix A.5): a field element to a u-coordinate on Curve25519. */
function elligator2(r: bigint): bigint {
  const v = mod(-A * powMod(1n + Z * r * r, P - 2n));
  const epsilon = powMod(v * v * v + A * v * v + v, (P - 1n) / 2n);
  if (epsilon === 1n) return v;
  if (epsilon === P - 1n) return mod(-v - A);
  return mod(-A * powMod(2n, P - 2n)); // v^3 + A v^2 + v = 0: unreachable on Curve25519
}

/** G_X25519.calculate_generator with SHA-512: the generator's u-coordinate, 32 bytes. */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const hash = createHash('sha512')
    .update(generatorString(prs, ci, sid))
    .digest()
    .subarray(0, FIELD_BYTES);
  const bytes = Uint8Array.from(hash);
  bytes[FIELD_BYTES - 1] = (bytes[FIELD_BYTES - 1] ?? 0) & 0x7f; // decodeUCoordinate: bit 255 ignored
  return encodeUCoordinate(elligator2(mod(decodeLittleEndian(bytes))));
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * X25519(scalar, u) through node:crypto (OpenSSL clamps the scalar and ignores bit 255 of u,
 * as RFC 7748 asks). Returns undefined for the neutral element: OpenSSL refuses an all-zero
 * result, which is what a low-order u gives.
 */
export function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array | undefined {
  if (scalar.length !== FIELD_BYTES || u.length !== FIELD_BYTES) return undefined;
  try {
    const privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_X25519, scalar]),
      format: 'der',
      type: 'pkcs8',
    });
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, u]), format: 'der', type: 'spki' });
    const k = new Uint8Array(diffieHellman({ privateKey, publicKey }));
    return k.every((b) => b === 0) ? undefined : k;
  } catch {
    return undefined;
  }
}

/** Output of a finished exchange. `ke` feeds the key schedule; the MACs are the key confirmation. */
export interface PakeResult {
  readonly transcript: Uint8Array;
  readonly ke: Uint8Array;
  /** Our confirmation MAC, to send. */
  readonly confirm: Uint8Array;
  /** Checks the peer's confirmation MAC in constant time. */
  verifyPeerConfirm(mac: Uint8Array): boolean;
}

export interface CPaceOptions {
  /** Channel identifier: both parties' view must match; not sent. */
  readonly ci: Uint8Array;
  /** Session identifier known to both before the run. Default empty. */
  readonly sid?: Uint8Array;
  /** This party's associated data (sent in clear by the caller, authenticated here). Default empty. */
  readonly ad?: Uint8Array;
  /** Additional data bound into the confirmation keys. Default empty. */
  readonly aad?: Uint8Array;
  /** Fixed scalar (32 bytes), for test vectors only. */
  readonly scalar?: Uint8Array;
}

export type CPaceRole = 'A' | 'B';

/** The ISK of a finished run and the values it came from (exported for the test vectors). */
export interface CPaceIsk {
  readonly K: Uint8Array;
  readonly transcript: Uint8Array;
  readonly isk: Uint8Array;
}

/** One CPace party. Create it, send `share`, then `finish(peerShare)`. Single use. */
export class CPace {
  readonly share: Uint8Array;
  readonly #role: CPaceRole;
  readonly #y: Uint8Array;
  readonly #opts: CPaceOptions;
  #finished = false;

  constructor(role: CPaceRole, prs: Uint8Array, opts: CPaceOptions) {
    this.#role = role;
    this.#opts = opts;
    this.#y = opts.scalar ?? new Uint8Array(randomBytes(FIELD_BYTES));
    const share = x25519(this.#y, calculateGenerator(prs, opts.ci, opts.sid ?? new Uint8Array(0)));
    // Only a generator of low order could give the neutral element; Elligator 2 never maps there.
    if (share === undefined) throw new Error('CPace: degenerate generator');
    this.share = share;
  }

  /** K and ISK for the peer's share; throws TRANSPORT_PAKE_FAILED when K is the neutral element. */
  isk(peerShare: Uint8Array, peerAd: Uint8Array = new Uint8Array(0)): CPaceIsk {
    const K = x25519(this.#y, peerShare);
    if (K === undefined) throw TransportError.PAKE_FAILED('PAKE peer share is degenerate');
    const ad = this.#opts.ad ?? new Uint8Array(0);
    const [ya, ada, yb, adb] =
      this.#role === 'A' ? [this.share, ad, peerShare, peerAd] : [peerShare, peerAd, this.share, ad];
    const transcript = concatBytes(lvCat(ya, ada), lvCat(yb, adb));
    const isk = new Uint8Array(
      createHash('sha512')
        .update(lvCat(DSI_ISK, this.#opts.sid ?? new Uint8Array(0), K))
        .update(transcript)
        .digest(),
    );
    return { K, transcript, isk };
  }

  /** ISK, the transcript and the confirmation MACs. Throws TRANSPORT_PAKE_FAILED on a bad peer share. */
  finish(peerShare: Uint8Array, peerAd?: Uint8Array): PakeResult {
    if (this.#finished) throw new Error('CPace.finish called twice');
    this.#finished = true;
    const { transcript, isk } = this.isk(peerShare, peerAd);
    const ke = isk.slice(0, 32);
    const ka = isk.slice(32, 64);
    const info = concatBytes(utf8('ConfirmationKeys'), this.#opts.aad ?? new Uint8Array(0));
    const kc = new Uint8Array(hkdfSync('sha256', ka, new Uint8Array(0), info, 32));
    const kcA = kc.slice(0, 16);
    const kcB = kc.slice(16, 32);
    const cA = new Uint8Array(createHmac('sha256', kcA).update(transcript).digest());
    const cB = new Uint8Array(createHmac('sha256', kcB).update(transcript).digest());
    const confirm = this.#role === 'A' ? cA : cB;
    const expected = this.#role === 'A' ? cB : cA;
    return {
      transcript,
      ke,
      confirm,
      verifyPeerConfirm: (mac) => constantTimeEqual(mac, expected),
    };
  }
}

let warmedUp = false;

/** Runs one throw-away exchange (loads node:crypto's X25519 path, JITs the map): ~1-2 ms cold. Once per process. */
export function warmUpCPace(): void {
  if (warmedUp) return;
  warmedUp = true;
  const opts = { ci: new Uint8Array(0) };
  const a = new CPace('A', new Uint8Array(1), opts);
  const b = new CPace('B', new Uint8Array(1), opts);
  a.finish(b.share);
  b.finish(a.share);
}

/** A real exchange is about to run; a warm-up still waiting on a timer is moot. */
export function cpaceStartingNow(): void {
  warmedUp = true;
}
