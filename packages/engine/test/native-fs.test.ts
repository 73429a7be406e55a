import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadNativeFs, OpenField } from '../src/host/native-fs.js';
import { SafeRoot } from '../src/host/safe-root.js';
import { ShareFs } from '../src/host/share-fs.js';
import { lstatWireAt, toWireStat, versionOf, versionOfFields } from '../src/host/stat-convert.js';
import { RemoteFsError } from '../src/remote-fs-error.js';
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
    // For openRead (not part of the lstat comparison above).
    mkdirSync(join(root, 'sub', 'deeper'));
    writeFileSync(
      join(root, 'sub', 'deeper', 'nested.bin'),
      Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251)),
    );
    symlinkSync('sub', join(root, 'dirlink'));
    writeFileSync(join(dir.path, 'canary'), 'SECRET');
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

  it('openRead: opens down a path without following links, reads the range, keeps the fd open', async () => {
    const native = loadNativeFs()!;
    const fd = openSync(root, 'r');
    try {
      const r = await native.openRead(fd, ['sub', 'deeper', 'nested.bin'], 1000, 65536);
      assert.equal(r.fields[0], 0);
      assert.equal(r.fields[OpenField.failedAt], -1);
      const fileFd = r.fields[OpenField.fd]!;
      assert.ok(fileFd > 0);
      const want = versionOf(fstatSync(fileFd, { bigint: true }));
      closeSync(fileFd);
      assert.equal(versionOfFields(r.fields), want);
      const bytes = r.frame!.subarray(6);
      assert.equal(bytes.byteLength, 65536);
      for (let i = 0; i < 65536; i += 4099) assert.equal(bytes[i], (1000 + i) % 251);
      // Clipped to the file's end; past it, empty.
      const tail = await native.openRead(fd, ['sub', 'deeper', 'nested.bin'], 69_000, 65536);
      closeSync(tail.fields[OpenField.fd]!);
      assert.equal(tail.frame!.byteLength, 6 + 1000);
      const past = await native.openRead(fd, ['sub', 'deeper', 'nested.bin'], 80_000, 10);
      closeSync(past.fields[OpenField.fd]!);
      assert.equal(past.frame!.byteLength, 6);
      // A link on the way or at the end is not followed: ELOOP at its index, no fd left open.
      const viaLink = await native.openRead(fd, ['dirlink', 'deeper', 'nested.bin'], 0, 10);
      // (Linux answers ENOTDIR for a link opened O_DIRECTORY | O_NOFOLLOW, ELOOP without O_DIRECTORY.)
      assert.ok([constants.errno.ELOOP, constants.errno.ENOTDIR].includes(viaLink.fields[0]!));
      assert.equal(viaLink.fields[OpenField.failedAt], 0);
      assert.equal(viaLink.fields[OpenField.fd], -1);
      const finalLink = await native.openRead(fd, ['link-out'], 0, 10);
      assert.equal(finalLink.fields[0], constants.errno.ELOOP);
      const missing = await native.openRead(fd, ['sub', 'nope', 'x'], 0, 10);
      assert.equal(missing.fields[0], constants.errno.ENOENT);
      assert.equal(missing.fields[OpenField.failedAt], 1);
      // A directory or FIFO opens (O_NONBLOCK) and is reported, unread, for the caller to refuse.
      const d = await native.openRead(fd, ['sub'], 0, 10);
      assert.equal(d.frame, undefined);
      closeSync(d.fields[OpenField.fd]!);
      const fifo = await native.openRead(fd, ['fifo'], 0, 10);
      assert.equal(fifo.frame, undefined);
      closeSync(fifo.fields[OpenField.fd]!);
      for (const bad of [['..'], ['.'], ['sub/deeper'], [''], ['a\0b'], []])
        assert.throws(() => native.openRead(fd, bad, 0, 10), TypeError, JSON.stringify(bad));
      assert.throws(() => native.openRead(fd, ['plain.txt'], -1, 10), TypeError);
      assert.throws(() => native.openRead(fd, ['plain.txt'], 0, 2 ** 30), TypeError);
    } finally {
      closeSync(fd);
    }
  });

  it('ShareFs reads the same frames and errors with and without the helper', async () => {
    const safe = await SafeRoot.open(root);
    const withNative = new ShareFs(safe, 8, true);
    const withNodeFs = new ShareFs(safe, 8, false);
    const outcome = async (fs: ShareFs, path: string, offset: number, length: number, version?: string) => {
      try {
        return Buffer.from(await fs.readFrame(7, path, offset, length, version)).toString('base64');
      } catch (err) {
        return err instanceof RemoteFsError ? err.code : String(err);
      }
    };
    try {
      const v = toWireStat(lstatSync(join(root, 'sub', 'deeper', 'nested.bin'), { bigint: true })).version;
      const cases: Array<[string, number, number, string?]> = [
        ['sub/deeper/nested.bin', 0, 262144],
        ['sub/deeper/nested.bin', 5000, 4096, v],
        ['sub/deeper/nested.bin', 0, 16, 'stale-version'],
        ['dirlink/deeper/nested.bin', 100, 100],
        ['link-in', 0, 100],
        ['link-out', 0, 100],
        ['sub', 0, 100],
        ['fifo', 0, 100],
        ['missing', 0, 100],
        ['plain.txt', 99, 100],
        ['empty', 0, 100],
      ];
      for (const [path, offset, length, version] of cases) {
        // Each side fresh (no cached fd), so both take their first-read path.
        withNative.fds.invalidateAll();
        withNodeFs.fds.invalidateAll();
        const a = await outcome(withNative, path, offset, length, version);
        const b = await outcome(withNodeFs, path, offset, length, version);
        assert.equal(a, b, `${path} ${offset}+${length}`);
      }
      assert.equal(await outcome(withNative, 'link-out', 0, 10), 'EACCES', 'the canary stays outside');
    } finally {
      withNative.fds.close();
      withNodeFs.close();
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
