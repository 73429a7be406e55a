import { createHash, hkdfSync } from 'node:crypto';
import { toHex, utf8 } from './bytes.js';

/**
 * Keys both peers derive after a successful PAKE (or resumption handshake). Everything after
 * the handshake is protected by these; none of them ever leaves the process.
 */
export interface SessionKeys {
  /** AES-256-GCM key for sealed room messages client → host. */
  readonly clientToHost: Uint8Array;
  /** AES-256-GCM key for sealed room messages host → client. */
  readonly hostToClient: Uint8Array;
  /** HMAC-SHA256 key for channel binding (MAC over the fingerprints each side sees). */
  readonly binding: Uint8Array;
  /** 256-bit secret a client presents (by MAC) to resume without a code. */
  readonly resumeSecret: Uint8Array;
  /** Public handle of the resumption secret (hex, 32 chars); sent in the clear to find the ticket. */
  readonly resumeId: string;
}

const LABEL = 'wormhole-v1 ';

function expand(ikm: Uint8Array, salt: Uint8Array, label: string, len: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, utf8(LABEL + label), len));
}

/**
 * HKDF-SHA256 key schedule. `ikm` is the PAKE's ke (half of CPace's ISK) or a resumption secret, `salt` binds the
 * keys to the exchange that produced them (SHA-256 of the PAKE transcript, or both resumption
 * nonces), so two sessions never share keys.
 */
export function deriveSessionKeys(ikm: Uint8Array, salt: Uint8Array): SessionKeys {
  return {
    clientToHost: expand(ikm, salt, 'room client->host', 32),
    hostToClient: expand(ikm, salt, 'room host->client', 32),
    binding: expand(ikm, salt, 'channel binding', 32),
    resumeSecret: expand(ikm, salt, 'resumption secret', 32),
    resumeId: toHex(expand(ikm, salt, 'resumption id', 16)),
  };
}

/** Salt for keys that follow a PAKE: the transcript's hash. */
export function transcriptSalt(transcript: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(transcript).digest());
}
