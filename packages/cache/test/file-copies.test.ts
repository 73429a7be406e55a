import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { copyName, createChunkReader, FileCopies, openChunkCache } from '../src/index.js';
import { fileSource, makeFile, sleep, tempDir } from './helpers.js';

const CS = 64 * 1024;
const SIZE = 40 * CS + 1234; // 2.5 MiB, a short last chunk
const MiB = 1024 * 1024;

async function setup(t: TestContext, copiesMaxBytes = 64 * MiB, copiesStallMs = 30_000) {
  const dir = tempDir(t);
  const copiesDir = join(dir, 'copies');
  const files = ['a', 'b', 'c'].map((n) => ({ name: n, ...makeFile(dir, `${n}.bin`, SIZE) }));
  const cache = await openChunkCache({
    l2Path: join(dir, 'c.db'),
    writer: 'inline',
    l2Admission: 'immediate',
    copiesDir,
    copiesMaxBytes,
    copiesStallMs,
  });
  const src = fileSource(CS);
  for (const f of files) src.files.set(f.name, f.path);
  const reader = createChunkReader({
    cache,
    chunkSize: CS,
    fetchChunk: src.fetchChunk,
    readAhead: { initialChunks: 2, maxChunks: 8, maxBytes: 8 * CS },
  });
  t.after(async () => {
    reader.close();
    await cache.close();
  });
  return { dir, copiesDir, files, cache, src, reader };
}

/** Reads a file start to end in 128 KiB reads on one handle, as `cat` does. */
async function stream(
  reader: ReturnType<typeof createChunkReader>,
  file: string,
  version: string,
  fh: number,
) {
  const parts: Uint8Array[] = [];
  for (let off = 0; off < SIZE; off += 2 * CS)
    parts.push(await reader.read(file, version, SIZE, off, 2 * CS, fh));
  reader.release(fh);
  return Buffer.concat(parts);
}

async function settled(reader: ReturnType<typeof createChunkReader>, file: string, version: string) {
  for (let i = 0; i < 200; i++) {
    const p = await reader.localCopy(file, version, SIZE);
    if (p !== undefined) return p;
    await sleep(10);
  }
  return undefined;
}

describe('whole-file copies (FUSE passthrough)', () => {
  test('a file streamed from its start gets a complete copy instead of L2 rows; other versions do not', async (t) => {
    const { files, cache, reader } = await setup(t);
    assert.ok((await stream(reader, 'a', 'v1', 1)).equals(files[0]!.bytes));
    const copy = await settled(reader, 'a', 'v1');
    assert.ok(copy !== undefined);
    assert.ok(readFileSync(copy).equals(files[0]!.bytes));
    assert.equal(await reader.localCopy('a', 'v2', SIZE), undefined);
    assert.equal(await reader.localCopy('a', 'v1', SIZE + 1), undefined);
    await cache.flush();
    // Only what came before the recording started went to L2: the recording starts with the
    // second read (chunks 2-3), and before it the first read's chunks (0-1) and the read-ahead
    // it started (initialChunks: 2-3) may have arrived. A bound of 3 failed ~1 run in 10.
    assert.ok(cache.stats().l2.entries <= 4, `L2 has ${cache.stats().l2.entries} chunks`);
    assert.equal(cache.stats().copies?.recorded, 1);
  });

  test('a streamed file lets L1 go of the chunks its reader passed (the copy has them), unless another handle reads it', async (t) => {
    const { files, cache, reader, src } = await setup(t);
    assert.ok((await stream(reader, 'a', 'v1', 1)).equals(files[0]!.bytes));
    // Left: the chunks before the recording started and the read-ahead window, not the file.
    const alone = cache.stats().l1.entries;
    assert.ok(alone <= 12, `L1 holds ${alone} of 41 chunks`);
    assert.ok(await settled(reader, 'a', 'v1'));

    // Two handles on one file: the one behind must not lose what the one ahead has read.
    const calls = src.calls.length;
    const parts: Uint8Array[][] = [[], []];
    for (let off = 0; off < SIZE; off += 2 * CS)
      for (const fh of [11, 12]) parts[fh - 11]!.push(await reader.read('b', 'v1', SIZE, off, 2 * CS, fh));
    reader.release(11);
    reader.release(12);
    for (const p of parts) assert.ok(Buffer.concat(p).equals(files[1]!.bytes));
    assert.equal(src.calls.length - calls, 41, 'each chunk fetched once');
    assert.ok(cache.stats().l1.entries >= 41 - alone, 'kept while two handles read it');
  });

  test('chunks L1 let go of are read back from the copy being written, also with the host gone', async (t) => {
    const { files, cache, reader, src } = await setup(t);
    const half: Uint8Array[] = [];
    for (let off = 0; off < 20 * CS; off += 2 * CS)
      half.push(await reader.read('a', 'v1', SIZE, off, 2 * CS, 1));
    assert.ok(Buffer.concat(half).equals(files[0]!.bytes.subarray(0, 20 * CS)));
    assert.ok(cache.isCopying('a', `${CS}:v1`), 'still being copied: half the file read');
    await sleep(50); // the writes of what was read complete
    src.offline = true;
    const calls = src.calls.length;
    // Chunk 10 (L1 let it go), whole and a range, from a new handle.
    const again = await reader.read('a', 'v1', SIZE, 10 * CS, CS, 2);
    assert.ok(Buffer.from(again).equals(files[0]!.bytes.subarray(10 * CS, 11 * CS)));
    const part = await reader.read('a', 'v1', SIZE, 12 * CS + 100, 4096, 3);
    assert.ok(Buffer.from(part).equals(files[0]!.bytes.subarray(12 * CS + 100, 12 * CS + 4196)));
    assert.equal(src.calls.length, calls, 'nothing fetched');
    // A chunk never fetched is not there: the read fails like any offline miss.
    await assert.rejects(reader.read('a', 'v1', SIZE, 35 * CS, 4096, 4));
    reader.release(1);
    reader.release(2);
    reader.release(3);
    reader.release(4);
  });

  test('readers other than passthrough get a copied file from its copy: whole, ranges, read-ahead; nothing fetched', async (t) => {
    const { dir, files, src, reader } = await setup(t);
    await stream(reader, 'a', 'v1', 1);
    assert.ok(await settled(reader, 'a', 'v1'));
    // A fresh cache on the same files (a restart): L1 empty, the chunks were never in L2.
    const cache2 = await openChunkCache({
      l1MaxBytes: 2 * CS,
      l2Path: join(dir, 'c.db'),
      writer: 'inline',
      copiesDir: join(dir, 'copies'),
    });
    const reader2 = createChunkReader({
      cache: cache2,
      chunkSize: CS,
      fetchChunk: src.fetchChunk,
      readAhead: { initialChunks: 2, maxChunks: 8, maxBytes: 8 * CS },
    });
    t.after(async () => {
      reader2.close();
      await cache2.close();
    });
    const calls = src.calls.length;
    assert.ok((await stream(reader2, 'a', 'v1', 7)).equals(files[0]!.bytes));
    for (const off of [3 * CS + 100, 17 * CS, SIZE - 4096])
      assert.ok(
        Buffer.from(await reader2.read('a', 'v1', SIZE, off, 4096, 8)).equals(
          files[0]!.bytes.subarray(off, off + 4096),
        ),
      );
    assert.equal(src.calls.length, calls, 'nothing fetched');
    // All 41 chunks of the stream but those L2 got before the recording started (at most 4,
    // see the first test): a bound of 40 failed when it got 4.
    const chunkReads = cache2.stats().copies?.chunkReads ?? 0;
    assert.ok(chunkReads >= 41 - 4, `${chunkReads} chunk reads from the copy`);
  });

  test('random reads, reads from the middle and small files make no copy', async (t) => {
    const { cache, reader } = await setup(t);
    for (const off of [10 * CS, 30 * CS, 2 * CS, 20 * CS]) await reader.read('a', 'v1', SIZE, off, 4096, 1);
    for (let off = 5 * CS; off < SIZE; off += 2 * CS) await reader.read('b', 'v1', SIZE, off, 2 * CS, 2);
    reader.release(1);
    reader.release(2);
    await sleep(50);
    assert.equal(await reader.localCopy('a', 'v1', SIZE), undefined);
    assert.equal(await reader.localCopy('b', 'v1', SIZE), undefined);
    assert.equal(cache.stats().copies?.files, 0);
  });

  test('a file invalidated while it streams gets no copy, and its partial copy is removed', async (t) => {
    const { copiesDir, cache, reader } = await setup(t);
    for (let off = 0; off < 10 * CS; off += 2 * CS) await reader.read('a', 'v1', SIZE, off, 2 * CS, 1);
    for (let i = 0; i < 100 && !readdirSync(copiesDir).some((f) => f.endsWith('.tmp')); i++) await sleep(10);
    assert.ok(
      readdirSync(copiesDir).some((f) => f.endsWith('.tmp')),
      'recording',
    );
    await cache.invalidateFile('a');
    for (let off = 10 * CS; off < SIZE; off += 2 * CS) await reader.read('a', 'v1', SIZE, off, 2 * CS, 1);
    reader.release(1);
    await sleep(50);
    assert.equal(await reader.localCopy('a', 'v1', SIZE), undefined);
    assert.deepEqual(readdirSync(copiesDir), []);
    assert.equal(cache.stats().copies?.abandoned, 1);
  });

  test('a stream that stops halfway: its recording is given up and what it wrote goes to L2', async (t) => {
    const { copiesDir, cache, reader, src } = await setup(t, 64 * MiB, 150);
    for (let off = 0; off < 20 * CS; off += 2 * CS) await reader.read('a', 'v1', SIZE, off, 2 * CS, 1);
    reader.release(1);
    await sleep(500);
    await cache.flush();
    assert.equal(await reader.localCopy('a', 'v1', SIZE), undefined);
    assert.deepEqual(readdirSync(copiesDir), []);
    assert.equal(cache.stats().copies?.abandoned, 1);
    // Every chunk the reader got is in L2: reading them again fetches nothing.
    const calls = src.calls.length;
    const again = createChunkReader({ cache, chunkSize: CS, fetchChunk: src.fetchChunk, readAhead: false });
    for (let off = 0; off < 20 * CS; off += CS) await again.read('a', 'v1', SIZE, off, CS);
    assert.equal(src.calls.length, calls);
    assert.ok(cache.stats().l2.entries >= 20, `L2 has ${cache.stats().l2.entries}`);
  });

  test('the byte bound holds: the least recently used copy goes first', async (t) => {
    // Room for two copies (a file may take at most half the bound).
    const { copiesDir, cache, reader } = await setup(t, 2 * SIZE + 1000);
    await stream(reader, 'a', 'v1', 1);
    assert.ok(await settled(reader, 'a', 'v1'));
    await stream(reader, 'b', 'v1', 2);
    assert.ok(await settled(reader, 'b', 'v1'));
    assert.ok(await reader.localCopy('a', 'v1', SIZE)); // a is now more recent than b
    await stream(reader, 'c', 'v1', 3);
    assert.ok(await settled(reader, 'c', 'v1'));
    await sleep(50);
    assert.ok(await reader.localCopy('a', 'v1', SIZE));
    assert.equal(await reader.localCopy('b', 'v1', SIZE), undefined);
    const onDisk = readdirSync(copiesDir)
      .filter((f) => f.endsWith('.copy'))
      .reduce((n, f) => n + statSync(join(copiesDir, f)).size, 0);
    assert.ok(onDisk <= 2 * SIZE + 1000, `${onDisk} bytes on disk`);
    assert.equal(cache.stats().copies?.evictions, 1);
  });

  test('a copy from before a reboot is checked first: a good one is served after, a damaged one removed', async (t) => {
    const { copiesDir, files, cache, reader } = await setup(t);
    await stream(reader, 'a', 'v1', 1);
    await stream(reader, 'b', 'v1', 2);
    const copyA = await settled(reader, 'a', 'v1');
    const copyB = await settled(reader, 'b', 'v1');
    assert.ok(copyA !== undefined && copyB !== undefined);
    await cache.flush(); // their crc32s are computed after the stream
    // Another process after a reboot: rewrite the boots, damage b.
    for (const name of ['a', 'b']) {
      const meta = join(copiesDir, `${copyName(name, `${CS}:v1`)}.meta`);
      writeFileSync(
        meta,
        JSON.stringify({ ...JSON.parse(readFileSync(meta, 'utf8')), boot: 'an-earlier-boot' }),
      );
    }
    const damaged = readFileSync(copyB);
    damaged[SIZE - 10]! ^= 0xff;
    writeFileSync(copyB, damaged);
    const later = await FileCopies.open({ dir: copiesDir, maxBytes: 64 * MiB });
    t.after(() => later.close());
    const version = `${CS}:v1`;
    assert.equal(later.lookup('a', version, SIZE), undefined, 'not served before it is checked');
    assert.equal(later.lookup('b', version, SIZE), undefined);
    let a: string | undefined;
    for (let i = 0; i < 200 && a === undefined; i++) {
      await sleep(10);
      a = later.lookup('a', version, SIZE);
    }
    assert.equal(a, copyA);
    assert.ok(readFileSync(a!).equals(files[0]!.bytes));
    await sleep(50);
    assert.equal(later.lookup('b', version, SIZE), undefined);
    assert.equal(existsSync(copyB), false);
    assert.equal(later.stats().corruptDropped, 1);
  });

  test('verify reports a damaged copy and removes it; clear removes every copy', async (t) => {
    const { copiesDir, cache, reader } = await setup(t);
    await stream(reader, 'a', 'v1', 1);
    const copy = await settled(reader, 'a', 'v1');
    await cache.flush(); // crc32s computed (right after the stream)
    const bytes = readFileSync(copy!);
    bytes[5]! ^= 1;
    writeFileSync(copy!, bytes);
    const report = await cache.verify();
    assert.deepEqual(report.copies, { checked: 1, corrupt: 1 });
    await sleep(20);
    assert.equal(existsSync(copy!), false);
    await stream(reader, 'b', 'v1', 2);
    assert.ok(await settled(reader, 'b', 'v1'));
    await cache.clear();
    await sleep(20);
    assert.deepEqual(readdirSync(copiesDir), []);
  });

  test('a copy from before a reboot whose crc32s were never computed (killed right after) goes', async (t) => {
    const { copiesDir, reader } = await setup(t);
    await stream(reader, 'a', 'v1', 1);
    const copy = await settled(reader, 'a', 'v1');
    const meta = join(copiesDir, `${copyName('a', `${CS}:v1`)}.meta`);
    const { crc: _crc, ...noCrc } = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, unknown>;
    writeFileSync(meta, JSON.stringify({ ...noCrc, boot: 'an-earlier-boot' }));
    const later = await FileCopies.open({ dir: copiesDir, maxBytes: 64 * MiB });
    t.after(() => later.close());
    assert.equal(later.lookup('a', `${CS}:v1`, SIZE), undefined);
    await sleep(50);
    assert.equal(later.lookup('a', `${CS}:v1`, SIZE), undefined);
    assert.equal(existsSync(copy!), false);
  });

  test('a recording does not keep the chunks it wrote (a 10 GiB video must not stay in memory)', async (t) => {
    const dir = tempDir(t);
    const c = await FileCopies.open({ dir, maxBytes: 64 * MiB });
    t.after(() => c.close());
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    assert.ok(c.record('f', 'v', 20 * CS, CS, () => undefined));
    const refs: WeakRef<Uint8Array>[] = [];
    const writeChunk = (i: number) => {
      const bytes = new Uint8Array(CS).fill(i);
      refs.push(new WeakRef(bytes));
      assert.ok(c.write('f', 'v', i, bytes));
    };
    for (let i = 0; i < 10; i++) writeChunk(i);
    // Let the writes finish (the recording itself stays open: 10 of 20 chunks).
    await sleep(200);
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(10);
    }
    // V8 may keep the last object it saw alive a little longer; a chain holding every chunk keeps 10.
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.ok(alive <= 1, `${alive} of 10 written chunks still in memory`);
  });

  test('leftovers of a killed recording go at open; bad meta files are never trusted', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, `${'0'.repeat(40)}.999999999.tmp`), 'partial');
    writeFileSync(join(dir, `${'1'.repeat(40)}.meta.999999999.tmp`), '{');
    // A live process's (this one's) are left alone.
    const live = join(dir, `${'2'.repeat(40)}.meta.${process.pid}.tmp`);
    writeFileSync(live, '{');
    const name = copyName('x', 'v');
    writeFileSync(join(dir, `${name}.copy`), Buffer.alloc(2 * MiB));
    for (const meta of [
      '{',
      '{"v":1,"size":"big"}',
      '{"v":1,"size":2097152,"chunkSize":0,"crc":""}',
      'null',
    ]) {
      writeFileSync(join(dir, `${name}.meta`), meta);
      const c = await FileCopies.open({ dir, maxBytes: 64 * MiB });
      assert.equal(c.lookup('x', 'v', 2 * MiB), undefined, meta);
      await sleep(30);
      assert.equal(c.lookup('x', 'v', 2 * MiB), undefined, meta);
      await c.close();
      writeFileSync(join(dir, `${name}.copy`), Buffer.alloc(2 * MiB));
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [`${'2'.repeat(40)}.meta.${process.pid}.tmp`],
    );
  });

  test('two processes copying into one directory keep its bound together', async (t) => {
    const dir = tempDir(t);
    const bound = 3 * 2 * MiB + 1000; // three 2 MiB copies
    const a = await FileCopies.open({ dir, maxBytes: bound });
    const b = await FileCopies.open({ dir, maxBytes: bound });
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const chunk = new Uint8Array(CS);
    for (let i = 0; i < 6; i++) {
      const c = i % 2 === 0 ? a : b;
      assert.ok(
        c.record(`f${i}`, 'v', 2 * MiB, CS, () => undefined),
        `record ${i}`,
      );
      for (let j = 0; j < (2 * MiB) / CS; j++) c.write(`f${i}`, 'v', j, chunk);
      await c.idle();
      const onDisk = readdirSync(dir)
        .filter((f) => f.endsWith('.copy'))
        .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      assert.ok(onDisk <= bound, `after copy ${i}: ${onDisk} bytes on disk, bound ${bound}`);
    }
  });

  test('two caches on one directory (two mounts): a copy one makes, the other serves', async (t) => {
    const { copiesDir, reader } = await setup(t);
    const other = await FileCopies.open({ dir: copiesDir, maxBytes: 64 * MiB });
    t.after(() => other.close());
    await stream(reader, 'a', 'v1', 1);
    const copy = await settled(reader, 'a', 'v1');
    assert.equal(other.lookup('a', `${CS}:v1`, SIZE), copy);
  });

  test('a stat that found no copy is believed for a few seconds; `has` serves nothing', async (t) => {
    const { copiesDir, reader } = await setup(t);
    const early = await FileCopies.open({ dir: copiesDir, maxBytes: 64 * MiB });
    t.after(() => early.close());
    assert.equal(early.has('a', `${CS}:v1`, SIZE), false);
    await stream(reader, 'a', 'v1', 1);
    const copy = await settled(reader, 'a', 'v1');
    assert.ok(copy !== undefined);
    // The other process' copy shows to a lookup after ABSENT_FOR_MS (5 s); one that never
    // looked sees it at once.
    assert.equal(early.lookup('a', `${CS}:v1`, SIZE), undefined, 'absent, as it was a moment ago');
    const late = await FileCopies.open({ dir: copiesDir, maxBytes: 64 * MiB });
    t.after(() => late.close());
    assert.equal(late.has('a', `${CS}:v1`, SIZE), true);
    assert.equal(late.stats().served, 0, 'has counts nothing');
    assert.equal(late.lookup('a', `${CS}:v1`, SIZE), copy);
    assert.equal(late.stats().served, 1);
  });
});
