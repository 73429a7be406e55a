import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { chunkMatches, hashChunk } from './chunk-hash.js';
import type { FromWriter, LoadResult, PutItem, Touches, ToWriter, VerifyProgress } from './l2-messages.js';
import type { L2Connection } from './l2-schema.js';

/** Rows deleted per eviction transaction: short transactions keep other writers' waits short. */
const EVICT_BATCH = 64;
/** Rows rehashed per verify step. */
const VERIFY_BATCH = 64;
/**
 * Checkpoints run once the writer has been idle this long, not during a burst of fills: with
 * SQLite's default auto-checkpoint every page a cold stream fills is written twice while the
 * stream runs (WAL, then the main file). Measured, 768 MiB of 256 KiB chunks: 1.29-1.34 s CPU
 * during the burst with auto-checkpoint, 0.80-0.84 s without (the checkpoint, 0.8-2.3 s CPU,
 * then runs when nothing else needs the cores).
 */
const CHECKPOINT_IDLE_MS = 1000;
/**
 * ...or at once when a burst has written this much since the last checkpoint (bounds the WAL).
 * At 256 MiB a cold 1 GiB read ran three checkpoints while it streamed: cold 239-300 MB/s
 * (median 257) and 4 KiB random reads right after it 10.5-12.1k IOPS, against 242-326 (288)
 * and 13.3-14.2k at 1-2 GiB (eight and two alternating runs). The WAL may reach this size on
 * disk until the next checkpoint, which also trims it (journal_size_limit).
 */
const CHECKPOINT_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * The write side of L2: inserts, eviction, last_access updates, invalidation, verify. It
 * owns its own connection and runs in a worker thread (default) so hashing, blob writes and
 * eviction never block reads; WAL lets the reader's connection read meanwhile. Messages are
 * handled strictly in order, so an invalidation can never be overtaken by an older put.
 */
export function createWriter(
  conn: L2Connection,
  maxBytes: number,
  post: (m: FromWriter, transfer?: ArrayBuffer[]) => void,
) {
  const { db, hashAlgorithm } = conn;
  let sinceCheckpoint = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const checkpoint = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    sinceCheckpoint = 0;
    try {
      // PASSIVE: copies what no reader still needs, never waits for one.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or closed: the next one catches up.
    }
  };
  const wrote = (bytes: number): void => {
    sinceCheckpoint += bytes;
    if (sinceCheckpoint >= CHECKPOINT_MAX_BYTES) {
      checkpoint();
      return;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => chainIdle(checkpoint), CHECKPOINT_IDLE_MS);
    idleTimer.unref();
  };
  const totals = db.prepare<[], { entries: number; bytes: number }>(
    'SELECT entries, bytes FROM totals WHERE one = 1',
  );
  const oldest = db.prepare<[number], { id: number; size: number }>(
    'SELECT id, size FROM meta ORDER BY last_access, id LIMIT ?',
  );
  const delById = db.prepare<[number]>('DELETE FROM meta WHERE id = ?');
  const insMeta = db.prepare<[string, string, string, number, number, Buffer, number]>(
    'INSERT OR IGNORE INTO meta(key, file, version, idx, size, hash, last_access) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insData = db.prepare<[number | bigint, Uint8Array]>('INSERT INTO data(id, blob) VALUES (?, ?)');
  const touch = db.prepare<[number, number]>(
    'UPDATE meta SET last_access = max(last_access, ?) WHERE id = ?',
  );
  const delFile = db.prepare<[string]>('DELETE FROM meta WHERE file = ?');
  const verifyRows = db.prepare<[number, number], { id: number; hash: Buffer; blob: Buffer | null }>(
    'SELECT m.id, m.hash, d.blob FROM meta m LEFT JOIN data d ON d.id = m.id WHERE m.id > ? ORDER BY m.id LIMIT ?',
  );

  const readByKey = db.prepare<[string], { id: number; size: number; hash: Buffer; blob: Buffer }>(
    'SELECT m.id, m.size, m.hash, d.blob FROM meta m JOIN data d ON d.id = m.id WHERE m.key = ?',
  );

  /**
   * Read-ahead from L2: reads and verifies here, off the reader's thread, and hands the
   * bytes over without a copy (transferred ArrayBuffers).
   */
  const load = (rid: number, keys: string[], tick: number): void => {
    const result: LoadResult = { chunks: [], corrupt: 0 };
    const transfer: ArrayBuffer[] = [];
    const touched: number[] = [];
    const bad: number[] = [];
    for (const key of keys) {
      const row = readByKey.get(key);
      if (row === undefined) {
        result.chunks.push(null);
      } else if (row.blob.byteLength !== row.size || !chunkMatches(hashAlgorithm, row.blob, row.hash)) {
        bad.push(row.id);
        result.chunks.push(null);
      } else {
        const own =
          row.blob.byteOffset === 0 && row.blob.buffer.byteLength === row.blob.byteLength
            ? row.blob
            : Buffer.from(row.blob);
        const bytes = new Uint8Array(own.buffer, 0, own.byteLength);
        result.chunks.push(bytes);
        if (!transfer.includes(own.buffer as ArrayBuffer)) transfer.push(own.buffer as ArrayBuffer);
        touched.push(row.id);
      }
    }
    if (bad.length > 0 || touched.length > 0) {
      db.transaction(() => {
        for (const id of bad) delById.run(id);
        for (const id of touched) touch.run(tick, id);
      }).immediate();
    }
    result.corrupt = bad.length;
    post({ t: 'done', rid, value: result }, transfer);
  };

  const used = (): number => totals.get()?.bytes ?? 0;

  /** Deletes up to EVICT_BATCH least recently used rows while `used + incoming > maxBytes`. */
  const evictStep = (incoming: number): number => {
    let evicted = 0;
    let over = used() + incoming - maxBytes;
    if (over <= 0) return 0;
    for (const row of oldest.all(EVICT_BATCH)) {
      if (over <= 0) break;
      delById.run(row.id);
      over -= row.size;
      evicted++;
    }
    return evicted;
  };
  const evictTx = db.transaction(evictStep);

  const applyTouches = (touches: Touches): void => {
    for (const [id, tick] of touches) touch.run(tick, id);
  };

  const insertTx = db.transaction((items: PutItem[], hashes: Buffer[], tick: number) => {
    let inserted = 0;
    let evicted = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const size = item.bytes.byteLength;
      if (size > maxBytes) continue;
      // Re-checked under the write lock: another process may have filled the file since
      // the evict transactions ran, and the bound must hold at every commit.
      while (used() + size > maxBytes) {
        const n = evictStep(size);
        if (n === 0) break;
        evicted += n;
      }
      if (used() + size > maxBytes) continue;
      const info = insMeta.run(item.key, item.file, item.version, item.index, size, hashes[i]!, tick);
      if (info.changes === 1) {
        insData.run(info.lastInsertRowid, item.bytes);
        inserted++;
      }
    }
    return { inserted, evicted };
  });

  const put = (items: PutItem[], touches: Touches, tick: number): { inserted: number; evicted: number } => {
    // Hash outside the transaction: the write lock is held only for the SQL.
    const hashes = items.map((it) => hashChunk(hashAlgorithm, it.bytes));
    const incoming = items.reduce((n, it) => n + it.bytes.byteLength, 0);
    let evicted = 0;
    // Make room in short transactions first (EVICT_BATCH rows each).
    for (;;) {
      const n = evictTx.immediate(Math.min(incoming, maxBytes));
      evicted += n;
      if (n === 0) break;
    }
    const r = db
      .transaction(() => {
        applyTouches(touches);
        return insertTx(items, hashes, tick);
      })
      .immediate();
    return { inserted: r.inserted, evicted: evicted + r.evicted };
  };

  const verify = async (rid: number): Promise<VerifyProgress> => {
    const progress: VerifyProgress = { checked: 0, total: totals.get()?.entries ?? 0, corrupt: 0 };
    let after = 0;
    for (;;) {
      const rows = verifyRows.all(after, VERIFY_BATCH);
      if (rows.length === 0) break;
      const bad: number[] = [];
      for (const row of rows) {
        after = row.id;
        progress.checked++;
        if (row.blob === null || !chunkMatches(hashAlgorithm, row.blob, row.hash)) bad.push(row.id);
      }
      if (bad.length > 0) {
        db.transaction(() => {
          for (const id of bad) delById.run(id);
        }).immediate();
        progress.corrupt += bad.length;
      }
      post({ t: 'progress', rid, progress: { ...progress } });
      await yieldToLoop();
    }
    return progress;
  };

  const handle = async (m: ToWriter): Promise<void> => {
    switch (m.t) {
      case 'put': {
        try {
          const r = put(m.items, m.touches, m.tick);
          post({ t: 'putDone', bytes: m.bytes, inserted: r.inserted, evicted: r.evicted });
          wrote(m.bytes);
        } catch (err) {
          // A failed batch only loses cache fills; report it and keep serving.
          post({ t: 'putDone', bytes: m.bytes, inserted: 0, evicted: 0, error: String(err) });
        }
        return;
      }
      case 'touch':
        try {
          db.transaction(() => applyTouches(m.touches)).immediate();
        } catch {
          // LRU hints only: losing them is harmless.
        }
        return;
      case 'invalidateFile':
        return reply(m.rid, () => db.transaction(() => delFile.run(m.file).changes).immediate());
      case 'clear':
        return reply(m.rid, () =>
          db
            .transaction(() => {
              const n = totals.get()?.entries ?? 0;
              db.exec('DELETE FROM data; DELETE FROM meta; UPDATE totals SET entries = 0, bytes = 0;');
              return n;
            })
            .immediate(),
        );
      case 'load':
        try {
          load(m.rid, m.keys, m.tick);
        } catch (err) {
          post({ t: 'failed', rid: m.rid, code: 'CACHE_L2_IO', message: String(err) });
        }
        return;
      case 'sync':
        return reply(m.rid, () => true);
      case 'verify':
        try {
          post({ t: 'done', rid: m.rid, value: await verify(m.rid) });
        } catch (err) {
          post({ t: 'failed', rid: m.rid, code: 'CACHE_L2_IO', message: String(err) });
        }
        return;
      case 'close':
        return reply(m.rid, () => {
          clearTimeout(idleTimer);
          db.close();
          return true;
        });
    }
  };

  const reply = (rid: number, fn: () => unknown): void => {
    try {
      post({ t: 'done', rid, value: fn() });
    } catch (err) {
      post({ t: 'failed', rid, code: 'CACHE_L2_IO', message: String(err) });
    }
  };

  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  /** Runs `fn` in turn with the messages (never inside one), unless the writer closed. */
  const chainIdle = (fn: () => void): void => {
    chain = chain.then(() => {
      if (!closed) fn();
    });
  };
  /** Queues a message; messages run one at a time, in arrival order. */
  return (m: ToWriter): void => {
    if (m.t === 'close') closed = true;
    chain = chain.then(() => handle(m));
  };
}
