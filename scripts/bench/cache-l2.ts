// Chunk-cache benchmark (issue 5). Not a test: prints a Markdown table of MB/s and ratios.
//
//   node --conditions=@wormhole/source --import tsx scripts/bench/cache-l2.ts [--size 1024] [--chunks 128,256] [--dir /tmp]
//
// --size in MiB (default 1024). For every chunk size and check algorithm, in one run:
//  1. L2 chunk write (worker writer; and inline writer for the event-loop stall) vs the same
//     chunks written as plain files in a directory;
//  2. L2 chunk read (cache.get, L1 disabled) vs reading the plain files;
//  4. random 4 KiB reads (reads/s instead of MB/s) through the reader, warm L2 and L1.
//  3. through the chunk reader with 128 KiB reads (FUSE's size): warm L1, and warm L2 after
//     reopening (L1 empty), vs reading the same local file with 128 KiB readSync/fh.read.
// Page cache is warm for every variant (nothing is dropped): these are CPU/copy-path figures.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ChunkHashAlgorithm,
  createChunkReader,
  openChunkCache,
} from '../../packages/cache/src/index.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    chunks: { type: 'string', default: '128,256' },
    hashes: { type: 'string', default: 'crc32,sha256' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const MiB = 1024 * 1024;
const SIZE = Number(values.size) * MiB;
const READ = 128 * 1024;
const root = mkdtempSync(join(values.dir, 'wh-cache-bench-'));
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const now = (): number => performance.now();

/** Median of three runs: the machine is shared, single runs swing by 2x. */
function mid(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
function median(fn: () => number): number {
  return mid([fn(), fn(), fn()]);
}

function localFile(): string {
  const path = join(root, 'source.bin');
  const fd = openSync(path, 'w');
  for (let off = 0; off < SIZE; off += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, SIZE - off)));
  closeSync(fd);
  return path;
}

function localReadSync(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(READ);
  const t0 = now();
  for (let off = 0; off < SIZE; off += READ) readSync(fd, buf, 0, READ, off);
  const ms = now() - t0;
  closeSync(fd);
  return mbps(SIZE, ms);
}

async function localReadAsync(path: string): Promise<number> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(READ);
  const t0 = now();
  for (let off = 0; off < SIZE; off += READ) await fh.read(buf, 0, READ, off);
  const ms = now() - t0;
  await fh.close();
  return mbps(SIZE, ms);
}

function chunksOf(path: string, cs: number): (i: number) => Buffer {
  const fd = openSync(path, 'r');
  return (i) => {
    const b = Buffer.allocUnsafe(Math.min(cs, SIZE - i * cs));
    readSync(fd, b, 0, b.length, i * cs);
    return b;
  };
}

interface Row {
  label: string;
  value: number;
  ref?: number;
  note?: string;
}

async function run(
  src: string,
  cs: number,
  hash: ChunkHashAlgorithm,
  local: { sync: number; async: number },
): Promise<Row[]> {
  const n = Math.ceil(SIZE / cs);
  const get = chunksOf(src, cs);
  const chunks = Array.from({ length: n }, (_, i) => get(i)); // in memory: measure the store, not the source
  const rows: Row[] = [];
  const tag = `${cs / 1024} KiB, ${hash}`;

  // Plain files in a directory.
  const dir = join(root, `files-${cs}-${hash}`);
  mkdirSync(dir);
  const t0 = now();
  for (let i = 0; i < n; i++) writeFileSync(join(dir, String(i)), chunks[i]!);
  const filesWrite = mbps(SIZE, now() - t0);
  const filesRead = median(() => {
    const s = now();
    for (let i = 0; i < n; i++) readFileSync(join(dir, String(i)));
    return mbps(SIZE, now() - s);
  });
  rmSync(dir, { recursive: true });

  // L2 write, worker writer (paced: flush every 32 MiB so fills are never dropped).
  const writeL2 = async (writer: 'worker' | 'inline', path: string) => {
    const cache = await openChunkCache({
      l2Path: path,
      l1MaxBytes: 0,
      hash,
      writer,
      maxPendingWriteBytes: 64 * MiB,
    });
    // Main-thread stall: the longest gap between 1 ms ticks while writing (what a FUSE
    // request arriving meanwhile would wait).
    let last = now();
    let maxStallMs = 0;
    const ticker = setInterval(() => {
      const t = now();
      maxStallMs = Math.max(maxStallMs, t - last);
      last = t;
    }, 1);
    const start = now();
    for (let i = 0; i < n; i++) {
      cache.put({ file: 'f', version: `${cs}:v`, index: i }, chunks[i]!);
      if ((i + 1) % Math.floor((32 * MiB) / cs) === 0) await cache.flush();
    }
    await cache.flush();
    const ms = now() - start;
    clearInterval(ticker);
    const dropped = cache.stats().l2.writesDropped;
    await cache.close();
    return { mbps: mbps(SIZE, ms), maxStallMs, dropped };
  };
  const db = join(root, `l2-${cs}-${hash}.db`);
  const w = await writeL2('worker', db);
  const wi = await writeL2('inline', join(root, `l2-inline-${cs}-${hash}.db`));
  rmSync(join(root, `l2-inline-${cs}-${hash}.db`), { force: true });
  rows.push({
    label: `L2 chunk write (${tag}), worker writer`,
    value: w.mbps,
    ref: filesWrite,
    note: `event-loop max stall ${w.maxStallMs.toFixed(1)} ms`,
  });
  rows.push({
    label: `L2 chunk write (${tag}), inline writer`,
    value: wi.mbps,
    ref: filesWrite,
    note: `event-loop max stall ${wi.maxStallMs.toFixed(1)} ms`,
  });

  // L2 chunk read, L1 disabled.
  {
    const cache = await openChunkCache({ l2Path: db, l1MaxBytes: 0, hash });
    const l2read = median(() => {
      const s = now();
      for (let i = 0; i < n; i++)
        if (!cache.get({ file: 'f', version: `${cs}:v`, index: i })) throw new Error(`miss ${i}`);
      return mbps(SIZE, now() - s);
    });
    rows.push({ label: `L2 chunk read (${tag}), verified`, value: l2read, ref: filesRead });
    await cache.close();
  }

  // Through the chunk reader. fetchChunk must never be called: everything is cached.
  const noFetch = async (): Promise<Uint8Array> => {
    throw new Error('fetch called in a warm benchmark');
  };
  const readAll = async (reader: ReturnType<typeof createChunkReader>): Promise<number> => {
    const start = now();
    for (let off = 0; off < SIZE; off += READ) await reader.read('f', 'v', SIZE, off, READ, 1);
    return mbps(SIZE, now() - start);
  };
  // Warm L2: reopened, L1 empty (sized to hold the file so the L1 pass below is pure L1).
  for (const inWriter of [true, false]) {
    const l2s: number[] = [];
    const l1s: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const cache = await openChunkCache({ l2Path: db, hash, l1MaxBytes: SIZE + 8 * MiB });
      const reader = createChunkReader({
        cache,
        chunkSize: cs,
        fetchChunk: noFetch,
        readAhead: { loadL2InWriter: inWriter },
      });
      l2s.push(await readAll(reader));
      l1s.push(await readAll(reader));
      reader.close();
      await cache.close();
    }
    const l2 = mid(l2s);
    const l1 = mid(l1s);
    const how = inWriter ? 'read-ahead loads L2 in writer thread' : 'L2 read on main thread';
    rows.push({
      label: `warm L2 via reader (${tag}), 128 KiB reads, ${how}`,
      value: l2,
      ref: local.sync,
      note: `vs readSync; ${(l2 / local.async).toFixed(2)}x fh.read`,
    });
    if (inWriter) {
      rows.push({
        label: `warm L1 via reader (${tag}), 128 KiB reads`,
        value: l1,
        ref: local.sync,
        note: `vs readSync; ${(l1 / local.async).toFixed(2)}x fh.read`,
      });
    }
  }
  {
    // Random 4 KiB reads (no handle: no read-ahead), warm L2 (reopened) then warm L1, vs
    // random 4 KiB readSync of the local file. Same offsets for all three.
    const R = 20000;
    const offs = Array.from({ length: R }, () => Math.floor(Math.random() * ((SIZE - 4096) / 4096)) * 4096);
    const cache = await openChunkCache({ l2Path: db, hash, l1MaxBytes: SIZE + 8 * MiB });
    const reader = createChunkReader({ cache, chunkSize: cs, fetchChunk: noFetch });
    const iops = async (): Promise<number> => {
      const s = now();
      for (const o of offs) await reader.read('f', 'v', SIZE, o, 4096);
      return R / ((now() - s) / 1000);
    };
    const l2 = await iops();
    const l1 = await iops();
    reader.close();
    await cache.close();
    const fd = openSync(src, 'r');
    const buf = Buffer.allocUnsafe(4096);
    const s = now();
    for (const o of offs) readSync(fd, buf, 0, 4096, o);
    const loc = R / ((now() - s) / 1000);
    closeSync(fd);
    rows.push({
      label: `random 4 KiB reads, warm L2 (${tag}), reads/s`,
      value: l2,
      ref: loc,
      note: 'reference: readSync 4 KiB',
    });
    rows.push({
      label: `random 4 KiB reads, warm L1 (${tag}), reads/s`,
      value: l1,
      ref: loc,
      note: 'reference: readSync 4 KiB',
    });
  }
  rmSync(db, { force: true });
  return rows;
}

const src = localFile();
// Two passes of the local read: the first warms the page cache for everything after.
localReadSync(src);
const local = {
  sync: median(() => localReadSync(src)),
  async: mid([await localReadAsync(src), await localReadAsync(src), await localReadAsync(src)]),
};
console.log(
  `size ${SIZE / MiB} MiB; local file, 128 KiB reads: readSync ${local.sync.toFixed(0)} MB/s, fh.read ${local.async.toFixed(0)} MB/s\n`,
);
console.log('| measurement | MB/s | reference MB/s | ratio | note |');
console.log('|---|---:|---:|---:|---|');
try {
  for (const cs of values.chunks.split(',').map((s) => Number(s) * 1024)) {
    for (const hash of values.hashes.split(',') as ChunkHashAlgorithm[]) {
      for (const r of await run(src, cs, hash, local)) {
        const ratio = r.ref === undefined ? '' : `${(r.value / r.ref).toFixed(2)}x`;
        console.log(
          `| ${r.label} | ${r.value.toFixed(0)} | ${r.ref?.toFixed(0) ?? ''} | ${ratio} | ${r.note ?? ''} |`,
        );
      }
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
