import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { AttrCache } from '../src/attr-cache.js';
import type { Attr } from '../src/index.js';
import {
  ERRNO,
  errnoError,
  errnoFromError,
  errnoName,
  errnoOf,
  evaluatePassthrough,
  evaluatePlatform,
  type PlatformProbe,
} from '../src/index.js';
import { parseFuseMounts } from '../src/mountpoint.js';
import { FrameSplitter, KIND_REQUEST, Reader, Writer } from '../src/wire.js';

describe('errno table', () => {
  test('names map to this OS’s negative errnos; unknown and transport failures become EIO', () => {
    assert.equal(errnoOf('ENOENT'), -constants.errno.ENOENT);
    assert.equal(errnoOf('EACCES'), -constants.errno.EACCES);
    assert.equal(errnoOf('EROFS'), -constants.errno.EROFS);
    assert.equal(errnoOf('EWHATEVER'), -constants.errno.EIO);
    assert.equal(errnoOf('ENOTCONN'), -constants.errno.EIO);
    assert.equal(errnoOf('ETIMEDOUT'), -constants.errno.EIO);
    assert.equal(ERRNO.ENOTDIR, -constants.errno.ENOTDIR);
    assert.equal(errnoFromError(errnoError('EISDIR')), -constants.errno.EISDIR);
    assert.equal(errnoFromError(new Error('no code')), -constants.errno.EIO);
    assert.equal(errnoFromError('a string'), -constants.errno.EIO);
    assert.equal(errnoFromError({ code: 42 }), -constants.errno.EIO);
    assert.equal(errnoName(-constants.errno.ENOENT), 'ENOENT');
    assert.equal(errnoName(-9999), 'EIO');
  });
});

describe('platform decision logic', () => {
  const linuxOk: PlatformProbe = {
    platform: 'linux',
    distroIds: ['debian'],
    devFuse: 'ok',
    fusermount: true,
    fusermount3: true,
    nativeLoaded: true,
    fuse3Loaded: true,
    macfuse: false,
    fuseT: false,
    winfsp: false,
  };
  test('linux with everything present is available', () => {
    const r = evaluatePlatform(linuxOk);
    assert.equal(r.available, true);
    assert.ok(r.checks.every((c) => c.ok && c.fix === undefined));
  });
  test('linux without libfuse.so.2 names the package per distribution', () => {
    const err = 'libfuse.so.2: cannot open shared object file: No such file or directory';
    const fix = (ids: string[]) =>
      evaluatePlatform({
        ...linuxOk,
        distroIds: ids,
        nativeLoaded: false,
        nativeError: err,
        fuse3Loaded: false,
        fuse3Error: 'libfuse3.so.3: cannot open shared object file',
      }).checks.find((c) => !c.ok)?.fix;
    assert.equal(fix(['ubuntu', 'debian']), 'apt-get install libfuse2 fuse3');
    assert.equal(fix(['fedora']), 'dnf install fuse fuse-libs');
    assert.equal(fix(['arch']), 'pacman -S fuse2 fuse3');
    assert.match(fix(['gentoo']) ?? '', /apt-get install libfuse2 fuse3/);
  });
  test('linux: one binding is enough; an unbuilt libfuse3 binding names the build packages', () => {
    const noFuse3 = {
      ...linuxOk,
      fuse3Loaded: false,
      fuse3Error: "Cannot find module '../native/build/x.node'",
    };
    assert.equal(evaluatePlatform(noFuse3).available, true);
    assert.match(
      evaluatePlatform(noFuse3).checks.find((c) => c.name === 'libfuse3 binding')?.detail ?? '',
      /fuse-native serves/,
    );
    const neither = evaluatePlatform({
      ...noFuse3,
      nativeLoaded: false,
      nativeError: 'Cannot find module fuse-native',
    });
    assert.equal(neither.available, false);
    assert.match(neither.checks.find((c) => c.name === 'libfuse3 binding')?.fix ?? '', /libfuse3-dev/);
    assert.equal(evaluatePlatform({ ...linuxOk, nativeLoaded: false, nativeError: 'x' }).available, true);
  });
  test('linux: missing /dev/fuse and fusermount are reported with fixes', () => {
    const r = evaluatePlatform({ ...linuxOk, devFuse: 'missing', fusermount: false, fusermount3: false });
    assert.equal(r.available, false);
    assert.match(r.checks.find((c) => c.name === '/dev/fuse')?.fix ?? '', /modprobe fuse/);
    assert.equal(r.checks.find((c) => c.name === 'fusermount')?.fix, 'apt-get install libfuse2 fuse3');
    const na = evaluatePlatform({ ...linuxOk, devFuse: 'no-access' });
    assert.match(na.checks[0]?.fix ?? '', /chmod/);
  });
  test('macOS needs macFUSE or FUSE-T', () => {
    const mac = { ...linuxOk, platform: 'darwin' as const, distroIds: [] };
    assert.equal(evaluatePlatform({ ...mac, macfuse: true }).available, true);
    assert.equal(evaluatePlatform({ ...mac, fuseT: true }).available, true);
    const none = evaluatePlatform({ ...mac, nativeLoaded: false });
    assert.equal(none.available, false);
    assert.match(none.checks[0]?.fix ?? '', /macfuse/);
  });
  test('Windows needs WinFsp and says mounting is not supported yet without a binding', () => {
    const win = { ...linuxOk, platform: 'win32' as const, nativeLoaded: false };
    const r = evaluatePlatform(win);
    assert.equal(r.available, false);
    assert.match(r.checks[0]?.fix ?? '', /WinFsp/);
    assert.equal(evaluatePlatform({ ...win, winfsp: true }).checks[0]?.ok, true);
    assert.equal(evaluatePlatform({ ...linuxOk, platform: 'freebsd' }).available, false);
  });
});

describe('FUSE passthrough decision', () => {
  const base = { platform: 'linux' as const, release: '6.18.44-fc-v657', uid: 0, binding: true };
  test('Linux >= 6.9, root, the libfuse3 binding: available', () => {
    assert.equal(evaluatePassthrough(base).ok, true);
    assert.equal(evaluatePassthrough({ ...base, release: '6.9.0' }).ok, true);
    assert.equal(evaluatePassthrough({ ...base, release: '7.0.1' }).ok, true);
  });
  test('each missing piece is named', () => {
    assert.match(evaluatePassthrough({ ...base, release: '6.8.12' }).detail, /6\.9/);
    assert.match(evaluatePassthrough({ ...base, release: '5.15.0-91-generic' }).detail, /6\.9/);
    assert.match(evaluatePassthrough({ ...base, release: '' }).detail, /6\.9/);
    assert.match(evaluatePassthrough({ ...base, uid: 1000 }).detail, /not root/);
    assert.match(evaluatePassthrough({ ...base, binding: false }).detail, /libfuse3 binding/);
    assert.match(evaluatePassthrough({ ...base, platform: 'darwin' }).detail, /Linux-only/);
    for (const p of [
      { ...base, uid: 1000 },
      { ...base, binding: false },
      { ...base, release: '6.1' },
    ])
      assert.equal(evaluatePassthrough(p).ok, false);
  });
});

describe('mountinfo parsing', () => {
  test('finds fuse mounts with connection number and unescaped paths', () => {
    const text = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '90 22 0:52 / /tmp/a\\040b rw,nosuid,nodev,relatime shared:50 - fuse.wormhole wormhole rw,user_id=0,group_id=0',
      '91 22 0:53 / /mnt/x rw - fuse sshfs#host rw',
      '92 22 0:20 / /sys/fs/fuse/connections rw - fusectl fusectl rw',
    ].join('\n');
    const m = parseFuseMounts(text);
    assert.deepEqual(
      m.map((x) => [x.mountpoint, x.connection, x.fstype]),
      [
        ['/tmp/a b', 52, 'fuse.wormhole'],
        ['/mnt/x', 53, 'fuse'],
      ],
    );
  });
});

describe('wire frames', () => {
  test('frames split across and packed into chunks decode identically', () => {
    const frames = Array.from({ length: 50 }, (_, i) =>
      new Writer(8)
        .u8(i)
        .str(`/path/${'x'.repeat(i * 37)}`)
        .f64(i * 1e9)
        .finish(KIND_REQUEST, i + 1),
    );
    const all = Buffer.concat(frames);
    for (const size of [1, 3, 7, 64, 1000, all.length]) {
      const got: Array<[number, number, string, number]> = [];
      const s = new FrameSplitter();
      for (let p = 0; p < all.length; p += size)
        s.push(all.subarray(p, p + size), (f) => {
          const r = new Reader(f.body);
          got.push([f.id, r.u8(), r.str(), r.f64()]);
        });
      assert.equal(got.length, 50, `chunk ${size}`);
      for (const [i, [id, op, path, n]] of got.entries()) {
        assert.deepEqual([id, op, path, n], [i + 1, i, `/path/${'x'.repeat(i * 37)}`, i * 1e9]);
      }
    }
  });
  test('a bad length is a protocol error', () => {
    assert.throws(
      () => new FrameSplitter().push(Buffer.from([1, 0, 0, 0, 0]), () => {}),
      (e: unknown) => (e as { code?: string }).code === 'FUSE_PROTOCOL',
    );
  });
});

describe('attribute cache', () => {
  const attr = (size: number): Attr => ({
    mode: 0o100644,
    size,
    mtimeMs: 0,
    atimeMs: 0,
    ctimeMs: 0,
    nlink: 1,
  });

  test('serves entries of a listing by path, and the newer of a listing and a single answer', async () => {
    const c = new AttrCache(60_000);
    c.setListing('/', [{ name: 'a', attr: attr(1) }, { name: 'dir' }]);
    c.setListing('/dir', [{ name: 'b c', attr: attr(2) }]);
    assert.equal(c.get('/a')?.size, 1);
    assert.equal(c.get('/dir/b c')?.size, 2);
    assert.equal(c.get('/dir'), undefined, 'an entry listed without attributes is not invented');
    assert.equal(c.get('/missing'), undefined);
    assert.equal(c.get('/'), undefined);
    await new Promise((r) => setTimeout(r, 2));
    c.set('/a', attr(10));
    assert.equal(c.get('/a')?.size, 10, 'a later getattr answer wins over the listing');
    await new Promise((r) => setTimeout(r, 2));
    c.setListing('/', [{ name: 'a', attr: attr(20) }]);
    assert.equal(c.get('/a')?.size, 20, 'a later listing wins over an earlier answer');
  });

  test('invalidating a path drops it, what is below it, and its parent listing', () => {
    const c = new AttrCache(60_000);
    c.setListing('/', [
      { name: 'd', attr: attr(0) },
      { name: 'e', attr: attr(5) },
    ]);
    c.setListing('/d', [{ name: 'f', attr: attr(1) }]);
    c.set('/d/f', attr(1));
    c.set('/d/g/h', attr(3));
    c.invalidate('/d');
    assert.equal(c.get('/d'), undefined);
    assert.equal(c.get('/d/f'), undefined);
    assert.equal(c.get('/d/g/h'), undefined);
    assert.equal(c.get('/e'), undefined, 'the parent listing went too (it carried /d)');
    c.setListing('/', [{ name: 'e', attr: attr(5) }]);
    c.clear();
    assert.equal(c.get('/e'), undefined);
    assert.equal(c.size, 0);
  });

  test('expires after its TTL; a zero TTL caches nothing', async () => {
    const c = new AttrCache(5);
    c.setListing('/', [{ name: 'a', attr: attr(1) }]);
    c.set('/b', attr(2));
    assert.equal(c.get('/a')?.size, 1);
    await new Promise((r) => setTimeout(r, 15));
    assert.equal(c.get('/a'), undefined);
    assert.equal(c.get('/b'), undefined);
    const off = new AttrCache(0);
    off.setListing('/', [{ name: 'a', attr: attr(1) }]);
    off.set('/b', attr(2));
    assert.equal(off.get('/a'), undefined);
    assert.equal(off.size, 0);
  });
});
