// SQLite row layouts for the L2 chunk store (issue 5). Not a test: prints one line per layout.
//
//   node --import tsx scripts/bench/l2-layout.ts [--size 1024] [--rows 0,4096,8192,65536] [--mmap 0,2000000000] [--dir /tmp]
//
// Why it exists: a random 4 KiB read from L2 costs ~25 µs because SQLite loads a whole 256 KiB
// blob even for `substr()` (vdbeColumnFromOverflow), and that is most of the gap between the
// mount's random reads and rclone's full cache. Splitting chunks into smaller rows makes random
// reads cheap and whole-chunk reads (sequential reads from L2) dear; this prints both, for one
// file of 256 KiB chunks written the way the L2 writer writes them (64 per transaction, WAL,
// 64 KiB pages, then a checkpoint), page cache warm.
//   rows 0        one blob per chunk, `substr()` for a range (what packages/cache does)
//   rows N        the chunk as 256 KiB / N rows of N bytes, keyed id * parts + part
// --mmap sets `mmap_size` on the reading connection (0: plain reads).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqlite } from '../../packages/cache/src/sqlite-binding.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    rows: { type: 'string', default: '0,4096,8192,65536' },
    mmap: { type: 'string', default: '0,2000000000' },
    dir: { type: 'string', default: tmpdir() },
  },
});

const CHUNK = 256 * 1024;
const CHUNKS = Math.floor((Number(values.size) * 1024 * 1024) / CHUNK);
const RANDOM_READS = 30_000;
const CHUNK_READS = 4_000;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function write(path: string, rowBytes: number): { writeCpuMs: number; checkpointCpuMs: number } {
  const db = openSqlite(path, 5000);
  db.pragma('page_size = 65536');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec(
    'CREATE TABLE meta(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, size INTEGER, hash BLOB);' +
      'CREATE TABLE data(id INTEGER PRIMARY KEY, blob BLOB NOT NULL);',
  );
  const chunk = randomBytes(CHUNK);
  const hash = randomBytes(256);
  const parts = rowBytes === 0 ? 1 : CHUNK / rowBytes;
  const meta = db.prepare('INSERT INTO meta(id, key, size, hash) VALUES (?, ?, ?, ?)');
  const data = db.prepare('INSERT INTO data(id, blob) VALUES (?, ?)');
  const batch = db.transaction((from: number) => {
    for (let i = from; i < Math.min(CHUNKS, from + 64); i++) {
      meta.run(i + 1, `k${i + 1}`, CHUNK, hash);
      if (rowBytes === 0) data.run(i + 1, chunk);
      else
        for (let p = 0; p < parts; p++)
          data.run((i + 1) * parts + p, chunk.subarray(p * rowBytes, (p + 1) * rowBytes));
    }
  });
  let c0 = cpuMs();
  for (let i = 0; i < CHUNKS; i += 64) batch(i);
  const writeCpuMs = cpuMs() - c0;
  c0 = cpuMs();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const checkpointCpuMs = cpuMs() - c0;
  db.close();
  return { writeCpuMs, checkpointCpuMs };
}

function read(path: string, rowBytes: number, mmap: number): { randomUs: number; chunkUs: number } {
  const db = openSqlite(path, 5000);
  if (mmap > 0) db.pragma(`mmap_size = ${mmap}`);
  const parts = rowBytes === 0 ? 1 : CHUNK / rowBytes;
  const key = () => `k${1 + Math.floor(Math.random() * CHUNKS)}`;
  const block = () => Math.floor(Math.random() * (CHUNK / 4096));
  type Part = { part: Buffer };
  const substr = db.prepare<[number, number, string], Part>(
    'SELECT substr(d.blob, ?, ?) AS part FROM meta m JOIN data d ON d.id = m.id WHERE m.key = ?',
  );
  const row = db.prepare<[number, string], Part>(
    `SELECT d.blob AS part FROM meta m JOIN data d ON d.id = m.id * ${parts} + ? WHERE m.key = ?`,
  );
  const whole = db.prepare<[string], { blob: Buffer }>(
    rowBytes === 0
      ? 'SELECT d.blob FROM meta m JOIN data d ON d.id = m.id WHERE m.key = ?'
      : `SELECT d.blob FROM meta m JOIN data d ON d.id BETWEEN m.id * ${parts} AND m.id * ${parts} + ${parts - 1} WHERE m.key = ? ORDER BY d.id`,
  );
  let randomUs = 0;
  let chunkUs = 0;
  // Two rounds; the second is reported (the first warms the page cache and the statements).
  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    for (let i = 0; i < RANDOM_READS; i++) {
      const at = block() * 4096;
      if (rowBytes === 0) substr.get(at + 1, 4096, key());
      else row.get(Math.floor(at / rowBytes), key())?.part.subarray(at % rowBytes, (at % rowBytes) + 4096);
    }
    randomUs = ((performance.now() - t) * 1000) / RANDOM_READS;
    t = performance.now();
    for (let i = 0; i < CHUNK_READS; i++) {
      if (rowBytes === 0) whole.get(key());
      else {
        const out = Buffer.allocUnsafe(CHUNK);
        let o = 0;
        for (const row of whole.iterate(key())) {
          out.set(row.blob, o);
          o += row.blob.byteLength;
        }
      }
    }
    chunkUs = ((performance.now() - t) * 1000) / CHUNK_READS;
  }
  db.close();
  return { randomUs, chunkUs };
}

const dir = mkdtempSync(join(values.dir, 'wormhole-l2-layout-'));
try {
  console.log(`${CHUNKS} chunks of 256 KiB; random 4 KiB reads and whole-chunk reads, page cache warm`);
  for (const rowBytes of values.rows.split(',').map(Number)) {
    const path = join(dir, `layout-${rowBytes}.db`);
    const w = write(path, rowBytes);
    const mib = statSync(path).size / 2 ** 20;
    for (const mmap of values.mmap.split(',').map(Number)) {
      const r = read(path, rowBytes, mmap);
      console.log(
        `${rowBytes === 0 ? 'one blob per chunk' : `${rowBytes} B rows`}, mmap ${mmap > 0 ? 'on' : 'off'}: ` +
          `random 4 KiB ${r.randomUs.toFixed(1)} µs, whole chunk ${r.chunkUs.toFixed(1)} µs; ` +
          `file ${mib.toFixed(0)} MiB, write CPU ${w.writeCpuMs.toFixed(0)} ms + checkpoint ${w.checkpointCpuMs.toFixed(0)} ms`,
      );
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
