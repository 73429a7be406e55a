import { CacheError } from './cache-error.js';
import type { ChunkHashAlgorithm } from './chunk-hash.js';
import { openSqlite, type SqliteDatabase } from './sqlite-binding.js';

/** Bumped when the schema changes incompatibly; an old file is then emptied and rebuilt. */
// 2: crc32 checks are per 4 KiB block (chunk-hash.ts), so partial reads can be verified.
export const L2_SCHEMA_VERSION = '2';

// Metadata and blobs live in separate tables (ENVIRONMENT.md, measured): small columns
// after a blob in one row made every last_access update rewrite the blob. `totals` is the
// running byte/entry count, kept by triggers so it stays right when several processes
// write the same file (an in-memory counter per process would drift).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS config(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  file TEXT NOT NULL,
  version TEXT NOT NULL,
  idx INTEGER NOT NULL,
  size INTEGER NOT NULL,
  hash BLOB NOT NULL,
  last_access INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS meta_file ON meta(file);
CREATE INDEX IF NOT EXISTS meta_lru ON meta(last_access, id);
CREATE TABLE IF NOT EXISTS data(id INTEGER PRIMARY KEY, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS totals(one INTEGER PRIMARY KEY CHECK (one = 1), entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES (1, 0, 0);
CREATE TRIGGER IF NOT EXISTS meta_insert AFTER INSERT ON meta BEGIN
  UPDATE totals SET entries = entries + 1, bytes = bytes + NEW.size WHERE one = 1;
END;
CREATE TRIGGER IF NOT EXISTS meta_delete AFTER DELETE ON meta BEGIN
  UPDATE totals SET entries = entries - 1, bytes = bytes - OLD.size WHERE one = 1;
  DELETE FROM data WHERE id = OLD.id;
END;
`;

/** An open L2 connection and the check algorithm the file uses. */
export interface L2Connection {
  readonly db: SqliteDatabase;
  readonly hashAlgorithm: ChunkHashAlgorithm;
}

/**
 * Opens (creating if needed) an L2 file. Safe to call from several processes at once: the
 * schema is created inside an IMMEDIATE transaction, and the first creator's hash algorithm
 * wins (later openers adopt it, so one file never mixes check algorithms).
 */
export function openL2(path: string, busyTimeoutMs: number, hash: ChunkHashAlgorithm): L2Connection {
  const db = openSqlite(path, busyTimeoutMs);
  try {
    // Must precede the first table: 64 KiB pages halve the overflow-page chains of 128/256 KiB
    // blobs (measured in ENVIRONMENT.md). A no-op on an existing file.
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Only the L2 writer checkpoints, when idle (l2-writer.ts); a reader's rare write (dropping
    // a corrupt row) must not run a checkpoint on the thread that serves reads. After one, the
    // WAL file is cut back to this size.
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    let alg: ChunkHashAlgorithm = hash;
    db.transaction(() => {
      db.exec(SCHEMA);
      const get = db.prepare<[string], { v: string }>('SELECT v FROM config WHERE k = ?');
      const put = db.prepare('INSERT OR REPLACE INTO config(k, v) VALUES (?, ?)');
      const version = get.get('schema')?.v;
      if (version !== undefined && version !== L2_SCHEMA_VERSION) {
        db.exec('DELETE FROM meta; DELETE FROM data; UPDATE totals SET entries = 0, bytes = 0;');
      }
      put.run('schema', L2_SCHEMA_VERSION);
      const stored = get.get('hash')?.v;
      if (stored === 'sha256' || stored === 'crc32') alg = stored;
      else put.run('hash', hash);
    }).immediate();
    return { db, hashAlgorithm: alg };
  } catch (cause) {
    db.close();
    if (cause instanceof CacheError) throw cause;
    throw CacheError.L2_OPEN_FAILED(path, { cause });
  }
}
