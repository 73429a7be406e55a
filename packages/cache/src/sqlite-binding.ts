// The only module that loads better-sqlite3 (STYLE.md §5): a missing or broken native build
// turns into CACHE_L2_UNAVAILABLE here instead of a crash at import time anywhere else.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { CacheError } from './cache-error.js';

/** A better-sqlite3 connection. */
export type SqliteDatabase = BetterSqlite3.Database;

type Ctor = typeof BetterSqlite3;
let ctor: Ctor | undefined;
let loadError: CacheError | undefined;

function load(): Ctor {
  if (ctor) return ctor;
  if (loadError) throw loadError;
  // Opt-out (like ws's WS_NO_BUFFER_UTIL): run L1-only, and lets tests exercise this path.
  if (process.env.WORMHOLE_NO_SQLITE === '1') {
    loadError = CacheError.L2_UNAVAILABLE('The SQLite cache is disabled (WORMHOLE_NO_SQLITE=1)');
    throw loadError;
  }
  try {
    ctor = createRequire(import.meta.url)('better-sqlite3') as Ctor;
    return ctor;
  } catch (cause) {
    loadError = CacheError.L2_UNAVAILABLE(undefined, { cause });
    throw loadError;
  }
}

/** True when better-sqlite3 loads (it may still fail to open a given file). */
export function isSqliteAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens a connection. better-sqlite3 loads its addon on the first `new Database()`, so a
 * missing `.node` file surfaces here: it becomes CACHE_L2_UNAVAILABLE; SQLite's own failures
 * (permissions, not a database) become CACHE_L2_OPEN_FAILED.
 */
export function openSqlite(path: string, busyTimeoutMs: number): SqliteDatabase {
  const Database = load();
  try {
    return new Database(path, { timeout: busyTimeoutMs });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_'))
      throw CacheError.L2_OPEN_FAILED(path, { cause });
    throw CacheError.L2_UNAVAILABLE(undefined, { cause });
  }
}
