/** Identifies one chunk: chunk `index` of `file` as it was at `version` (the host's token). */
export interface ChunkKey {
  /** The file's identity in the share (a path or file id); opaque to the cache. */
  readonly file: string;
  /** The host-reported version token (size+mtime, content hash...); opaque to the cache. */
  readonly version: string;
  /** Zero-based chunk index (byte offset / chunk size). */
  readonly index: number;
}

/**
 * The stored key. NUL cannot occur in a path, so the three parts cannot run into each
 * other: `a` + `b\0c` never collides with `a\0b` + `c`.
 */
export function chunkKeyString(key: ChunkKey): string {
  return `${key.file}\u0000${key.version}\u0000${key.index}`;
}
