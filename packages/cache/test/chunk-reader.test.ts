import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import {
  type ChunkCacheOptions,
  createChunkReader,
  openChunkCache,
  type ReadAheadOptions,
} from '../src/index.js';
import { fileSource, makeFile, sleep, tempDir } from './helpers.js';

const CS = 64 * 1024;
const SIZE = 64 * CS + 1234; // a short last chunk

async function setup(
  t: TestContext,
  o: { cache?: ChunkCacheOptions; readAhead?: ReadAheadOptions | false } = {},
) {
  const dir = tempDir(t);
  const { bytes } = makeFile(dir, 'big.bin', SIZE);
  // Inline writer: these tests are about the reader, and starting a writer thread under tsx
  // costs ~0.5 s each; the worker path is covered by the tests below that open their own cache.
  const cache = await openChunkCache({ l2Path: join(dir, 'c.db'), writer: 'inline', ...o.cache });
  const src = fileSource(CS);
  src.files.set('big', join(dir, 'big.bin'));
  const reader = createChunkReader({
    cache,
    chunkSize: CS,
    fetchChunk: src.fetchChunk,
    readAhead: o.readAhead ?? { initialChunks: 2, maxChunks: 8, maxBytes: 8 * CS },
  });
  t.after(async () => {
    reader.close();
    await cache.close();
  });
  return { dir, bytes, cache, src, reader };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}

describe('chunk reader', () => {
  test('reads any range exactly, across chunk boundaries and the short last chunk', async (t) => {
    const { bytes, reader, src } = await setup(t, { readAhead: false });
    for (const [off, len] of [
      [0, 10],
      [CS - 5, 10],
      [3 * CS + 7, 5 * CS],
      [SIZE - 100, 1000],
      [SIZE, 10],
      [0, 0],
    ] as const) {
      const got = await reader.read('big', 'v1', SIZE, off, len);
      assert.deepEqual(Buffer.from(got), bytes.subarray(off, Math.min(off + len, SIZE)), `${off}+${len}`);
    }
    const n = src.calls.length;
    await reader.read('big', 'v1', SIZE, 3 * CS, 2 * CS);
    assert.equal(src.calls.length, n, 'cached chunks are not fetched again');
  });

  test('concurrent reads of one chunk share one fetch', async (t) => {
    const { reader, src } = await setup(t, { readAhead: false });
    src.delay = 30;
    await Promise.all([0, 1, 2, 3].map((i) => reader.read('big', 'v1', SIZE, 5 * CS + i * 100, 50)));
    assert.equal(src.calls.length, 1);
    assert.equal(reader.stats().deduplicated, 3);
  });

  test('read-ahead triggers on sequential reads and keeps a bounded window ahead', async (t) => {
    const { bytes, reader, src, cache } = await setup(t);
    const READ = 16 * 1024;
    let maxAhead = 0;
    for (let off = 0; off < 20 * CS; off += READ) {
      const got = await reader.read('big', 'v1', SIZE, off, READ, 1);
      assert.deepEqual(Buffer.from(got), bytes.subarray(off, off + READ));
      const readerChunk = Math.floor(off / CS);
      const ahead = Math.max(...src.calls.map((c) => c.index)) - readerChunk;
      maxAhead = Math.max(maxAhead, ahead);
    }
    await waitFor(() => reader.stats().inFlight === 0);
    const s = reader.stats();
    assert.ok(s.readAheadFetches >= 15, `read-ahead fetched ${s.readAheadFetches}`);
    const top = Math.max(...src.calls.map((c) => c.index));
    // The window advances in quarter-window batches (2 chunks here), so the top is 26 or 27.
    assert.ok(
      top >= 19 + 8 - 1 && top <= 19 + 8,
      `window grew to maxChunks (8) ahead of chunk 19, no further: ${top}`,
    );
    assert.ok(maxAhead <= 8, `never more than 8 chunks ahead (saw ${maxAhead})`);
    // Hit/miss accounting: one lookup per chunk touched per read. A chunk still in flight
    // from the host is a miss; one that a prefetch already delivered is an L1 hit.
    const cs = cache.stats();
    const reads = (20 * CS) / READ;
    assert.equal(cs.l1.hits + cs.l1.misses, reads);
    assert.ok(cs.l1.misses >= 1 && cs.l1.misses <= 20, `misses ${cs.l1.misses}`);
    assert.equal(cs.l2.misses, cs.l1.misses, 'L2 is empty: every L1 miss is an L2 miss');
    assert.equal(cs.l2.hits, 0);
    // Every chunk fetched once.
    assert.equal(new Set(src.calls.map((c) => c.index)).size, src.calls.length);
  });

  test('random reads never trigger read-ahead', async (t) => {
    const { bytes, reader, src } = await setup(t);
    const offsets = [40, 7, 55, 21, 3, 33, 60, 12, 48, 27].map((c) => c * CS + 100);
    for (const off of offsets) {
      const got = await reader.read('big', 'v1', SIZE, off, 4096, 7);
      assert.deepEqual(Buffer.from(got), bytes.subarray(off, off + 4096));
    }
    assert.equal(src.calls.length, offsets.length, 'one fetch per read, nothing ahead');
    assert.equal(reader.stats().readAheadFetches, 0);
  });

  test('random small reads of chunks in L2 read only their blocks: no fetch, no L1 promotion', async (t) => {
    const { bytes, reader, src, cache, dir } = await setup(t, { readAhead: false });
    await reader.read('big', 'v1', SIZE, 0, SIZE); // fills L1 and L2
    await cache.flush();
    const c2 = await openChunkCache({ l2Path: join(dir, 'c.db'), writer: 'inline' });
    t.after(() => c2.close());
    const r2 = createChunkReader({ cache: c2, chunkSize: CS, fetchChunk: src.fetchChunk });
    const before = src.calls.length;
    const offsets = [40, 7, 55, 21, 63, 33].map((c) => c * CS + 4000);
    for (const off of offsets) {
      const got = await r2.read('big', 'v1', SIZE, off, 4096, 9);
      assert.deepEqual(Buffer.from(got), bytes.subarray(off, Math.min(off + 4096, SIZE)), `at ${off}`);
    }
    assert.equal(src.calls.length, before, 'served from L2');
    const s = c2.stats();
    assert.equal(s.l2.hits, offsets.length);
    assert.equal(s.l1.entries, 0, 'whole chunks were not read into L1');
  });

  test('with fetchRange, a small random miss fetches just its bytes (not cached); cached chunks still answer', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 'r.bin', 16 * CS);
    const src = fileSource(CS);
    src.files.set('r', join(dir, 'r.bin'));
    const ranges: Array<[number, number]> = [];
    const cache = await openChunkCache({ l2Path: join(dir, 'c.db'), writer: 'inline' });
    const reader = createChunkReader({
      cache,
      chunkSize: CS,
      fetchChunk: src.fetchChunk,
      fetchRange: async (_file, _version, offset, length) => {
        ranges.push([offset, length]);
        return bytes.subarray(offset, offset + length);
      },
    });
    t.after(async () => {
      reader.close();
      await cache.close();
    });
    await reader.read('r', 'v1', 16 * CS, 0, 2 * CS, 1); // chunks 0 and 1 cached (sequential)
    const before = src.calls.length;
    const offsets = [9, 6, 13, 1, 11].map((c) => c * CS + 777);
    for (const off of offsets) {
      const got = await reader.read('r', 'v1', 16 * CS, off, 4096, 3);
      assert.deepEqual(Buffer.from(got), bytes.subarray(off, off + 4096));
    }
    assert.deepEqual(
      ranges,
      [9, 6, 13, 11].map((c) => [c * CS + 777, 4096]),
      'each miss asked for its 4 KiB only; the cached chunk 1 answered from the cache',
    );
    assert.equal(reader.stats().rangeFetches, 4);
    assert.equal(src.calls.length, before, 'no whole chunk fetched for random misses');
    // A larger read still goes through whole chunks.
    await reader.read('r', 'v1', 16 * CS, 7 * CS + 5, 100 * 1024, 3);
    assert.ok(src.calls.length > before);
  });

  test('a small file read whole is one cached chunk fetch, shared by every read of it (no range fetch)', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 's.bin', 5000);
    const src = fileSource(CS);
    src.files.set('s', join(dir, 's.bin'));
    let ranges = 0;
    const cache = await openChunkCache({ l2Path: join(dir, 'c.db'), writer: 'inline' });
    const reader = createChunkReader({
      cache,
      chunkSize: CS,
      fetchChunk: src.fetchChunk,
      fetchRange: async () => {
        ranges++;
        return new Uint8Array(0);
      },
    });
    t.after(async () => {
      reader.close();
      await cache.close();
    });
    // An open's prefetch (no handle), a file fetched ahead of its open, and the kernel's read.
    const got = await Promise.all([
      reader.read('s', 'v1', 5000, 0, 5000),
      reader.read('s', 'v1', 5000, 0, 5000),
      reader.read('s', 'v1', 5000, 0, 128 * 1024, 7),
    ]);
    for (const g of got) assert.deepEqual(Buffer.from(g), bytes);
    assert.equal(src.calls.length, 1, 'one fetch for all three');
    assert.equal(ranges, 0);
    assert.deepEqual(Buffer.from(await reader.read('s', 'v1', 5000, 0, 5000)), bytes);
    assert.equal(src.calls.length, 1, 'and then served from the cache');
    // Part of it is still a range read.
    await reader.read('s', 'v1', 5000, 100, 200);
    assert.equal(ranges, 0, 'the cached chunk answers a part of it too');
  });

  test('a seek cancels prefetches no longer wanted', async (t) => {
    const { reader, src } = await setup(t);
    src.delay = (i) => (i === 0 || i === 1 || i === 50 ? 0 : 2000);
    await reader.read('big', 'v1', SIZE, 0, CS, 3);
    await reader.read('big', 'v1', SIZE, CS, CS, 3);
    assert.ok(reader.stats().inFlight >= 2, 'read-ahead in flight');
    await waitFor(() => src.calls.length >= 4); // prefetches reached the host (after the L2 check)
    const t0 = Date.now();
    await reader.read('big', 'v1', SIZE, 50 * CS, 100, 3);
    assert.ok(Date.now() - t0 < 1000, 'the seek target does not wait for old prefetches');
    await sleep(20);
    assert.ok(src.aborted.length >= 2, `aborted ${src.aborted.length}`);
    assert.ok(
      src.aborted.every((i) => i >= 2 && i < 50),
      'only the abandoned prefetches',
    );
    assert.equal(reader.stats().inFlight, 0);
    assert.equal(reader.stats().cancelled, src.aborted.length);
  });

  test('releasing a handle cancels its prefetches', async (t) => {
    const { reader, src } = await setup(t);
    src.delay = (i) => (i < 2 ? 0 : 2000);
    await reader.read('big', 'v1', SIZE, 0, CS, 'h');
    await reader.read('big', 'v1', SIZE, CS, CS, 'h');
    await waitFor(() => src.calls.length >= 4);
    reader.release('h');
    await sleep(20);
    assert.ok(src.aborted.length >= 2);
    assert.equal(reader.stats().inFlight, 0);
  });

  test('the first byte waits only for its own chunk', async (t) => {
    const { reader, src } = await setup(t);
    src.delay = (i) => (i === 0 ? 5 : 3000);
    const t0 = Date.now();
    const got = await reader.read('big', 'v1', SIZE, 0, 4096, 9);
    assert.equal(got.byteLength, 4096);
    assert.ok(Date.now() - t0 < 1000, `first read took ${Date.now() - t0} ms`);
    assert.equal(src.calls[0]!.index, 0, 'own chunk requested first');
    assert.ok(src.calls.length <= 3, 'never the whole file');
  });

  test('offline: cached chunks (L1 and, after restart, L2) serve; uncached fail fast with the fetch error', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 'f.bin', 8 * CS);
    const src = fileSource(CS);
    src.files.set('f', join(dir, 'f.bin'));
    const path = join(dir, 'c.db');
    const c1 = await openChunkCache({ l2Path: path });
    const r1 = createChunkReader({ cache: c1, chunkSize: CS, fetchChunk: src.fetchChunk, readAhead: false });
    await r1.read('f', 'v1', 8 * CS, 0, 4 * CS);
    src.offline = true;
    assert.deepEqual(Buffer.from(await r1.read('f', 'v1', 8 * CS, CS, 2 * CS)), bytes.subarray(CS, 3 * CS));
    await c1.close();

    const c2 = await openChunkCache({ l2Path: path });
    t.after(() => c2.close());
    const r2 = createChunkReader({ cache: c2, chunkSize: CS, fetchChunk: src.fetchChunk, readAhead: false });
    const before = src.calls.length;
    assert.deepEqual(Buffer.from(await r2.read('f', 'v1', 8 * CS, 0, 4 * CS)), bytes.subarray(0, 4 * CS));
    assert.equal(src.calls.length, before, 'served from L2 without the host');
    const t0 = Date.now();
    await assert.rejects(r2.read('f', 'v1', 8 * CS, 3 * CS, 2 * CS), /host unreachable/);
    assert.ok(Date.now() - t0 < 200);
    assert.equal(r2.stats().fetchErrors, 1);
  });

  test('host edits a file: the new version gives new bytes only, never a mix', async (t) => {
    const { dir, cache, reader, src } = await setup(t, { readAhead: false });
    const p = join(dir, 'edit.bin');
    const v1 = Buffer.alloc(4 * CS, 1);
    writeFileSync(p, v1);
    src.files.set('edit', p);
    assert.deepEqual(Buffer.from(await reader.read('edit', 'v1', 4 * CS, 0, 2 * CS)), v1.subarray(0, 2 * CS));
    const v2 = Buffer.alloc(4 * CS, 2);
    writeFileSync(p, v2);
    await cache.invalidateFile('edit');
    const got = await reader.read('edit', 'v2', 4 * CS, 0, 4 * CS);
    assert.ok(
      Buffer.from(got).every((b) => b === 2),
      'all bytes from v2',
    );
    // Without invalidation, a new version still never sees v1 bytes (keys carry the version).
    writeFileSync(p, v1);
    const got3 = await reader.read('edit', 'v3', 4 * CS, CS, 2 * CS);
    assert.ok(Buffer.from(got3).every((b) => b === 1));
    const got2 = await reader.read('edit', 'v2', 4 * CS, 0, 4 * CS);
    assert.ok(
      Buffer.from(got2).every((b) => b === 2),
      'v2 still cached as v2, unmixed',
    );
  });

  test('a fetch that returns the wrong size is an error, not cached', async (t) => {
    const { reader, cache, src } = await setup(t, { readAhead: false });
    await assert.rejects(reader.read('big', 'v1', SIZE + 10, 64 * CS, 10), (e: Error & { code?: string }) => {
      return e.code === 'CACHE_BAD_CHUNK';
    });
    assert.equal(cache.stats().l1.entries, 0);
    assert.ok(src.calls.length >= 1);
  });

  test('loadL2InWriter: read-ahead loads L2 chunks in the writer thread and never asks the host', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 'f.bin', 24 * CS);
    const src = fileSource(CS);
    src.files.set('f', join(dir, 'f.bin'));
    const path = join(dir, 'c.db');
    const c1 = await openChunkCache({ l2Path: path });
    await createChunkReader({ cache: c1, chunkSize: CS, fetchChunk: src.fetchChunk }).warm(
      'f',
      'v1',
      24 * CS,
    );
    await c1.close();
    src.offline = true;
    const calls = src.calls.length;
    const c2 = await openChunkCache({ l2Path: path });
    t.after(() => c2.close());
    const r2 = createChunkReader({
      cache: c2,
      chunkSize: CS,
      fetchChunk: src.fetchChunk,
      readAhead: { loadL2InWriter: true },
    });
    for (let off = 0; off < 24 * CS; off += CS / 2) {
      assert.deepEqual(
        Buffer.from(await r2.read('f', 'v1', 24 * CS, off, CS / 2, 1)),
        bytes.subarray(off, off + CS / 2),
      );
    }
    assert.equal(src.calls.length, calls, 'no network');
    assert.ok(c2.stats().l2.prefetched > 10, `prefetched ${c2.stats().l2.prefetched}`);
  });

  test('read-ahead skips chunks already in L2 (default): no host requests, no prefetch round trips', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 'f.bin', 24 * CS);
    const src = fileSource(CS);
    src.files.set('f', join(dir, 'f.bin'));
    const path = join(dir, 'c.db');
    const c1 = await openChunkCache({ l2Path: path });
    await createChunkReader({ cache: c1, chunkSize: CS, fetchChunk: src.fetchChunk }).warm(
      'f',
      'v1',
      24 * CS,
    );
    await c1.close();
    src.offline = true;
    const calls = src.calls.length;
    const c2 = await openChunkCache({ l2Path: path });
    t.after(() => c2.close());
    const r2 = createChunkReader({ cache: c2, chunkSize: CS, fetchChunk: src.fetchChunk });
    for (let off = 0; off < 24 * CS; off += CS / 2) {
      assert.deepEqual(
        Buffer.from(await r2.read('f', 'v1', 24 * CS, off, CS / 2, 1)),
        bytes.subarray(off, off + CS / 2),
      );
    }
    assert.equal(src.calls.length, calls, 'no network');
    assert.equal(c2.stats().l2.prefetched, 0);
    assert.equal(c2.stats().l2.hits, 24);
    assert.equal(r2.stats().readAheadFetches, 0);
  });

  test('bytes flipped inside the SQLite file: detected on read, dropped, refetched once; verify() finds the rest', async (t) => {
    const dir = tempDir(t);
    const { bytes } = makeFile(dir, 'f.bin', 8 * CS);
    const src = fileSource(CS);
    src.files.set('f', join(dir, 'f.bin'));
    const path = join(dir, 'c.db');
    const c1 = await openChunkCache({ l2Path: path });
    await createChunkReader({ cache: c1, chunkSize: CS, fetchChunk: src.fetchChunk }).warm('f', 'v1', 8 * CS);
    await c1.close();
    const db = readFileSync(path);
    for (const i of [3, 6]) {
      // B-tree rebalancing leaves stale copies of a row's first bytes in free space, so flip
      // the bit in every copy found (the live one among them).
      const needle = bytes.subarray(i * CS + 2000, i * CS + 2064);
      let found = 0;
      for (let at = db.indexOf(needle); at >= 0; at = db.indexOf(needle, at + 1)) {
        db[at + 7]! ^= 0x01; // a single bit
        found++;
      }
      assert.ok(found > 0, `chunk ${i} located in the db file`);
    }
    writeFileSync(path, db);

    const c2 = await openChunkCache({ l2Path: path });
    t.after(() => c2.close());
    const r2 = createChunkReader({ cache: c2, chunkSize: CS, fetchChunk: src.fetchChunk, readAhead: false });
    const before = src.calls.length;
    assert.deepEqual(
      Buffer.from(await r2.read('f', 'v1', 8 * CS, 2 * CS, 2 * CS)),
      bytes.subarray(2 * CS, 4 * CS),
    );
    assert.deepEqual(
      src.calls.slice(before).map((c) => c.index),
      [3],
      'only the corrupt chunk is refetched',
    );
    assert.equal(c2.stats().l2.corruptDropped, 1);
    await c2.flush();
    const report = await c2.verify();
    assert.deepEqual({ checked: report.checked, corrupt: report.corrupt }, { checked: 8, corrupt: 1 });
    assert.equal(c2.stats().l2.corruptDropped, 2);
    assert.deepEqual(Buffer.from(await r2.read('f', 'v1', 8 * CS, 0, 8 * CS)), bytes);
    assert.deepEqual(
      src.calls.slice(before).map((c) => c.index),
      [3, 6],
    );
  });

  test('a fetch in flight across invalidateFile answers its read but is not cached', async (t) => {
    const { reader, cache, src } = await setup(t, { readAhead: false });
    src.delay = 100;
    const pending = reader.read('big', 'v1', SIZE, 0, 10);
    await sleep(20);
    await cache.invalidateFile('big');
    assert.equal((await pending).byteLength, 10);
    await cache.flush();
    assert.equal(cache.stats().l1.entries, 0);
    assert.equal(cache.stats().l2.entries, 0);
  });

  test('warm() fetches what is missing, reports progress, persists to L2', async (t) => {
    const { reader, cache, src } = await setup(t, { readAhead: false });
    await reader.read('big', 'v1', SIZE, 0, 10 * CS);
    const seen: number[] = [];
    const r = await reader.warm('big', 'v1', SIZE, (p) => seen.push(p.doneBytes));
    assert.equal(r.totalChunks, 65);
    assert.equal(r.fetched, 55);
    assert.equal(r.doneBytes, SIZE);
    assert.equal(seen.at(-1), SIZE);
    assert.equal(src.calls.length, 65);
    assert.equal(cache.stats().l2.entries, 65);
    assert.equal(cache.stats().l2.bytes, SIZE);
  });
});
