import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Integrity check stored with every L2 chunk. The cache defends against accidental
 * corruption (torn writes, bad sectors, bit flips), not against someone who can write the
 * cache file (they could rewrite the check too). Measured on this machine for 128 KiB:
 * sha256 ~1.7 GB/s, crc32 (node:zlib, SIMD) ~4.9 GB/s. See README "Numbers".
 */
export type ChunkHashAlgorithm = 'sha256' | 'crc32';

/**
 * crc32 checks one block of this many bytes each (4 bytes of check per 4 KiB), so a small
 * random read can be served from part of a chunk and still be verified: reading and
 * checking a whole 256 KiB chunk to return 4 KiB cost ~110 us and most of the GC of a
 * random-read workload; a verified 4 KiB range costs ~35 us (docs/bench/cache.md).
 */
export const CHECK_BLOCK = 4096;

/** True when the algorithm can verify a block-aligned part of a chunk on its own. */
export function checksBlocks(alg: ChunkHashAlgorithm): boolean {
  return alg === 'crc32';
}

/** Computes the stored check value of `bytes` (crc32: one big-endian u32 per CHECK_BLOCK). */
export function hashChunk(alg: ChunkHashAlgorithm, bytes: Uint8Array): Buffer {
  if (alg === 'crc32') {
    const blocks = Math.ceil(bytes.byteLength / CHECK_BLOCK);
    const out = Buffer.allocUnsafe(4 * blocks);
    for (let b = 0; b < blocks; b++)
      out.writeUInt32BE(crc32(bytes.subarray(b * CHECK_BLOCK, (b + 1) * CHECK_BLOCK)), 4 * b);
    return out;
  }
  return createHash('sha256').update(bytes).digest();
}

/** True when `bytes` match the stored check value. */
export function chunkMatches(alg: ChunkHashAlgorithm, bytes: Uint8Array, stored: Uint8Array): boolean {
  return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(hashChunk(alg, bytes));
}

/**
 * True when `bytes`, which start at block `firstBlock` of a chunk (block-aligned; the last
 * block may be short only at the chunk's end), match their blocks' stored crc32 checks.
 */
export function blocksMatch(bytes: Uint8Array, firstBlock: number, stored: Uint8Array): boolean {
  const blocks = Math.ceil(bytes.byteLength / CHECK_BLOCK);
  if (4 * (firstBlock + blocks) > stored.byteLength) return false;
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  for (let b = 0; b < blocks; b++) {
    const sum = crc32(bytes.subarray(b * CHECK_BLOCK, (b + 1) * CHECK_BLOCK));
    if (sum !== view.getUint32(4 * (firstBlock + b))) return false;
  }
  return true;
}
