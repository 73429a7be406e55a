import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { concatBytes, constantTimeEqual, lenPrefixed, utf8 } from './bytes.js';
import type { GroupElement, Spake2Group } from './spake2-groups.js';
import { TransportError } from './transport-error.js';

/**
 * SPAKE2 (RFC 9382) over any prime-order group, with SHA-256, HKDF-SHA256 and HMAC-SHA256
 * (the RFC's "SPAKE2-P256-SHA256-HKDF-HMAC" suite shape). Party A is the client, B the host.
 *
 *   A: pA = w·M + x·P          B: pB = w·N + y·P
 *   K = x·(pB − w·N) = y·(pA − w·M)
 *   TT = len‖A ‖ len‖B ‖ len‖pA ‖ len‖pB ‖ len‖K ‖ len‖w
 *   Ke ‖ Ka = SHA-256(TT);  KcA ‖ KcB = HKDF(salt=∅, Ka, "ConfirmationKeys"‖AAD, 32)
 *   cA = HMAC(KcA, TT), cB = HMAC(KcB, TT)
 */

export type Spake2Role = 'A' | 'B';

/** Output of a finished exchange. `ke` feeds the key schedule; the MACs are the key confirmation. */
export interface Spake2Result {
  readonly transcript: Uint8Array;
  readonly ke: Uint8Array;
  readonly ka: Uint8Array;
  readonly kcA: Uint8Array;
  readonly kcB: Uint8Array;
  /** Our confirmation MAC, to send. */
  readonly confirm: Uint8Array;
  /** Checks the peer's confirmation MAC in constant time. */
  verifyPeerConfirm(mac: Uint8Array): boolean;
}

export interface Spake2Options {
  /** Identity of party A (client) and B (host); bound into the transcript. */
  readonly idA: Uint8Array;
  readonly idB: Uint8Array;
  /** Additional data bound into the confirmation keys (RFC 9382 §3.3 AAD). Default empty. */
  readonly aad?: Uint8Array;
  /** Fixed ephemeral scalar, for test vectors only. */
  readonly scalar?: bigint;
}

function bytesToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** Uniform scalar in [1, order-1] (64 extra bits of input make the modulo bias negligible). */
function randomScalar(order: bigint): bigint {
  const bytes = randomBytes(Math.ceil(order.toString(2).length / 8) + 8);
  return (bytesToBigint(bytes) % (order - 1n)) + 1n;
}

/**
 * Maps a password to SPAKE2's `w` (RFC 9382 §3.2 says an MHF; a slow hash buys nothing here
 * because only an active peer can test a guess, once, and then the code is burned).
 */
export function passwordToScalar(password: Uint8Array, order: bigint): bigint {
  const h = createHash('sha512').update(utf8('wormhole-v1 SPAKE2 w')).update(password).digest();
  const w = bytesToBigint(h) % order;
  return w === 0n ? 1n : w;
}

let warmedUp = false;

/**
 * A real exchange is about to run: it pays the one-time work itself, so a warm-up still waiting
 * on a timer would only add a throw-away exchange (both parties, ~20-25 ms cold) to the critical
 * path of a process that connects right after creating its transports (the CLI).
 */
export function spake2StartingNow(): void {
  warmedUp = true;
}

/**
 * Runs one throw-away exchange so the process' first real one is not the slowest: cold, a
 * ristretto255 exchange costs ~40-100 ms a side (noble's BigInt code still interpreted, the
 * base point's table not built) against ~5-10 ms warm, and it sat on the critical path of a
 * host's first client (the first-byte bench's 150-300 ms first try). Once per process.
 */
export function warmUpSpake2<E extends GroupElement<E>>(group: Spake2Group<E>): void {
  if (warmedUp) return;
  warmedUp = true;
  const opts = { idA: new Uint8Array(0), idB: new Uint8Array(0) };
  const a = new Spake2(group, 'A', 1n, opts);
  const b = new Spake2(group, 'B', 1n, opts);
  a.finish(b.share);
  b.finish(a.share);
}

/** One SPAKE2 party. Create it, send `share`, then `finish(peerShare)`. Single use. */
export class Spake2<E extends GroupElement<E>> {
  readonly share: Uint8Array;
  readonly #group: Spake2Group<E>;
  readonly #role: Spake2Role;
  readonly #w: bigint;
  readonly #x: bigint;
  readonly #opts: Spake2Options;
  #finished = false;

  constructor(group: Spake2Group<E>, role: Spake2Role, w: bigint, opts: Spake2Options) {
    if (w <= 0n || w >= group.order) throw new RangeError('w must be in [1, order-1]');
    const x = opts.scalar ?? randomScalar(group.order);
    if (x <= 0n || x >= group.order) throw new RangeError('scalar must be in [1, order-1]');
    this.#group = group;
    this.#role = role;
    this.#w = w;
    this.#x = x;
    this.#opts = opts;
    const blind = role === 'A' ? group.M : group.N;
    this.share = group.encodeElement(blind.multiply(w).add(group.base.multiply(x)));
  }

  /** Computes K, the transcript and the confirmation MACs. Throws TRANSPORT_PAKE_FAILED on a bad peer share. */
  finish(peerShare: Uint8Array): Spake2Result {
    if (this.#finished) throw new Error('Spake2.finish called twice');
    this.#finished = true;
    const g = this.#group;
    const peer = g.decodeElement(peerShare);
    const peerBlind = (this.#role === 'A' ? g.N : g.M).multiply(this.#w);
    const unblinded = peer.subtract(peerBlind);
    if (unblinded.is0()) throw TransportError.PAKE_FAILED('PAKE peer share is degenerate');
    const K = g.encodeElement(unblinded.multiply(this.#x));
    const pA = this.#role === 'A' ? this.share : peerShare;
    const pB = this.#role === 'A' ? peerShare : this.share;
    const transcript = concatBytes(
      lenPrefixed(this.#opts.idA),
      lenPrefixed(this.#opts.idB),
      lenPrefixed(pA),
      lenPrefixed(pB),
      lenPrefixed(K),
      lenPrefixed(g.encodeScalar(this.#w)),
    );
    const hash = createHash('sha256').update(transcript).digest();
    const ke = new Uint8Array(hash.subarray(0, 16));
    const ka = new Uint8Array(hash.subarray(16, 32));
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
      ka,
      kcA,
      kcB,
      confirm,
      verifyPeerConfirm: (mac) => constantTimeEqual(mac, expected),
    };
  }
}
