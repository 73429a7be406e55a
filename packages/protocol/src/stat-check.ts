import { isEntryName } from './entry-name.js';
import type { DirEntry, ReaddirResult, Stat } from './fs-messages.js';
import { isIntIn, isRecord, isU53 } from './value-checks.js';

/**
 * Hand-written checks for the two answers a client decodes by the thousand (a listing carries a
 * Stat per entry; every lookup decodes one), used in front of the zod schemas in fs-messages.ts:
 * a body that passes is returned as is, anything else goes to zod, which accepts or rejects it
 * with its message. They must never accept what the schema rejects; the protocol tests compare
 * both on generated and mutated values.
 *
 * Why not zod alone: a mount's `find` over 10,000 files spent ~90 ms of the client's CPU in zod
 * validating listings (9 µs per entry, in a process whose code is still cold), about as much as
 * everything else the client does per entry together (docs/bench/peer-mounts.md).
 */

const ENTRY_TYPES = new Set(['file', 'dir', 'symlink', 'other']);
const STAT_KEYS = new Set([
  'type',
  'size',
  'mode',
  'mtimeMs',
  'ctimeMs',
  'atimeMs',
  'nlink',
  'ino',
  'version',
]);

function isTime(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

/** True when `v` is exactly a wire Stat (StatSchema, strict). */
export function isWireStat(v: unknown): v is Stat {
  if (!isRecord(v)) return false;
  let keys = 0;
  for (const k in v) {
    if (!STAT_KEYS.has(k)) return false;
    keys++;
  }
  return (
    keys === STAT_KEYS.size &&
    typeof v.type === 'string' &&
    ENTRY_TYPES.has(v.type) &&
    isU53(v.size) &&
    isIntIn(v.mode, 0o177777) &&
    isTime(v.mtimeMs) &&
    isTime(v.ctimeMs) &&
    isTime(v.atimeMs) &&
    isIntIn(v.nlink, 0xffffffff) &&
    isU53(v.ino) &&
    typeof v.version === 'string' &&
    v.version.length <= 128
  );
}

function isDirEntry(v: unknown): v is DirEntry {
  if (!isRecord(v)) return false;
  let keys = 0;
  for (const k in v) {
    if (k !== 'name' && k !== 'stat') return false;
    keys++;
  }
  return keys === 2 && isEntryName(v.name) && isWireStat(v.stat);
}

/** True when `v` is exactly a ReaddirResult with at most `maxEntries` entries (strict). */
export function isReaddirResult(v: unknown, maxEntries: number): v is ReaddirResult {
  if (!isRecord(v)) return false;
  for (const k in v) if (k !== 'entries' && k !== 'next') return false;
  const entries = v.entries;
  if (!Array.isArray(entries) || entries.length > maxEntries) return false;
  if ('next' in v && !isU53(v.next)) return false;
  for (let i = 0; i < entries.length; i++) if (!isDirEntry(entries[i])) return false;
  return true;
}
