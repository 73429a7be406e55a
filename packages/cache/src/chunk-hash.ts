import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Integrity check stored with every L2 chunk. The cache defends against accidental
 * corruption (torn writes, bad sectors, bit flips), not against someone who can write the
 * cache file (they could rewrite the check too). Measured on this machine for 128 KiB:
 * sha256 ~1.7 GB/s, crc32 (node:zlib, SIMD) ~4.9 GB/s. See README "Numbers".
 */
export type ChunkHashAlgorithm = 'sha256' | 'crc32';

/** Computes the stored check value of `bytes`. */
export function hashChunk(alg: ChunkHashAlgorithm, bytes: Uint8Array): Buffer {
  if (alg === 'crc32') {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(crc32(bytes), 0);
    return out;
  }
  return createHash('sha256').update(bytes).digest();
}

/** True when `bytes` match the stored check value. */
export function chunkMatches(alg: ChunkHashAlgorithm, bytes: Uint8Array, stored: Uint8Array): boolean {
  return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(hashChunk(alg, bytes));
}
