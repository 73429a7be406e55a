import type { BigIntStats } from 'node:fs';
import type { EntryType, Stat } from '@wormhole/protocol';
import { StatField as F, type NativeFs } from './native-fs.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What a node:fs stat describes. */
export function typeOf(st: BigIntStats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** What an `st_mode` describes (the native helper's fields carry the raw mode). */
export function typeOfMode(mode: number): EntryType {
  const fmt = mode & S_IFMT;
  return fmt === S_IFREG ? 'file' : fmt === S_IFDIR ? 'dir' : fmt === S_IFLNK ? 'symlink' : 'other';
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

const TWO32 = 2 ** 32;
const MAX_EXACT_HI = 2 ** 21;

/** A u64 given as 32-bit halves, as a decimal string (exact at any size). */
function u64String(hi: number, lo: number): string {
  return hi < MAX_EXACT_HI ? String(hi * TWO32 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Seconds + nanoseconds as BigIntStats' `*Ns` would print them. */
function nsString(s: number, ns: number): string {
  if (s > 0) return `${s}${String(ns).padStart(9, '0')}`;
  if (s === 0) return String(ns);
  return (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString();
}

/** `Number(ns / 1000n) / 1000` of BigIntStats' `*Ns`, without BigInt where it is exact. */
function msOf(s: number, ns: number): number {
  if (s >= 0) return (s * 1e6 + Math.floor(ns / 1000)) / 1000;
  return Number((BigInt(s) * 1_000_000_000n + BigInt(ns)) / 1000n) / 1000;
}

/**
 * One entry of the native helper's `lstatAt` result as the wire Stat: the same values
 * `toWireStat(lstat(..., { bigint: true }))` gives (the host tests compare them), or `null`
 * when that entry's lstat failed.
 */
export function wireStatFromFields(f: Float64Array, i: number, fields: number): Stat | null {
  const o = i * fields;
  if (f[o + F.errno] !== 0) return null;
  const mode = f[o + F.mode]!;
  const inoHi = f[o + F.inoHi]!;
  const inoLo = f[o + F.inoLo]!;
  const sizeHi = f[o + F.sizeHi]!;
  const sizeLo = f[o + F.sizeLo]!;
  const mS = f[o + F.mtimeS]!;
  const mNs = f[o + F.mtimeNs]!;
  const cS = f[o + F.ctimeS]!;
  const cNs = f[o + F.ctimeNs]!;
  const nlink = f[o + F.nlink]!;
  return {
    type: typeOfMode(mode),
    size: sizeHi < MAX_EXACT_HI ? sizeHi * TWO32 + sizeLo : Number.MAX_SAFE_INTEGER,
    mode: mode & 0o177777,
    mtimeMs: msOf(mS, mNs),
    ctimeMs: msOf(cS, cNs),
    atimeMs: msOf(f[o + F.atimeS]!, f[o + F.atimeNs]!),
    nlink: nlink % TWO32,
    ino:
      inoHi < MAX_EXACT_HI
        ? inoHi * TWO32 + inoLo
        : Number(((BigInt(inoHi) << 32n) | BigInt(inoLo)) % (MAX_SAFE + 1n)),
    version: versionOfFields(f, i, fields),
  };
}

/** `versionOf` of the native helper's stat fields (entry `i`): the same string for the same file. */
export function versionOfFields(f: Float64Array, i = 0, fields = 0): string {
  const o = i * fields;
  return `${u64String(f[o + F.inoHi]!, f[o + F.inoLo]!)}:${u64String(f[o + F.sizeHi]!, f[o + F.sizeLo]!)}:${nsString(f[o + F.mtimeS]!, f[o + F.mtimeNs]!)}:${nsString(f[o + F.ctimeS]!, f[o + F.ctimeNs]!)}`;
}

/** lstat of each name in the directory `dirFd` through the native helper, as wire Stats (`null`: that lstat failed). */
export async function lstatWireAt(
  native: NativeFs,
  dirFd: number,
  names: readonly string[],
): Promise<(Stat | null)[]> {
  const fields = await native.lstatAt(dirFd, names);
  const out = new Array<Stat | null>(names.length);
  for (let i = 0; i < names.length; i++) out[i] = wireStatFromFields(fields, i, native.fields);
  return out;
}
