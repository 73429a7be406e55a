import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadFuse3 } from '../src/fuse3-addon.js';
import {
  type DirEntry,
  errnoError,
  type FileSystem,
  FuseError,
  findFuseMount,
  isAvailable,
  LocalFileSystem,
  type Mount,
  mount,
} from '../src/index.js';
import { forceUnmount, sh, tempDir, unmountAndRemove, waitFor } from './helpers.js';

const skip = isAvailable() ? false : 'FUSE is not available here (see checkFuse())';
// Both bindings run the same suite; the libfuse3 one only where native/build.mjs built it.
const BINDINGS = [
  ['fuse3', loadFuse3Error() ?? false],
  ['fuse-native', false],
] as const;

function loadFuse3Error(): string | undefined {
  const r = loadFuse3();
  return 'error' in r ? `libfuse3 binding not built: ${String(r.error)}` : undefined;
}

/** LocalFileSystem that denies /secret* and counts reads in flight. */
class TestFs extends LocalFileSystem {
  inFlight = 0;
  peak = 0;
  readDelayMs = 0;

  override async getattr(path: string) {
    if (path.startsWith('/secret')) throw errnoError('EACCES');
    return super.getattr(path);
  }

  override async read(path: string, fh: number, offset: number, length: number) {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs));
      return await super.read(path, fh, offset, length);
    } finally {
      this.inFlight--;
    }
  }
}

for (const [binding, skipBinding] of BINDINGS)
  describe(`mount through the helper process (${binding})`, { skip: skip || skipBinding }, () => {
    let base: string;
    let src: string;
    let mnt: string;
    let fs: TestFs;
    let m: Mount | undefined;

    before(async () => {
      base = await tempDir('wh-fuse-');
      src = join(base, 'src');
      mnt = join(base, 'mnt'); // does not exist yet: mount() creates it
      await fsp.mkdir(join(src, 'dir one/nested/deeper'), { recursive: true });
      await fsp.writeFile(join(src, 'hello.txt'), 'hello world\n');
      await fsp.writeFile(join(src, 'dir one/ünïcode file.txt'), 'ü\n');
      await fsp.writeFile(join(src, 'dir one/nested/deeper/leaf'), 'leaf\n');
      await fsp.chmod(join(src, 'hello.txt'), 0o640);
      await fsp.symlink('hello.txt', join(src, 'link'));
      await fsp.symlink('../hello.txt', join(src, 'dir one/up'));
      await fsp.link(join(src, 'hello.txt'), join(src, 'hard'));
      const big = await fsp.open(join(src, 'big.bin'), 'w');
      for (let i = 0; i < 8; i++) await big.write(randomBytes(8 * 1024 * 1024));
      await big.close();
      for (let i = 0; i < 20; i++) await fsp.writeFile(join(src, `dir one/f${i}`), randomBytes(4096));
      // Read by nothing but the concurrency test, so the page cache cannot answer for them.
      await fsp.mkdir(join(src, 'conc'));
      for (let i = 0; i < 100; i++) await fsp.writeFile(join(src, `conc/f${i}`), randomBytes(4096));
      fs = new TestFs(src);
      m = await mount(fs, mnt, { attrTimeoutS: 0.5, entryTimeoutS: 0.5, binding });
    });

    after(() => unmountAndRemove(m, mnt, base));

    test('runs in a helper process and is listed as a fuse mount', async () => {
      assert.equal(m!.mode, 'helper');
      assert.ok(m!.pid !== undefined && m!.pid !== process.pid);
      const info = findFuseMount(mnt);
      assert.ok(info);
      assert.equal(info.fstype, 'fuse.wormhole');
      assert.match((await sh(`mount | grep ' ${mnt} '`)).stdout, /\bro\b/);
    });

    test('ls -l, stat, find, readlink show the tree faithfully', async () => {
      const ls = await sh(`ls -l '${mnt}'`);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /-rw-r-----\s+2 .* 12 .* hello\.txt/);
      assert.match(ls.stdout, /link -> hello\.txt/);
      const found = (await sh(`cd '${mnt}' && find . | sort`)).stdout;
      const expected = (await sh(`cd '${src}' && find . | sort`)).stdout;
      assert.equal(found, expected);
      assert.equal((await sh(`readlink '${mnt}/dir one/up'`)).stdout.trim(), '../hello.txt');
      for (const rel of ['hello.txt', 'big.bin', 'dir one', 'link', 'dir one/nested/deeper/leaf']) {
        const a = lstatSync(join(src, rel));
        const b = lstatSync(join(mnt, rel));
        assert.equal(b.mode, a.mode, rel);
        assert.equal(b.size, a.size, rel);
        assert.equal(b.nlink, a.nlink, rel);
        assert.equal(b.blocks, a.blocks, rel);
        assert.equal(Math.floor(b.mtimeMs), Math.floor(a.mtimeMs), rel);
        assert.equal(b.uid, process.getuid!());
      }
      const du = Number.parseInt((await sh(`du -sk '${mnt}'`)).stdout, 10);
      assert.ok(du > 60_000, `du says ${du} KiB`);
      const st = await sh(`stat -c '%s %h %a %F' '${mnt}/hello.txt'`);
      assert.equal(st.stdout.trim(), '12 2 640 regular file');
    });

    test('cat, sha256sum of 64 MiB, cp -a and tar c are byte-identical', async () => {
      assert.equal((await sh(`cat '${mnt}/hello.txt'`)).stdout, 'hello world\n');
      const a = (await sh(`cd '${src}' && sha256sum big.bin`)).stdout;
      const b = (await sh(`cd '${mnt}' && sha256sum big.bin`)).stdout;
      assert.equal(b, a);
      const out = join(base, 'copy');
      const cp = await sh(
        `cp -a '${mnt}/dir one' '${out}' && diff -r --no-dereference '${src}/dir one' '${out}' && readlink '${out}/up'`,
      );
      assert.equal(cp.code, 0, cp.stderr);
      assert.equal(cp.stdout.trim(), '../hello.txt');
      const tarA = await sh(
        `tar c -C '${src}' --sort=name --mtime=@0 --owner=0 --group=0 'dir one' | sha256sum`,
      );
      const tarB = await sh(
        `tar c -C '${mnt}' --sort=name --mtime=@0 --owner=0 --group=0 'dir one' | sha256sum`,
      );
      assert.equal(tarB.stdout, tarA.stdout);
    });

    test('errors map to the right errno', async () => {
      assert.match((await sh(`cat '${mnt}/missing'`)).stderr, /No such file or directory/);
      assert.match((await sh(`cat '${mnt}/secret'`)).stderr, /Permission denied/);
      assert.match((await sh(`cat '${mnt}/dir one'`)).stderr, /Is a directory/);
      assert.match((await sh(`ls '${mnt}/hello.txt/x'`)).stderr, /Not a directory/);
      assert.match((await sh(`touch '${mnt}/new'`)).stderr, /Read-only file system/);
      assert.match((await sh(`echo x >> '${mnt}/hello.txt'`)).stderr, /Read-only file system/);
    });

    test('100 concurrent reads are in flight at once and all return the right bytes', async () => {
      fs.readDelayMs = 150;
      fs.peak = 0;
      try {
        // One process with a big thread pool issues 100 reads at once (uncached 4 KiB files).
        const script = `
        const fs = require('node:fs/promises');
        const crypto = require('node:crypto');
        const base = process.argv[1];
        Promise.all(Array.from({ length: 100 }, (_, i) => fs.readFile(base + '/f' + i)))
          .then((bufs) => console.log(bufs.map((b) => crypto.createHash('sha256').update(b).digest('hex')).join(',')));`;
        const t0 = performance.now();
        const r = await sh(`UV_THREADPOOL_SIZE=100 node -e "${script.replaceAll('"', '\\"')}" '${mnt}/conc'`);
        const elapsed = performance.now() - t0;
        assert.equal(r.code, 0, r.stderr);
        const local = await Promise.all(
          Array.from({ length: 100 }, async (_, i) =>
            (await import('node:crypto'))
              .createHash('sha256')
              .update(await fsp.readFile(join(src, `conc/f${i}`)))
              .digest('hex'),
          ),
        );
        assert.equal(r.stdout.trim(), local.join(','));
        assert.ok(fs.peak >= 10, `peak reads in flight ${fs.peak}`);
        // Serially 100 × 150 ms would be 15 s.
        assert.ok(elapsed < 8000, `took ${elapsed} ms`);
      } finally {
        fs.readDelayMs = 0;
      }
    });

    test('a host-side change is visible within 1 s after invalidate()', async () => {
      const file = join(src, 'dir one/nested/deeper/leaf');
      assert.equal((await sh(`cat '${mnt}/dir one/nested/deeper/leaf'`)).stdout, 'leaf\n');
      await fsp.writeFile(file, 'changed on the host\n');
      const t0 = performance.now();
      m!.invalidate('/dir one/nested/deeper/leaf');
      const seen = await waitFor(
        async () => (await sh(`cat '${mnt}/dir one/nested/deeper/leaf'`)).stdout === 'changed on the host\n',
        1000,
      );
      assert.ok(seen, `not visible after ${performance.now() - t0} ms`);
    });
  });

describe('mount lifecycle and failures', { skip }, () => {
  test('a non-empty mount point is refused; a missing one is created', async () => {
    const base = await tempDir('wh-fuse-');
    try {
      await fsp.mkdir(join(base, 'full'));
      await fsp.writeFile(join(base, 'full/x'), 'x');
      await assert.rejects(
        mount(new LocalFileSystem(base), join(base, 'full')),
        (err: unknown) => err instanceof FuseError && err.code === 'FUSE_MOUNTPOINT_NOT_EMPTY',
      );
      await fsp.writeFile(join(base, 'file'), 'x');
      await assert.rejects(
        mount(new LocalFileSystem(base), join(base, 'file')),
        (err: unknown) => err instanceof FuseError && err.code === 'FUSE_MOUNTPOINT_NOT_DIRECTORY',
      );
      const m = await mount(new LocalFileSystem(join(base, 'full')), join(base, 'a/b/new'), {
        inProcess: true,
      });
      try {
        assert.equal(m.mode, 'in-process');
        assert.equal((await sh(`cat '${base}/a/b/new/x'`)).stdout, 'x');
        // Mounting again on a live mount is refused.
        await assert.rejects(
          mount(new LocalFileSystem(base), join(base, 'a/b/new')),
          (err: unknown) => err instanceof FuseError && err.code === 'FUSE_MOUNTPOINT_IN_USE',
        );
      } finally {
        await m.unmount();
        await forceUnmount(join(base, 'a/b/new'));
      }
      assert.equal(findFuseMount(join(base, 'a/b/new')), undefined);
      await m.unmount(); // idempotent
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });

  test('a hanging FileSystem gives EIO within the bound; ls does not hang; unmount works', async () => {
    const base = await tempDir('wh-fuse-');
    const mnt = join(base, 'mnt');
    const never = new Promise<never>(() => {});
    const fs: FileSystem = {
      getattr: async (p) => {
        if (p === '/' || p === '/dir')
          return { mode: 0o40755, size: 0, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, nlink: 2 };
        if (p === '/file')
          return { mode: 0o100644, size: 1 << 20, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, nlink: 1 };
        if (p === '/gone') throw errnoError('ENOTCONN');
        return never;
      },
      readdir: async (p): Promise<DirEntry[]> => (p === '/' ? [{ name: 'dir' }, { name: 'file' }] : never),
      open: async () => 1,
      read: () => never,
      release: async () => {},
      readlink: () => never,
      statfs: () => never,
    };
    const m = await mount(fs, mnt, { opTimeoutMs: 1500 });
    try {
      let t0 = performance.now();
      const cat = await sh(`cat '${mnt}/file'`, 10_000);
      let took = performance.now() - t0;
      assert.match(cat.stderr, /Input\/output error/);
      assert.ok(took < 4000, `cat took ${took} ms`);
      t0 = performance.now();
      const ls = await sh(`ls '${mnt}/dir'`, 10_000);
      took = performance.now() - t0;
      assert.match(ls.stderr, /Input\/output error/);
      assert.ok(took < 4000, `ls took ${took} ms`);
      // A dropped backend (ENOTCONN) surfaces as EIO, never as a "stale mount" error.
      assert.match((await sh(`stat '${mnt}/gone'`)).stderr, /Input\/output error/);
      assert.equal((await sh(`ls '${mnt}'`, 5000)).stdout, 'dir\nfile\n');
    } finally {
      const t0 = performance.now();
      await m.unmount();
      assert.ok(performance.now() - t0 < 8000);
      await forceUnmount(mnt);
      await fsp.rm(base, { recursive: true, force: true });
    }
    assert.equal(findFuseMount(mnt), undefined);
  });

  test('kill -9 of the helper: autoUnmount drops the mount and the Mount reports it', async () => {
    const base = await tempDir('wh-fuse-');
    const mnt = join(base, 'mnt');
    await fsp.mkdir(join(base, 'src'));
    const m = await mount(new LocalFileSystem(join(base, 'src')), mnt);
    try {
      const errors: FuseError[] = [];
      m.on('error', (e) => errors.push(e));
      const gone = new Promise<void>((r) => m.once('unmounted', r));
      process.kill(m.pid!, 'SIGKILL');
      await gone;
      assert.equal(m.mounted, false);
      assert.equal(errors[0]?.code, 'FUSE_HELPER_EXITED');
      assert.ok(await waitFor(() => findFuseMount(mnt) === undefined, 3000));
    } finally {
      await forceUnmount(mnt);
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});
