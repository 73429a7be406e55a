import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type ChunkCache, type ChunkCacheOptions, isCacheError, openChunkCache } from '../src/index.js';
import { chunk, tempDir } from './helpers.js';

const CS = 64 * 1024;
const key = (index: number, file = 'f', version = 'v1') => ({ file, version, index });

async function open(t: import('node:test').TestContext, o: ChunkCacheOptions): Promise<ChunkCache> {
  const c = await openChunkCache(o);
  t.after(() => c.close());
  return c;
}

describe('L1 (memory)', () => {
  test('hit/miss accounting per tier', async (t) => {
    const dir = tempDir(t);
    const c = await open(t, { l2Path: join(dir, 'c.db') });
    assert.equal(c.get(key(0)), undefined);
    c.put(key(0), chunk(CS, 1, 0));
    assert.deepEqual(c.get(key(0)), chunk(CS, 1, 0));
    assert.deepEqual(c.get(key(0)), chunk(CS, 1, 0));
    const s = c.stats();
    assert.equal(s.l1.hits, 2);
    assert.equal(s.l1.misses, 1);
    assert.equal(s.l2.misses, 1);
    assert.equal(s.l2.hits, 0);
    assert.ok(Math.abs(s.l1.hitRate - 2 / 3) < 1e-9);
  });

  test('byte bound holds under 2x overfill, LRU order', async (t) => {
    const c = await open(t, { l1MaxBytes: 8 * CS });
    for (let i = 0; i < 16; i++) {
      c.put(key(i), chunk(CS, 1, i));
      // Touch chunk 0 so it stays the most recently used.
      c.get(key(0));
      assert.ok(c.stats().l1.bytes <= 8 * CS);
    }
    const s = c.stats();
    assert.equal(s.l1.entries, 8);
    assert.equal(s.l1.evictions, 8);
    assert.ok(c.has(key(0)), 'recently used chunk survives');
    for (let i = 1; i <= 8; i++) assert.equal(c.has(key(i)), false, `chunk ${i} evicted`);
    for (let i = 9; i < 16; i++) assert.ok(c.has(key(i)));
  });
});

describe('L2 (SQLite)', () => {
  test('the writer thread starts with the first write; one that cannot open the file stops L2 writes, and close still closes', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const c = await openChunkCache({ l2Path: path });
    // The writer thread opens its own connection when the first write comes: take the directory away first.
    rmSync(dir, { recursive: true, force: true });
    c.put(key(0), chunk(CS, 9, 0));
    await c.flush().catch(() => {});
    let error: string | undefined;
    for (let i = 0; i < 200 && error === undefined; i++) {
      error = c.stats().l2.error;
      if (error === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(error ?? '', /directory does not exist|not available|could not open/i);
    assert.deepEqual(c.get(key(0)), chunk(CS, 9, 0), 'L1 still serves');
    await c.close();
  });

  test('restart persistence: L1 empty, L2 serves and promotes', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const a = await openChunkCache({ l2Path: path });
    for (let i = 0; i < 10; i++) a.put(key(i), chunk(CS, 2, i));
    await a.close();
    const b = await open(t, { l2Path: path });
    assert.equal(b.stats().l1.entries, 0);
    assert.equal(b.stats().l2.entries, 10);
    for (let i = 0; i < 10; i++) assert.deepEqual(Buffer.from(b.get(key(i))!), chunk(CS, 2, i));
    for (let i = 0; i < 10; i++) b.get(key(i));
    const s = b.stats();
    assert.equal(s.l2.hits, 10);
    assert.equal(s.l1.hits, 10, 'second pass served by L1 after promotion');
  });

  test('byte bound holds under 2x overfill and evicts least recently used', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const max = 32 * CS;
    const c = await open(t, { l2Path: path, l2MaxBytes: max, l1MaxBytes: 0 });
    for (let i = 0; i < 16; i++) c.put(key(i), chunk(CS, 3, i));
    await c.flush();
    // Make 0..3 recently used (touches reach L2 with the next write batch).
    for (let i = 0; i < 4; i++) assert.ok(c.get(key(i)));
    let peak = 0;
    for (let i = 16; i < 64; i++) {
      c.put(key(i), chunk(CS, 3, i));
      if (i % 8 === 0) {
        await c.flush();
        peak = Math.max(peak, c.stats().l2.bytes);
        // Keep 0..3 recently used: LRU, not FIFO, must keep them.
        for (let j = 0; j < 4; j++) assert.ok(c.get(key(j)), `chunk ${j} still cached at ${i}`);
      }
    }
    await c.flush();
    const s = c.stats();
    peak = Math.max(peak, s.l2.bytes);
    assert.ok(peak <= max, `peak ${peak} <= ${max}`);
    assert.equal(s.l2.bytes, max);
    assert.equal(s.l2.entries, 32);
    assert.equal(s.l2.evictions, 32);
    // The bound is on chunk bytes; the file adds page overhead only.
    assert.ok(statSync(path).size < max * 1.5 + 4 * 65536);
    for (let i = 0; i < 4; i++) assert.ok(c.has(key(i)), `touched chunk ${i} kept`);
    for (let i = 4; i < 32; i++) assert.equal(c.has(key(i)), false, `old chunk ${i} evicted`);
    for (let i = 36; i < 64; i++) assert.ok(c.has(key(i)), `new chunk ${i} kept`);
    // SUM agrees with the running total.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT COUNT(*) AS n, SUM(size) AS b FROM meta').get() as {
      n: number;
      b: number;
    };
    const orphans = db
      .prepare('SELECT COUNT(*) AS n FROM data WHERE id NOT IN (SELECT id FROM meta)')
      .get() as {
      n: number;
    };
    db.close();
    assert.deepEqual(row, { n: 32, b: max });
    assert.equal(orphans.n, 0);
  });

  test('flipped bytes in the file: detected, dropped, reported as a miss; verify() reports', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const a = await openChunkCache({ l2Path: path });
    for (let i = 0; i < 6; i++) a.put(key(i), chunk(CS, 4, i));
    await a.close(); // checkpoints the WAL into the main file
    const file = readFileSync(path);
    for (const i of [2, 4]) {
      // Every copy: b-tree rebalancing can leave stale copies of a row's start in free space.
      const needle = chunk(CS, 4, i).subarray(1000, 1064);
      let found = 0;
      for (let at = file.indexOf(needle); at >= 0; at = file.indexOf(needle, at + 1)) {
        file[at + 10]! ^= 0xff;
        found++;
      }
      assert.ok(found > 0, `chunk ${i} found in the db file`);
    }
    writeFileSync(path, file);

    const b = await open(t, { l2Path: path });
    assert.equal(b.get(key(2)), undefined, 'corrupt chunk is never served');
    assert.equal(b.stats().l2.corruptDropped, 1);
    assert.equal(b.stats().l2.misses, 1);
    assert.equal(b.has(key(2)), false, 'dropped');
    b.put(key(2), chunk(CS, 4, 2)); // the caller refetches
    await b.flush();
    const progress: number[] = [];
    const report = await b.verify((p) => progress.push(p.checked));
    assert.equal(report.checked, 6);
    assert.equal(report.corrupt, 1, 'chunk 4 found by verify');
    assert.ok(progress.length > 0);
    assert.equal(b.has(key(4)), false);
    assert.equal(b.stats().l2.corruptDropped, 2);
    assert.equal(b.stats().l2.entries, 5);
    for (const i of [0, 1, 2, 3, 5]) assert.deepEqual(Buffer.from(b.get(key(i))!), chunk(CS, 4, i));
    assert.equal((await b.verify()).corrupt, 0);
  });

  test('the writer checkpoints the WAL once idle, not during a burst of fills', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const c = await open(t, { l2Path: path, l2Admission: 'immediate' });
    for (let i = 0; i < 64; i++) c.put(key(i), chunk(CS, 11, i));
    await c.flush();
    const wal = () => statSync(`${path}-wal`).size;
    const Database = (await import('better-sqlite3')).default;
    const frames = () => {
      // Asked on a read-only connection, which cannot copy anything itself, a passive
      // checkpoint only reports the WAL's frames and how many are already copied.
      const db = new Database(path, { readonly: true });
      try {
        return db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
      } finally {
        db.close();
      }
    };
    assert.ok(wal() >= 64 * CS, `the burst is in the WAL (${wal()} bytes), not yet copied`);
    await new Promise((r) => setTimeout(r, 1500));
    const [r] = frames();
    assert.ok(
      r !== undefined && r.log > 0 && r.checkpointed === r.log,
      `checkpointed when idle: ${JSON.stringify(r)}`,
    );
    for (let i = 0; i < 64; i += 9) assert.deepEqual(Buffer.from(c.get(key(i))!), chunk(CS, 11, i));
  });

  test('getRange: verified block-aligned parts from L2 without promotion; a flipped block is dropped', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const short = CS - 1000; // a file's last chunk is shorter than CS
    const a = await openChunkCache({ l2Path: path });
    for (let i = 0; i < 4; i++) a.put(key(i), chunk(i === 3 ? short : CS, 9, i));
    await a.close();

    const b = await open(t, { l2Path: path });
    // Unaligned ranges, one inside a block, one across blocks, the short chunk's tail.
    assert.deepEqual(Buffer.from(b.getRange(key(0), 100, 200)!), chunk(CS, 9, 0).subarray(100, 200));
    assert.deepEqual(Buffer.from(b.getRange(key(1), 4000, 12_300)!), chunk(CS, 9, 1).subarray(4000, 12_300));
    assert.deepEqual(
      Buffer.from(b.getRange(key(3), short - 10, short)!),
      chunk(short, 9, 3).subarray(short - 10),
    );
    assert.equal(b.getRange(key(3), short - 10, short + 1), undefined, 'past the chunk end: a miss');
    assert.equal(b.getRange(key(7), 0, 10), undefined);
    let s = b.stats();
    assert.equal(s.l2.hits, 3);
    assert.equal(s.l2.misses, 2);
    assert.equal(s.l1.entries, 0, 'range reads are not promoted to L1');
    assert.throws(
      () => b.getRange(key(0), 10, 5),
      (e: unknown) => isCacheError(e) && e.code === 'CACHE_INVALID_ARGUMENT',
    );
    // An L1 chunk answers from memory.
    b.put(key(5), chunk(CS, 9, 5));
    assert.deepEqual(Buffer.from(b.getRange(key(5), 1, 3)!), chunk(CS, 9, 5).subarray(1, 3));
    assert.equal(b.stats().l1.hits, 1);
    await b.close();

    // Flip one byte in block 5 of chunk 2 (every copy in the file).
    const file = readFileSync(path);
    const needle = chunk(CS, 9, 2).subarray(5 * 4096 + 100, 5 * 4096 + 164);
    let found = 0;
    for (let at = file.indexOf(needle); at >= 0; at = file.indexOf(needle, at + 1)) {
      file[at + 7]! ^= 0x01;
      found++;
    }
    assert.ok(found > 0);
    writeFileSync(path, file);
    const c = await open(t, { l2Path: path });
    assert.deepEqual(
      Buffer.from(c.getRange(key(2), 0, 4096)!),
      chunk(CS, 9, 2).subarray(0, 4096),
      'an intact block of a damaged chunk is still served (its own check passed)',
    );
    assert.equal(
      c.getRange(key(2), 5 * 4096 + 10, 5 * 4096 + 20),
      undefined,
      'the damaged block is never served',
    );
    s = c.stats();
    assert.equal(s.l2.corruptDropped, 1);
    assert.equal(c.has(key(2)), false, 'the whole chunk is dropped');
  });

  test('getRange with sha256 checks reads and verifies the whole chunk', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const a = await openChunkCache({ l2Path: path, hash: 'sha256' });
    a.put(key(0), chunk(CS, 10, 0));
    await a.close();
    const b = await open(t, { l2Path: path });
    assert.deepEqual(Buffer.from(b.getRange(key(0), 5000, 5100)!), chunk(CS, 10, 0).subarray(5000, 5100));
    assert.equal(b.stats().l2.hits, 1);
  });

  test('versions: another version never returns the old bytes; invalidateFile drops all versions', async (t) => {
    const dir = tempDir(t);
    const c = await open(t, { l2Path: join(dir, 'c.db') });
    c.put(key(0, 'f', 'v1'), chunk(CS, 5, 1));
    c.put(key(0, 'f', 'v2'), chunk(CS, 5, 2));
    c.put(key(0, 'g', 'v1'), chunk(CS, 5, 3));
    await c.flush();
    assert.equal(c.get(key(0, 'f', 'v3')), undefined);
    assert.deepEqual(Buffer.from(c.get(key(0, 'f', 'v2'))!), chunk(CS, 5, 2));
    await c.invalidateFile('f');
    assert.equal(c.get(key(0, 'f', 'v1')), undefined);
    assert.equal(c.get(key(0, 'f', 'v2')), undefined);
    assert.ok(c.has(key(0, 'g', 'v1')));
    assert.equal(c.stats().l2.entries, 1);
    // A fill that started before the invalidation is discarded.
    const epoch = c.fileEpoch('g');
    await c.invalidateFile('g');
    c.putIfCurrent(key(1, 'g', 'v1'), chunk(CS, 5, 4), epoch);
    assert.equal(c.has(key(1, 'g', 'v1')), false);
    c.put(key(5, 'h', 'v1'), chunk(CS, 5, 5));
    await c.invalidateAll();
    assert.equal(c.stats().l2.entries, 0);
    assert.equal(c.stats().l1.entries, 0);
  });

  test('clear() empties both tiers and resets counters; close() is final', async (t) => {
    const dir = tempDir(t);
    const c = await openChunkCache({ l2Path: join(dir, 'c.db') });
    c.put(key(0), chunk(CS, 6, 0));
    c.get(key(0));
    await c.clear();
    const s = c.stats();
    assert.equal(s.l1.hits + s.l2.entries + s.l1.entries, 0);
    await c.close();
    assert.equal(c.get(key(0)), undefined);
    await assert.rejects(c.verify(), (e) => isCacheError(e, 'CACHE_CLOSED'));
  });

  test('a writer further behind than maxPendingWriteBytes skips L2 fills (counted), L1 keeps them', async (t) => {
    const dir = tempDir(t);
    const c = await open(t, {
      l2Path: join(dir, 'c.db'),
      maxPendingWriteBytes: 2 * CS,
      l2Admission: 'immediate',
    });
    for (let i = 0; i < 10; i++) c.put(key(i), chunk(CS, 8, i)); // synchronously: nothing written yet
    await c.flush();
    const s = c.stats();
    assert.equal(s.l2.writesDropped, 8);
    assert.equal(s.l2.entries, 2);
    assert.equal(s.l1.entries, 10);
    assert.equal(s.l2.pendingWriteBytes, 0);
  });

  test("'idle' admission: fills reach L2 after a quiet period, paced (none dropped), not during a stream", async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const c = await open(t, { l2Path: path, l2IdleMs: 150, maxPendingWriteBytes: 2 * CS });
    const other = await open(t, { l2Path: path, l1MaxBytes: 0 }); // sees only what is in the file
    // A "stream": a fill every 20 ms keeps the cache busy, so nothing is written meanwhile.
    for (let i = 0; i < 10; i++) {
      c.put(key(i), chunk(CS, 11, i));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(other.stats().l2.entries, 0, 'no L2 write while fills keep arriving');
    assert.equal(c.stats().l2.deferredWrites, 10);
    assert.deepEqual(Buffer.from(c.get(key(3))!), chunk(CS, 11, 3), 'served from L1 meanwhile');
    // Quiet: written without flush(), paced by the writer's backlog bound (2 chunks): no drops.
    const t0 = Date.now();
    while (other.stats().l2.entries < 10 && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(other.stats().l2.entries, 10);
    assert.equal(c.stats().l2.writesDropped, 0);
    assert.equal(c.stats().l2.deferredWrites, 0);
    for (let i = 0; i < 10; i++) assert.deepEqual(Buffer.from(other.get(key(i))!), chunk(CS, 11, i));
  });

  test("'idle' admission: L1 eviction writes the fill, invalidation discards it, close persists the rest", async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const a = await openChunkCache({ l2Path: path, l1MaxBytes: 4 * CS, l2IdleMs: 60_000 });
    for (let i = 0; i < 6; i++) a.put(key(i), chunk(CS, 12, i)); // 0 and 1 pushed out of L1
    a.put(key(0, 'gone'), chunk(CS, 12, 99)); // pushes out 2
    assert.equal(a.stats().l2.deferredWrites, 4); // 3, 4, 5, gone/0
    await a.invalidateFile('gone'); // deferred fill of an invalidated file is never written
    assert.equal(a.stats().l2.deferredWrites, 3);
    const other = await open(t, { l2Path: path, l1MaxBytes: 0 });
    const t0 = Date.now();
    while (other.stats().l2.entries < 3 && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    for (const i of [0, 1, 2]) assert.ok(other.has(key(i)), `evicted chunk ${i} written`);
    await a.close(); // no flush(): close writes the deferred fills
    for (let i = 0; i < 6; i++) assert.deepEqual(Buffer.from(other.get(key(i))!), chunk(CS, 12, i));
    assert.equal(other.has(key(0, 'gone')), false);
    assert.equal(other.stats().l2.entries, 6);
  });

  test('inline writer mode behaves the same', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'c.db');
    const c = await openChunkCache({ l2Path: path, writer: 'inline', l2MaxBytes: 4 * CS });
    for (let i = 0; i < 8; i++) c.put(key(i), chunk(CS, 7, i));
    await c.flush();
    assert.equal(c.stats().l2.bytes, 4 * CS);
    await c.close();
    const d = await open(t, { l2Path: path, l1MaxBytes: 0 });
    assert.deepEqual(Buffer.from(d.get(key(7))!), chunk(CS, 7, 7));
  });

  test('missing native SQLite: a clear CacheError, or L1-only when allowed', () => {
    const script = `
      import { openChunkCache, isSqliteAvailable } from '@wormhole/cache';
      const out = { available: isSqliteAvailable() };
      try { await openChunkCache({ l2Path: '/nonexistent/x.db' }); } catch (e) { out.code = e.code; out.name = e.name; }
      const c = await openChunkCache({ l2Path: '/nonexistent/x.db', requireL2: false });
      c.put({ file: 'a', version: '1', index: 0 }, new Uint8Array(10));
      out.l1 = c.get({ file: 'a', version: '1', index: 0 })?.byteLength;
      out.l2 = c.stats().l2;
      await c.close();
      console.log(JSON.stringify(out));`;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        env: { ...process.env, WORMHOLE_NO_SQLITE: '1' },
        encoding: 'utf8',
        cwd: join(import.meta.dirname, '..'),
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.available, false);
    assert.equal(out.code, 'CACHE_L2_UNAVAILABLE');
    assert.equal(out.name, 'CacheError');
    assert.equal(out.l1, 10);
    assert.equal(out.l2.available, false);
    assert.match(out.l2.error, /WORMHOLE_NO_SQLITE/);
  });

  test('an unopenable path is CACHE_L2_OPEN_FAILED', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'not-a-db'), Buffer.alloc(4096, 0x41));
    await assert.rejects(openChunkCache({ l2Path: join(dir, 'not-a-db') }), (e) =>
      isCacheError(e, 'CACHE_L2_OPEN_FAILED'),
    );
  });
});
