import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ChunkCache,
  type ChunkReader,
  createChunkReader,
  DEFAULT_CHUNK_SIZE,
  openChunkCache,
} from '@wormhole/cache';
import type { RemoteFs } from '../src/client/remote-fs.js';
import { remoteFileSystem } from '../src/index.js';
import { type Served, serve, tempDir } from './helpers/fixture.js';

/** The real RemoteFs, with its readdir and statfs calls recorded (what reached the host). */
function counting(remote: RemoteFs): {
  fs: RemoteFs;
  asked: string[];
  stats: string[];
  statfsCalls: () => number;
} {
  const asked: string[] = [];
  const stats: string[] = [];
  let statfsCalls = 0;
  const fs = new Proxy(remote, {
    get(target, prop, receiver) {
      if (prop === 'stat')
        return (path: string) => {
          stats.push(path);
          return target.stat(path);
        };
      if (prop === 'readdir')
        return (path: string) => {
          asked.push(path);
          return target.readdir(path);
        };
      if (prop === 'statfs')
        return () => {
          statfsCalls++;
          return target.statfs();
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { fs, asked, stats, statfsCalls: () => statfsCalls };
}

type Read = (path: string, offset: number, length: number, version?: string) => Promise<Uint8Array>;

/**
 * The real RemoteFs with every read reported to `onRead` (or passed through `wrap`, which gets
 * the real read), and a chunk cache (8 MiB L1) and reader over it.
 */
async function readingThrough(
  remote: RemoteFs,
  onRead: (path: string, offset: number, length: number) => void,
  wrap?: (read: Read) => Read,
): Promise<{ remote: RemoteFs; cache: ChunkCache; reader: ChunkReader }> {
  const proxied = new Proxy(remote, {
    get(target, prop, receiver) {
      if (prop === 'read') {
        const read: Read = (path, offset, length, version) => target.read(path, offset, length, version);
        const wrapped = wrap?.(read) ?? read;
        return (path: string, offset: number, length: number, version?: string) => {
          onRead(path, offset, length);
          return wrapped(path, offset, length, version);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const cache = await openChunkCache({ l1MaxBytes: 8 * 1024 * 1024 });
  const reader = createChunkReader({
    cache,
    chunkSize: DEFAULT_CHUNK_SIZE,
    fetchChunk: (file, version, index) =>
      proxied.read(file, index * DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, version),
  });
  return { remote: proxied, cache, reader };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('remoteFileSystem directory listings ahead', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Served;
  let big: Buffer;
  let mid: Buffer;

  before(async () => {
    dir = await tempDir();
    const root = join(dir.path, 'share');
    for (const d of ['a', 'b', 'c'])
      for (let i = 0; i < 5; i++) {
        await mkdir(join(root, d, 'deeper'), { recursive: true });
        await writeFile(join(root, d, `f${i}.txt`), `${d}${i}`);
      }
    await writeFile(join(root, 'top.txt'), 'top');
    big = randomBytes(300 * 1024);
    await writeFile(join(root, 'big.bin'), big);
    mid = randomBytes(40 * 1024);
    await writeFile(join(root, 'c', 'deeper', 'mid.bin'), mid);
    s = await serve(root);
  });
  after(async () => {
    await s?.close();
    await dir?.remove();
  });

  it('a listing fetches its subdirectories in the background; their readdir is answered without the host', async () => {
    const { fs: remote, asked } = counting(s.fs);
    const fs = remoteFileSystem(remote, { attrTtlMs: 5000 });
    const top = await fs.readdir('/');
    assert.deepEqual(top.map((e) => e.name).sort(), ['a', 'b', 'big.bin', 'c', 'top.txt']);
    await until(() => asked.length === 4);
    assert.deepEqual(asked.slice(1).sort(), ['/a', '/b', '/c'], 'directories only');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(asked.length, 4, 'a listing fetched ahead does not fetch further ahead (no crawl)');
    const a = await fs.readdir('/a');
    assert.deepEqual(a.map((e) => e.name).sort(), [
      'deeper',
      'f0.txt',
      'f1.txt',
      'f2.txt',
      'f3.txt',
      'f4.txt',
    ]);
    assert.equal(a.find((e) => e.name === 'f3.txt')?.attr?.size, 2);
    assert.ok(!asked.slice(4).includes('/a'), 'served from the listing fetched ahead');
    // ...and that listing's subdirectory is fetched ahead in turn (one level per listing).
    await until(() => asked.includes('/a/deeper'));
    // A listing is used once: listing /a again asks the host.
    const before = asked.length;
    await fs.readdir('/a');
    assert.equal(asked.slice(before).filter((p) => p === '/a').length, 1);
  });

  it("rootListedAtMount: the first listing of the root (the mount's own) does not read ahead; the next does", async () => {
    const { fs: remote, asked } = counting(s.fs);
    const fs = remoteFileSystem(remote, { attrTtlMs: 5000, rootListedAtMount: true });
    const first = await fs.readdir('/');
    assert.equal(first.length, 5);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(asked, ['/'], 'the listing fetched at creation, nothing ahead');
    await fs.readdir('/');
    await until(() => asked.length === 5);
    assert.deepEqual(asked.slice(2).sort(), ['/a', '/b', '/c'], "a user's listing reads ahead");
  });

  it("a listing's stats answer getattr of its entries; an invalidated entry is asked for again", async () => {
    const c = counting(s.fs);
    const rfs = remoteFileSystem(c.fs, { readdirAhead: 0, attrTtlMs: 60_000 });
    await rfs.readdir('/a');
    const attr = await rfs.getattr('/a/f3.txt');
    assert.equal(attr.size, 2);
    assert.equal((await rfs.getattr('/a/deeper')).mode & 0o170000, 0o040000);
    assert.deepEqual(c.stats, [], 'entries of a listing are not asked for one by one');
    rfs.invalidate(['/a/f3.txt']);
    await rfs.getattr('/a/f3.txt');
    await rfs.getattr('/a/f1.txt');
    assert.deepEqual(c.stats, ['/a/f3.txt', '/a/f1.txt'], "the invalidation dropped the parent's listing");
    await rfs.getattr('/a/f3.txt');
    assert.equal(c.stats.length, 2, 'a single answer is cached too');
  });

  it('statfs is asked once at creation and reused (find and file managers ask first)', async () => {
    const { fs: remote, statfsCalls } = counting(s.fs);
    const fs = remoteFileSystem(remote, { attrTtlMs: 5000 });
    assert.equal(statfsCalls(), 1, 'fetched at creation');
    const [a, b] = await Promise.all([fs.statfs(), fs.statfs()]);
    assert.deepEqual(a, b);
    assert.ok(a.blocks > 0 && a.bsize > 0);
    assert.equal(statfsCalls(), 1, 'answered from the one fetch');
  });

  it("opening a directory's small files in listing order fetches the next ones ahead, once each", async () => {
    const reads: string[] = [];
    const { remote, cache, reader } = await readingThrough(s.fs, (path) => reads.push(path));
    try {
      const fs = remoteFileSystem(remote, { reader, cache, readdirAhead: 0, siblingsAhead: 2 });
      const names = (await fs.readdir('/b')).map((e) => e.name);
      const files = names.filter((n) => n.endsWith('.txt'));
      assert.equal(files.length, 5);
      const readAll = async (name: string) => {
        const fh = await fs.open(`/b/${name}`, 0);
        const got = Buffer.from(await fs.read(`/b/${name}`, fh, 0, 65536)).toString();
        await fs.release(`/b/${name}`, fh);
        return got;
      };
      // The second open in order starts it: the two files after it are asked for too.
      assert.equal(await readAll(files[0]!), 'b0');
      assert.equal(await readAll(files[1]!), 'b1');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        [...reads].sort(),
        files.slice(0, 4).map((f) => `/b/${f}`),
      );
      for (let i = 2; i < 5; i++) assert.equal(await readAll(files[i]!), `b${i}`);
      assert.deepEqual(
        [...reads].sort(),
        files.map((f) => `/b/${f}`),
        'every file fetched exactly once, by its open or ahead of it',
      );
      // Out of order: nothing is fetched ahead.
      const fs2 = remoteFileSystem(remote, { reader, cache, readdirAhead: 0, siblingsAhead: 2 });
      await fs2.readdir('/c');
      reads.length = 0;
      for (const i of [4, 0, 3]) {
        const fh = await fs2.open(`/c/f${i}.txt`, 0);
        await fs2.release(`/c/f${i}.txt`, fh);
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(reads.sort(), ['/c/f0.txt', '/c/f3.txt', '/c/f4.txt']);
    } finally {
      await cache.close();
    }
  });

  it("an open fetches the file's first 16 KiB on their own; a small first read is answered from them", async () => {
    const reads: Array<[number, number]> = [];
    const { remote, cache, reader } = await readingThrough(s.fs, (_path, offset, length) =>
      reads.push([offset, length]),
    );
    try {
      const fs = remoteFileSystem(remote, { reader, cache, readdirAhead: 0 });
      const fh = await fs.open('/big.bin', 0);
      assert.deepEqual(reads, [[0, 16 * 1024]], 'the head at once');
      assert.deepEqual(Buffer.from(await fs.read('/big.bin', fh, 0, 16384)), big.subarray(0, 16384));
      await until(() => reads.length === 2);
      assert.deepEqual(
        reads,
        [
          [0, 16 * 1024],
          [0, DEFAULT_CHUNK_SIZE],
        ],
        'then the first chunk, once the head has arrived',
      );
      // Later reads go through the chunk cache as usual, byte-identical across the head's end.
      const more = await fs.read('/big.bin', fh, 12 * 1024, 8192);
      assert.deepEqual(Buffer.from(more), big.subarray(12 * 1024, 20 * 1024));
      await fs.release('/big.bin', fh);
      // Its first chunk is cached now: the next open asks the host for nothing (no head to wait for).
      const asked = reads.length;
      const fh2 = await fs.open('/big.bin', 0);
      assert.equal(reads.length, asked, 'no head for a cached first chunk');
      assert.deepEqual(
        Buffer.from(await fs.read('/big.bin', fh2, 270 * 1024, 4096)),
        big.subarray(270 * 1024, 274 * 1024),
      );
      await fs.release('/big.bin', fh2);
      // A file of 64 KiB or less comes whole at open, without a head.
      reads.length = 0;
      const fh3 = await fs.open('/c/deeper/mid.bin', 0);
      assert.deepEqual(reads, [[0, DEFAULT_CHUNK_SIZE]], 'its chunk, once: the whole file');
      assert.deepEqual(Buffer.from(await fs.read('/c/deeper/mid.bin', fh3, 0, 40 * 1024)), mid);
      assert.equal(reads.length, 1);
      await fs.release('/c/deeper/mid.bin', fh3);
    } finally {
      await cache.close();
    }
  });

  it('a listing fetches the heads of its large files; their opens ask the host nothing', async () => {
    const reads: Array<[string, number, number]> = [];
    const { remote, cache, reader } = await readingThrough(s.fs, (path, offset, length) =>
      reads.push([path, offset, length]),
    );
    try {
      const fs = remoteFileSystem(remote, { reader, cache, readdirAhead: 0, attrTtlMs: 60_000 });
      await fs.readdir('/c');
      await fs.readdir('/c/deeper');
      assert.deepEqual(reads, [], 'small files only (mid.bin is 40 KiB): no heads');
      await fs.readdir('/');
      assert.deepEqual(reads, [['/big.bin', 0, 16 * 1024]], 'the one large file of the root');
      await fs.readdir('/');
      assert.equal(reads.length, 1, 'a head already fetched for this version is not asked again');
      await new Promise((r) => setTimeout(r, 20));
      const fh = await fs.open('/big.bin', 0);
      await new Promise((r) => setTimeout(r, 20));
      // Its first chunk is asked for once the first read is answered, not before it.
      assert.equal(reads.length, 1, 'the open takes the head fetched with the listing, and asks nothing yet');
      assert.deepEqual(Buffer.from(await fs.read('/big.bin', fh, 0, 4096)), big.subarray(0, 4096));
      await until(() => reads.length === 2);
      assert.deepEqual(
        reads[1],
        ['/big.bin', 0, DEFAULT_CHUNK_SIZE],
        'then its first chunk, as after any head',
      );
      await fs.release('/big.bin', fh);

      // Taken once: a head the chunk cache makes useless is not fetched (chunk 0 is cached now).
      reads.length = 0;
      await fs.readdir('/');
      assert.deepEqual(reads, []);
      // An invalidation drops a head fetched ahead: the next open asks for its own.
      await cache.clear();
      await fs.readdir('/');
      assert.equal(reads.length, 1);
      fs.invalidate(['/big.bin']);
      const fh2 = await fs.open('/big.bin', 0);
      assert.deepEqual(reads.slice(1), [['/big.bin', 0, 16 * 1024]], "the open's own head");
      assert.deepEqual(Buffer.from(await fs.read('/big.bin', fh2, 0, 100)), big.subarray(0, 100));
      await fs.release('/big.bin', fh2);
      await until(() => reads.length === 3);

      // headsAhead 0: a listing fetches nothing.
      await cache.clear();
      reads.length = 0;
      const off = remoteFileSystem(remote, { reader, cache, readdirAhead: 0, headsAhead: 0 });
      await off.readdir('/');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(reads, []);
    } finally {
      await cache.close();
    }
  });

  it('a head fetched ahead is offered to the kernel; one it could not take yet is offered again at open', async () => {
    const offers: string[] = [];
    let accept = false;
    const { remote, cache, reader } = await readingThrough(s.fs, () => {});
    try {
      const fs = remoteFileSystem(remote, {
        reader,
        cache,
        readdirAhead: 0,
        storeHead: (path, bytes) => {
          offers.push(`${path} ${bytes.byteLength} ${accept}`);
          assert.deepEqual(Buffer.from(bytes), big.subarray(0, 16384));
          return accept;
        },
      });
      await fs.readdir('/');
      await until(() => offers.length === 1);
      assert.deepEqual(
        offers,
        ['/big.bin 16384 false'],
        'offered as it arrived (the kernel had no node yet)',
      );
      accept = true;
      const fh = await fs.open('/big.bin', 0);
      assert.deepEqual(offers.slice(1), ['/big.bin 16384 true'], 'offered again by the open');
      await fs.release('/big.bin', fh);
      await fs.readdir('/');
      await until(() => offers.length === 3);
      const fh2 = await fs.open('/big.bin', 0);
      assert.equal(offers.length, 3, 'taken as it arrived: not offered again');
      await fs.release('/big.bin', fh2);
    } finally {
      await cache.close();
    }
  });

  it('a head that arrives after a newer stat of its file is not offered to the kernel', async () => {
    const late = join(dir.path, 'share', 'late.bin');
    await writeFile(late, Buffer.alloc(70 * 1024, 1));
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let served = false;
    // The host serves the head of the listed version; its answer is held back until the file
    // has changed and a newer stat of it is known.
    const {
      remote: held,
      cache,
      reader,
    } = await readingThrough(
      s.fs,
      () => {},
      (read) => async (path, offset, length, version) => {
        const bytes = await read(path, offset, length, version);
        if (path === '/late.bin' && length === 16384) {
          served = true;
          await gate;
        }
        return bytes;
      },
    );
    const offers: string[] = [];
    try {
      const fs = remoteFileSystem(held, {
        reader,
        cache,
        readdirAhead: 0,
        attrTtlMs: 0,
        storeHead: (path) => {
          offers.push(path);
          return true;
        },
      });
      await fs.readdir('/');
      await until(() => served);
      await writeFile(late, Buffer.alloc(71 * 1024, 2));
      await fs.getattr('/late.bin');
      release();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!offers.includes('/late.bin'), `offered: ${offers.join(', ')}`);
    } finally {
      release();
      await cache.close();
      await rm(late, { force: true });
    }
  });

  it('heads fetched ahead are rate-limited: a walk over folders of large files fetches 32 at once', async () => {
    const reads: string[] = [];
    const { remote, cache, reader } = await readingThrough(s.fs, (path) => reads.push(path));
    const videos = join(dir.path, 'share', 'v');
    try {
      for (let d = 0; d < 3; d++) {
        await mkdir(join(videos, `d${d}`), { recursive: true });
        for (let i = 0; i < 16; i++)
          await writeFile(join(videos, `d${d}`, `clip${i}.mp4`), Buffer.alloc(70 * 1024, i));
      }
      const fs = remoteFileSystem(remote, { reader, cache, readdirAhead: 0 });
      for (let d = 0; d < 3; d++) await fs.readdir(`/v/d${d}`);
      assert.ok(reads.length >= 32 && reads.length <= 33, `32 heads (+1 refilled), got ${reads.length}`);
      assert.deepEqual(
        new Set(reads.map((p) => p.split('/')[2])),
        new Set(['d0', 'd1']),
        'the first folders',
      );
      // 16 per second after that.
      await new Promise((r) => setTimeout(r, 250));
      const before = reads.length;
      await fs.readdir('/v/d2');
      assert.ok(
        reads.length - before >= 3 && reads.length - before <= 5,
        `~4 after 250 ms, got ${reads.length - before}`,
      );
    } finally {
      await cache.close();
      await rm(videos, { recursive: true, force: true });
    }
  });

  it('invalidation and the TTL drop listings fetched ahead; readdirAhead 0 fetches nothing', async () => {
    const { fs: remote, asked } = counting(s.fs);
    const fs = remoteFileSystem(remote, { attrTtlMs: 5000 });
    await fs.readdir('/');
    await until(() => asked.length === 4);
    fs.invalidate(['/b/f1.txt']); // a change inside /b
    const n = asked.length;
    await fs.readdir('/b');
    assert.ok(asked.slice(n).includes('/b'), 'the host is asked again after an invalidation');
    fs.invalidate('all');
    const m = asked.length;
    await fs.readdir('/c');
    assert.ok(asked.slice(m).includes('/c'));

    const short = counting(s.fs);
    const fsShort = remoteFileSystem(short.fs, { attrTtlMs: 30 });
    await fsShort.readdir('/');
    await until(() => short.asked.length === 4);
    await new Promise((r) => setTimeout(r, 60));
    const k = short.asked.length;
    await fsShort.readdir('/a');
    assert.ok(short.asked.slice(k).includes('/a'), 'older than the TTL: asked again');

    const off = counting(s.fs);
    const fsOff = remoteFileSystem(off.fs, { readdirAhead: 0 });
    await fsOff.readdir('/');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(off.asked, ['/']);
  });
});

describe('remoteFileSystem whole-file copies (FUSE passthrough)', () => {
  const MiB = 1024 * 1024;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Served;
  let root: string;
  let video: Buffer;

  before(async () => {
    dir = await tempDir();
    root = join(dir.path, 'share');
    await mkdir(root, { recursive: true });
    video = randomBytes(64 * MiB + 5);
    await writeFile(join(root, 'video.bin'), video);
    s = await serve(root);
  });
  after(async () => {
    await s?.close();
    await dir?.remove();
  });

  it('a file streamed whole is dropped behind its reader, then opened on its copy: no fetch, same bytes', async () => {
    let fetched = 0;
    const { remote, cache, reader } = await readingThrough(s.fs, () => fetched++);
    const copies = await openChunkCache({ l1MaxBytes: 8 * MiB, copiesDir: join(dir.path, 'copies') });
    const copyingReader = createChunkReader({
      cache: copies,
      chunkSize: DEFAULT_CHUNK_SIZE,
      fetchChunk: (file, version, index) =>
        remote.read(file, index * DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, version),
    });
    await cache.close();
    reader.close();
    const dropped: Array<[number, number]> = [];
    try {
      const fs = remoteFileSystem(remote, {
        reader: copyingReader,
        cache: copies,
        readdirAhead: 0,
        dropBehind: (path, offset, length) => {
          assert.equal(path, '/video.bin');
          dropped.push([offset, length]);
        },
      });
      const fh = await fs.open('/video.bin', 0);
      assert.equal(fs.passthroughPath?.(fh), undefined, 'no copy yet');
      const parts: Uint8Array[] = [];
      for (let off = 0; off < video.length; off += MiB) {
        parts.push(...(await fs.readv!('/video.bin', fh, off, MiB)));
        // Never dropped within 16 MiB of the reader (the kernel's read-ahead window is ahead of it).
        const end = dropped.at(-1);
        if (end) assert.ok(end[0] + end[1] <= off - 16 * MiB, `${end} at ${off}`);
      }
      assert.ok(Buffer.concat(parts).equals(video));
      await fs.release('/video.bin', fh);
      assert.ok(dropped.length >= 1, 'dropped behind');
      assert.equal(dropped[0]![0], 0);
      for (let i = 1; i < dropped.length; i++)
        assert.equal(dropped[i]![0], dropped[i - 1]![0] + dropped[i - 1]![1]);

      const before = fetched;
      const fh2 = await fs.open('/video.bin', 0);
      const copy = fs.passthroughPath?.(fh2);
      assert.ok(copy !== undefined, 'the open names the copy');
      // Without passthrough (this test has no kernel), reads come from the copy.
      assert.ok(
        Buffer.from(await fs.read('/video.bin', fh2, 40 * MiB + 3, 100_000)).equals(
          video.subarray(40 * MiB + 3, 40 * MiB + 100_003),
        ),
      );
      assert.ok(
        Buffer.from(await fs.read('/video.bin', fh2, video.length - 10, 100)).equals(
          video.subarray(video.length - 10),
        ),
      );
      await fs.release('/video.bin', fh2);
      assert.equal(fetched, before, 'nothing fetched');
      assert.deepEqual(fs.copyStats(), { opens: 1, readsHere: 2 });

      // A new version on the host: no copy for it.
      const changed = Buffer.from(video);
      changed[0]! ^= 1;
      await writeFile(join(root, 'video.bin'), changed);
      fs.invalidate(['/video.bin']);
      const fh3 = await fs.open('/video.bin', 0);
      assert.equal(fs.passthroughPath?.(fh3), undefined);
      assert.equal(Buffer.from(await fs.read('/video.bin', fh3, 0, 1))[0], changed[0]);
      await fs.release('/video.bin', fh3);
    } finally {
      copyingReader.close();
      await copies.close();
    }
  });
});
