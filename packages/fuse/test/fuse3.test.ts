import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadFuse3 } from '../src/fuse3-addon.js';
import { isAvailable, LocalFileSystem, type Mount, mount } from '../src/index.js';
import { forceUnmount, sh, tempDir, unmountAndRemove, waitFor } from './helpers.js';

const loaded = loadFuse3();
const skip = !isAvailable()
  ? 'FUSE is not available here (see checkFuse())'
  : 'error' in loaded
    ? `libfuse3 binding not built: ${String(loaded.error)}`
    : false;

test('the libfuse3 binding is built to read requests on the JS thread (libuv header found)', { skip }, () => {
  assert.ok('addon' in loaded && loaded.addon.mainLoop);
});

// Each request loop runs the whole suite: `main` is the default, `thread` the fallback of builds
// without libuv's header.
for (const fuse3Loop of ['main', 'thread'] as const)
  describe(`libfuse3 binding (${fuse3Loop} loop)`, { skip }, () => {
    let base: string;
    let src: string;
    let mnt: string;
    let m: Mount | undefined;

    before(async () => {
      base = await tempDir('wh-fuse3-');
      src = join(base, 'src');
      mnt = join(base, 'mnt');
      await fsp.mkdir(join(src, 'docs'), { recursive: true });
      await fsp.writeFile(join(src, 'docs/a.txt'), 'first\n');
      for (let i = 0; i < 1500; i++) await fsp.writeFile(join(src, `docs/n${i}`), String(i));
      // Long kernel TTLs: only the binding's invalidation can make host changes show at once.
      m = await mount(new LocalFileSystem(src, { writable: true }), mnt, {
        inProcess: true,
        binding: 'fuse3',
        fuse3Loop,
        attrTimeoutS: 60,
        entryTimeoutS: 60,
        attrCacheTtlMs: 60_000,
      });
    });

    after(() => unmountAndRemove(m, mnt, base));

    test('a directory of 1,500 entries lists with types and sizes across readdir pages', async () => {
      const ls = await sh(
        `ls -l '${mnt}/docs' | tail -n +2 | wc -l; find '${mnt}/docs' -type f | wc -l; stat -c %s '${mnt}/docs/n1499'`,
      );
      assert.equal(ls.code, 0, ls.stderr);
      assert.deepEqual(ls.stdout.trim().split('\n'), ['1501', '1501', '4']);
    });

    test('with 60 s kernel TTLs, a host edit, a new file and a removal show at once after invalidate()', async () => {
      assert.equal((await sh(`cat '${mnt}/docs/a.txt'`)).stdout, 'first\n');
      await fsp.writeFile(join(src, 'docs/a.txt'), 'second, longer\n');
      m!.invalidate('/docs/a.txt');
      assert.ok(
        await waitFor(async () => (await sh(`cat '${mnt}/docs/a.txt'`)).stdout === 'second, longer\n', 1000),
      );

      assert.equal((await sh(`stat '${mnt}/docs/fresh'`)).code, 1);
      await fsp.writeFile(join(src, 'docs/fresh'), 'new');
      m!.invalidate('/docs/fresh');
      assert.ok(await waitFor(async () => (await sh(`cat '${mnt}/docs/fresh'`)).stdout === 'new', 1000));

      await fsp.rm(join(src, 'docs/fresh'));
      m!.invalidate('/docs/fresh');
      assert.ok(await waitFor(async () => (await sh(`stat '${mnt}/docs/fresh'`)).code !== 0, 1000));
    });

    test('invalidateData drops just that range of the page cache; bad ranges are refused', async () => {
      const file = join(src, 'range.bin');
      const old = Buffer.alloc(3 * 65536, 1);
      await fsp.writeFile(file, old);
      const { mtime } = await fsp.stat(file);
      assert.ok(old.equals(await fsp.readFile(join(mnt, 'range.bin'))));
      // New bytes behind the kernel's back, same size and mtime: the page cache keeps the old.
      await fsp.writeFile(file, Buffer.alloc(3 * 65536, 2));
      await fsp.utimes(file, mtime, mtime);
      assert.ok(old.equals(await fsp.readFile(join(mnt, 'range.bin'))));
      m!.invalidateData('/range.bin', 65536, 65536);
      const expect = Buffer.concat([Buffer.alloc(65536, 1), Buffer.alloc(65536, 2), Buffer.alloc(65536, 1)]);
      assert.ok(
        await waitFor(async () => expect.equals(await fsp.readFile(join(mnt, 'range.bin'))), 1000),
        'only the middle range is read again',
      );
      assert.ok('addon' in loaded);
      for (const [off, len] of [
        [0, 0],
        [-1, 10],
        [0, Number.NaN],
        [2 ** 53, 1],
      ] as const)
        m!.invalidateData('/range.bin', off, len); // ignored, no throw
      m!.invalidateData('/no/such/file', 0, 10);
    });

    test('storeData puts bytes into the page cache: reads of them never reach the FileSystem', async () => {
      await fsp.writeFile(join(src, 'stored.bin'), Buffer.alloc(65536, 1));
      const head = async () =>
        (await sh(`head -c 4 '${mnt}/stored.bin' | od -An -tu1`)).stdout.trim().split(/\s+/).join(' ');
      assert.equal(
        m!.storeData('/stored.bin', 0, Buffer.alloc(16384, 9)),
        false,
        'not known to the kernel yet',
      );
      await fsp.stat(join(mnt, 'stored.bin'));
      // Bytes unlike the file's: seeing them proves the kernel answered from what was stored.
      assert.equal(m!.storeData('/stored.bin', 0, Buffer.alloc(16384, 9)), true);
      assert.ok(await waitFor(async () => (await head()) === '9 9 9 9', 1000), 'the stored bytes');
      const whole = await fsp.readFile(join(mnt, 'stored.bin'));
      assert.ok(
        whole.subarray(0, 16384).every((b) => b === 9) && whole.subarray(16384).every((b) => b === 1),
      );
      // An invalidation drops them: the file's own bytes again.
      m!.invalidate('/stored.bin');
      assert.ok(await waitFor(async () => (await head()) === '1 1 1 1', 1000));
      for (const [off, bytes] of [
        [-1, Buffer.alloc(10)],
        [Number.NaN, Buffer.alloc(10)],
        [0, new Uint8Array(0)],
        [0, new Uint8Array(2 ** 20 + 1)],
        [2 ** 53, Buffer.alloc(10)],
        [0, new Float64Array(4) as unknown as Uint8Array],
      ] as const)
        assert.equal(
          m!.storeData('/stored.bin', off, bytes),
          false,
          `refused: offset ${off}, ${bytes.byteLength} bytes`,
        );
      assert.equal(m!.storeData('/no/such/file', 0, Buffer.alloc(10)), false);
    });

    test('writes: create, append, truncate, chmod, touch, mkdir, rename, cp -a, rm', async () => {
      const script = [
        `cd '${mnt}'`,
        'printf hello > w.txt',
        'printf " world" >> w.txt',
        'mkdir -p made/deeper',
        'mv w.txt made/deeper/moved.txt',
        'chmod 600 made/deeper/moved.txt',
        'touch -d "2020-01-02 03:04:05 UTC" made/deeper/moved.txt',
        'cp -a docs copied',
        'truncate -s 3 copied/a.txt',
        'rm copied/n0 && rmdir made/deeper 2>/dev/null; echo done',
      ].join(' && ');
      const r = await sh(script);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await fsp.readFile(join(src, 'made/deeper/moved.txt'), 'utf8'), 'hello world');
      const st = await fsp.stat(join(src, 'made/deeper/moved.txt'));
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
      assert.equal(await fsp.readFile(join(src, 'copied/a.txt'), 'utf8'), 'sec');
      assert.equal((await fsp.readdir(join(src, 'copied'))).length, 1500);
      // The renamed file is reachable under its new name only, through the mount too.
      assert.equal((await sh(`cat '${mnt}/made/deeper/moved.txt'`)).stdout, 'hello world');
      assert.notEqual((await sh(`stat '${mnt}/w.txt'`)).code, 0);
      assert.notEqual((await sh(`rmdir '${mnt}/made'`)).code, 0); // not empty: ENOTEMPTY from the FileSystem
    });

    test('forged, repeated and malformed replies are refused; the request still gets its one answer', async () => {
      assert.ok('addon' in loaded);
      const { addon } = loaded;
      assert.throws(() => addon.replyErr({} as never, 1, 0), /mount handle/);
      const raw = join(base, 'raw');
      await fsp.mkdir(raw);
      const refused: boolean[] = [];
      let h: ReturnType<typeof addon.mount> | undefined;
      let done: () => void = () => {};
      const exited = new Promise<void>((r) => {
        done = r;
      });
      h = addon.mount(
        raw,
        ['-o', 'fsname=raw,subtype=wormhole,ro'],
        true,
        (op, id, path) => {
          for (const bad of [id + 1, id - 1, id + 2 ** 22, -1, Number.NaN, 2 ** 53, 1e300, 0.5])
            refused.push(addon.replyErr(h!, bad, 0));
          refused.push(addon.replyData(h!, id + 1, 'text' as never));
          if (op === 1 && path.endsWith('/throws')) throw new Error('a handler bug'); // answered EIO
          if (op === 1 && path.endsWith('/badtype')) {
            // The right id with a wrong argument: a TypeError here, EIO for the request.
            refused.push(
              !(() => {
                try {
                  addon.replyEntry(h!, id, 'attr' as never, 1, 1);
                  return false;
                } catch {
                  return true;
                }
              })(),
            );
            refused.push(addon.replyErr(h!, id, 0));
            return;
          }
          // ENOENT for every lookup; getattr of the root gets a directory.
          if (op === 2)
            refused.push(!addon.replyAttr(h!, id, Float64Array.of(0o40755, 0, 0, 0, 0, 2, 0, 0, 0), 0));
          else refused.push(!addon.replyErr(h!, id, 2));
          refused.push(addon.replyErr(h!, id, 0)); // a second answer
        },
        () => {
          addon.destroy(h!);
          done();
        },
      );
      try {
        const r = await sh(
          `stat -c %F '${raw}'; stat '${raw}/nothing'; stat '${raw}/throws'; stat '${raw}/badtype'; ls '${raw}'`,
        );
        assert.match(r.stdout, /^directory/);
        assert.match(r.stderr, /nothing': No such file/);
        assert.match(r.stderr, /throws': Input\/output error/);
        assert.match(r.stderr, /badtype': Input\/output error/);
        assert.ok(refused.length > 10);
        assert.deepEqual(new Set(refused), new Set([false]));
        assert.deepEqual(addon.stats(h).slice(0, 2), [0, 0]);
      } finally {
        addon.exit(h);
        await forceUnmount(raw);
        await exited;
      }
    });

    test('a FileSystem with readv: pieces are gathered into one reply, bytes beyond the request dropped', async () => {
      const big = join(src, 'pieces.bin');
      await fsp.writeFile(big, randomBytes(3 * 1024 * 1024 + 123));
      class PiecesFs extends LocalFileSystem {
        calls = 0;
        async readv(path: string, fh: number, offset: number, length: number): Promise<Uint8Array[]> {
          this.calls++;
          const all = await this.read(path, fh, offset, length + 7); // 7 bytes too many on purpose
          const third = Math.floor(all.byteLength / 3);
          return [
            all.subarray(0, third),
            new Uint8Array(0),
            all.subarray(third, 2 * third),
            all.subarray(2 * third),
          ];
        }
      }
      const pfs = new PiecesFs(src);
      const other = join(base, 'pieces');
      const m2 = await mount(pfs, other, { inProcess: true, binding: 'fuse3', fuse3Loop });
      try {
        const [a, b] = await Promise.all([
          sh(`sha256sum < '${other}/pieces.bin'`),
          sh(`sha256sum < '${big}'`),
        ]);
        assert.equal(a.stdout, b.stdout);
        assert.ok(pfs.calls > 0, 'readv was used');
      } finally {
        await m2.unmount();
        await forceUnmount(other);
      }
    });

    test('an unmount from outside ends the mount, which reports it', async () => {
      const other = join(base, 'other');
      const m2 = await mount(new LocalFileSystem(join(src, 'docs')), other, {
        inProcess: true,
        binding: 'fuse3',
        fuse3Loop,
      });
      const gone = new Promise<void>((r) => m2.once('unmounted', () => r()));
      try {
        assert.equal((await sh(`fusermount3 -u '${other}'`)).code, 0);
        await Promise.race([
          gone,
          new Promise((_, j) => setTimeout(() => j(new Error('no unmounted event')), 5000)),
        ]);
        assert.equal(m2.mounted, false);
      } finally {
        await m2.unmount();
        await forceUnmount(other);
      }
    });
  });
