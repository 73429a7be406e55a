import type { BigIntStats } from 'node:fs';
import type { EntryType, Stat } from '@wormhole/protocol';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function typeOf(st: BigIntStats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * The version token: changes whenever the content may have changed. ctime is in it because
 * mtime can be set back (`touch -d`) but ctime cannot, and ino because a rename-over replaces
 * the file without touching either.
 */
export function versionOf(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** node:fs BigIntStats → the wire Stat (lstat semantics: a symlink is reported as one). */
export function toWireStat(st: BigIntStats): Stat {
  return {
    type: typeOf(st),
    size: Number(st.size > MAX_SAFE ? MAX_SAFE : st.size),
    mode: Number(st.mode & 0o177777n),
    mtimeMs: Number(st.mtimeNs / 1000n) / 1000,
    ctimeMs: Number(st.ctimeNs / 1000n) / 1000,
    atimeMs: Number(st.atimeNs / 1000n) / 1000,
    nlink: Number(st.nlink & 0xffffffffn),
    ino: Number(st.ino % (MAX_SAFE + 1n)),
    version: versionOf(st),
  };
}
