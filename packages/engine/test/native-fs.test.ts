import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadNativeFs } from '../src/host/native-fs.js';
import { SafeRoot } from '../src/host/safe-root.js';
import { ShareFs } from '../src/host/share-fs.js';
import { lstatWireAt, toWireStat } from '../src/host/stat-convert.js';
import { tempDir } from './helpers/fixture.js';

const linux = process.platform === 'linux';

describe('native host helper (lstatAt)', {
  skip: linux ? false : 'the helper is built on Linux only',
}, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let root: string;
  const names: string[] = [];

  before(async () => {
    dir = await tempDir();
    root = join(dir.path, 'share');
    mkdirSync(join(root, 'sub'), { recursive: true });
    const add = (name: string, make: (p: string) => void) => {
      make(join(root, name));
      names.push(name);
    };
    add('plain.txt', (p) => writeFileSync(p, 'hello'));
    add('empty', (p) => writeFileSync(p, ''));
    add('sparse 1 TiB', (p) => {
      closeSync(openSync(p, 'w'));
      truncateSync(p, 2 ** 40);
    });
    add('ünïcødé 文件', (p) => writeFileSync(p, 'u'));
    add('sub', () => {});
    add('link-in', (p) => symlinkSync('plain.txt', p));
    add('link-out', (p) => symlinkSync('/etc/passwd', p));
    add('fifo', (p) => execFileSync('mkfifo', [p]));
    add('nanoseconds', (p) => {
      writeFileSync(p, 'n');
      utimesSync(p, 1_700_000_000.123456, 1_700_000_000.987654);
    });
    add('before 1970', (p) => {
      writeFileSync(p, 'old');
      // touch, not utimes: node:fs turns a negative time into "now" and keeps only µs.
      execFileSync('touch', ['-d', '@-86400.123456789', p]);
      assert.equal(lstatSync(p, { bigint: true }).mtimeNs, -86_400_123_456_789n);
    });
    add('epoch', (p) => {
      writeFileSync(p, 'zero');
      utimesSync(p, 0, 0.5);
    });
    for (let i = 0; i < 300; i++)
      add(`f${String(i).padStart(4, '0')}`, (p) => writeFileSync(p, 'x'.repeat(i)));
  });
  after(async () => {
    await dir.remove();
  });

  it('is built here (the build step compiles it on Linux)', () => {
    assert.ok(loadNativeFs(), 'native/build/wormhole_hostfs.node did not load: run `pnpm run build`');
  });

  it('gives exactly the wire Stats node:fs gives (types, sizes, ns times, pre-1970, symlinks, fifo)', async () => {
    const native = loadNativeFs()!;
    const fd = openSync(root, 'r');
    try {
      const got = await lstatWireAt(native, fd, [...names, 'missing']);
      for (let i = 0; i < names.length; i++) {
        const want = toWireStat(lstatSync(join(root, names[i]!), { bigint: true }));
        assert.deepEqual(got[i], want, names[i]);
      }
      assert.equal(got[names.length], null, 'a name that does not exist is null');
    } finally {
      closeSync(fd);
    }
  });

  it('refuses names that could leave the directory, and oversized batches', async () => {
    const native = loadNativeFs()!;
    const fd = openSync(root, 'r');
    try {
      assert.throws(() => native.lstatAt(fd, ['sub/../plain.txt']), TypeError);
      assert.throws(() => native.lstatAt(fd, ['../share']), TypeError);
      assert.throws(() => native.lstatAt(fd, ['a\0b']), TypeError);
      assert.throws(() => native.lstatAt(fd, ['']), TypeError);
      assert.throws(() => native.lstatAt(fd, [1 as unknown as string]), TypeError);
      assert.throws(() => native.lstatAt(fd, Array(4097).fill('plain.txt')), TypeError);
      assert.throws(() => native.lstatAt(-1, ['plain.txt']), TypeError);
      // A bad fd is a per-entry error, not a crash.
      const bad = await native.lstatAt(987_654, ['plain.txt']);
      assert.notEqual(bad[0], 0);
    } finally {
      closeSync(fd);
    }
  });

  it('ShareFs lists the same pages with and without the helper (pages cut across its batches)', async () => {
    const safe = await SafeRoot.open(root);
    const withNative = new ShareFs(safe, 8, true);
    const withNodeFs = new ShareFs(safe, 8, false);
    try {
      for (const [cursor, limit] of [
        [0, 1024],
        [0, 100],
        [100, 200],
        [250, 30],
      ] as const) {
        const a = await withNative.readdir('/', cursor, limit);
        const b = await withNodeFs.readdir('/', cursor, limit);
        assert.deepEqual(a, b, `cursor ${cursor} limit ${limit}`);
        assert.ok(a.entries.length > 0);
      }
      // A frame budget that cuts the page short: both stop at the same entry.
      const small = 4096;
      assert.deepEqual(
        await withNative.readdir('/', 0, 1024, small),
        await withNodeFs.readdir('/', 0, 1024, small),
      );
    } finally {
      withNative.fds.close();
      withNodeFs.close();
    }
  });
});
