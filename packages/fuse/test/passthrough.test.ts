import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkPassthrough, isAvailable, LocalFileSystem, type Mount, mount } from '../src/index.js';
import { sh, tempDir, unmountAndRemove, waitFor } from './helpers.js';

const passthrough = checkPassthrough();
const skip = !isAvailable()
  ? 'FUSE is not available here (see checkFuse())'
  : !passthrough.ok
    ? `FUSE passthrough not usable here: ${passthrough.detail}`
    : false;

/** Counts the reads that reach the FileSystem; `offer` decides whether opens name a local copy. */
class CountingFs extends LocalFileSystem {
  reads = 0;
  offer = true;
  /** Named instead of the real copy when set (a path the kernel or open(2) must refuse). */
  bogus: string | undefined;
  override read(path: string, fh: number, offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    return super.read(path, fh, offset, length);
  }
  override passthroughPath(fh: number): string | undefined {
    if (!this.offer) return undefined;
    return this.bogus ?? super.passthroughPath(fh);
  }
}

for (const inProcess of [true, false])
  describe(`FUSE passthrough (${inProcess ? 'in-process' : 'helper process'})`, { skip }, () => {
    let base: string;
    let src: string;
    let mnt: string;
    let m: Mount | undefined;
    const fs = (): CountingFs => counting;
    let counting: CountingFs;
    const data = randomBytes(3 * 1024 * 1024 + 123);

    before(async () => {
      base = await tempDir('wh-pt-');
      src = join(base, 'src');
      mnt = join(base, 'mnt');
      await fsp.mkdir(src, { recursive: true });
      await fsp.writeFile(join(src, 'big.bin'), data);
      await fsp.writeFile(join(src, 'other.bin'), data.subarray(0, 1000));
      counting = new CountingFs(src, { passthrough: true });
      m = await mount(counting, mnt, { inProcess, binding: 'fuse3', kernelCache: 'none' });
    });

    after(() => unmountAndRemove(m, mnt, base));

    test('a file with a local copy is read by the kernel: same bytes, no read reaches the FileSystem', async () => {
      fs().reads = 0;
      assert.ok(data.equals(await fsp.readFile(join(mnt, 'big.bin'))));
      const r = await sh(
        `dd if='${mnt}/big.bin' of=/dev/null bs=4k skip=100 count=3 status=none && sha256sum '${mnt}/big.bin'`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs().reads, 0);
    });

    test('an inode open through the page cache stays that way: a second open with a copy is not refused', async () => {
      fs().offer = false;
      const held = await fsp.open(join(mnt, 'other.bin'));
      try {
        fs().offer = true;
        fs().reads = 0;
        // Mixing the two modes on one inode is ETXTBSY in the kernel; the binding must not ask.
        assert.ok(data.subarray(0, 1000).equals(await fsp.readFile(join(mnt, 'other.bin'))));
        assert.ok(fs().reads > 0);
      } finally {
        await held.close();
      }
    });

    test('while open in passthrough, a new open shares the copy; after invalidate the name opens anew', async () => {
      const held = await fsp.open(join(mnt, 'big.bin'));
      try {
        // The kernel makes every open of an inode in passthrough use its backing file.
        fs().offer = false;
        fs().reads = 0;
        assert.ok(data.equals(await fsp.readFile(join(mnt, 'big.bin'))));
        assert.equal(fs().reads, 0);
        // A changed file (the host's push): the name gets a new inode, opened the normal way.
        m!.invalidate('/big.bin');
        // Invalidations reach the kernel from their own thread: soon, not at once.
        assert.ok(
          await waitFor(async () => {
            fs().reads = 0;
            assert.ok(data.equals(await fsp.readFile(join(mnt, 'big.bin'))));
            return fs().reads > 0;
          }, 1000),
          'the new inode reads through the FileSystem',
        );
        const buf = Buffer.alloc(10);
        await held.read(buf, 0, 10, 4096);
        assert.ok(buf.equals(data.subarray(4096, 4106)), 'the open file still reads its copy');
      } finally {
        await held.close();
        fs().offer = true;
      }
      // The new inode has no open file left: a fresh open takes the copy again.
      fs().reads = 0;
      assert.ok(data.equals(await fsp.readFile(join(mnt, 'big.bin'))));
      assert.equal(fs().reads, 0);
    });

    test('a copy that cannot be opened or backed (missing, a directory, /proc) is an ordinary open', async () => {
      for (const bogus of [join(base, 'missing'), src, '/proc/self/status', 'relative/path', '']) {
        fs().bogus = bogus;
        fs().reads = 0;
        try {
          assert.ok(data.subarray(0, 1000).equals(await fsp.readFile(join(mnt, 'other.bin'))), bogus);
          assert.ok(fs().reads > 0, bogus);
        } finally {
          fs().bogus = undefined;
        }
      }
    });

    test('many concurrent opens of one file share its backing file', async () => {
      fs().reads = 0;
      const r = await sh(`for i in $(seq 8); do sha256sum '${mnt}/big.bin' & done; wait`);
      assert.equal(r.code, 0, r.stderr);
      const sums = new Set(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[0]),
      );
      assert.equal(sums.size, 1);
      assert.equal(fs().reads, 0);
    });
  });
