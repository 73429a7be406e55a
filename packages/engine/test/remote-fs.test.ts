import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FrameKind } from '@wormhole/protocol';
import { createRemoteFs, createShareHost, EngineError, RemoteFsError } from '../src/index.js';
import { type Served, serve, tempDir } from './helpers/fixture.js';
import { dialChannel, listenChannels } from './helpers/net-channel.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('RemoteFs against a ShareHost over a real socket', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Served;
  const big = randomBytes(3 * 1024 * 1024 + 12345);

  before(async () => {
    dir = await tempDir();
    const root = join(dir.path, 'share');
    await mkdir(join(root, 'sub/deeper'), { recursive: true });
    await writeFile(join(root, 'hello.txt'), 'hello world\n');
    await writeFile(join(root, 'empty'), '');
    await writeFile(join(root, 'big.bin'), big);
    await writeFile(join(root, 'sub/deeper/ünïcødé 文件.txt'), 'unicode');
    await symlink('hello.txt', join(root, 'link-in'));
    await symlink('sub', join(root, 'dirlink'));
    await writeFile(join(dir.path, 'canary'), 'SECRET');
    await symlink('../canary', join(root, 'link-out'));
    s = await serve(root, { chunkSize: 128 * 1024 });
  });
  after(async () => {
    await s?.close();
    await dir?.remove();
  });

  it('stats files, dirs and symlinks (lstat semantics) with version tokens', async () => {
    const st = await s.fs.stat('/hello.txt');
    assert.equal(st.type, 'file');
    assert.equal(st.size, 12);
    assert.match(st.version, /^\d+:12:\d+:\d+$/);
    assert.equal((await s.fs.stat('/')).type, 'dir');
    assert.equal((await s.fs.stat('link-in')).type, 'symlink');
    assert.equal((await s.fs.stat('/link-out')).type, 'symlink');
    await assert.rejects(
      s.fs.stat('/nope'),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'ENOENT',
    );
  });

  it('reads small, empty and big files byte-identically, and sparse ranges', async () => {
    assert.equal(Buffer.from(await s.fs.read('/hello.txt', 0, 100)).toString(), 'hello world\n');
    assert.equal((await s.fs.read('/empty', 0, 4096)).byteLength, 0);
    const all = await s.fs.read('/big.bin', 0, big.length + 1000);
    assert.equal(all.byteLength, big.length);
    assert.equal(sha(all), sha(big));
    for (let i = 0; i < 50; i++) {
      const off = Math.floor(Math.random() * big.length);
      const len = 1 + Math.floor(Math.random() * 300_000);
      const got = await s.fs.read('/big.bin', off, len);
      assert.deepEqual(Buffer.from(got), big.subarray(off, off + len));
    }
    assert.equal((await s.fs.read('/big.bin', big.length + 10, 10)).byteLength, 0);
  });

  it('lists directories with stats, follows in-root symlinks, never out-of-root ones', async () => {
    const names = (await s.fs.readdir('/')).map((e) => e.name);
    assert.deepEqual(names, ['big.bin', 'dirlink', 'empty', 'hello.txt', 'link-in', 'link-out', 'sub']);
    const deep = await s.fs.readdir('/sub/deeper');
    assert.equal(deep[0]!.name, 'ünïcødé 文件.txt');
    assert.equal(Buffer.from(await s.fs.read('/sub/deeper/ünïcødé 文件.txt', 0, 100)).toString(), 'unicode');
    assert.equal(Buffer.from(await s.fs.read('/link-in', 0, 100)).toString(), 'hello world\n');
    assert.equal((await s.fs.readdir('/dirlink')).length, 1);
    assert.equal(await s.fs.readlink('/link-out'), '../canary');
    await assert.rejects(
      s.fs.read('/link-out', 0, 100),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'EACCES',
    );
    await assert.rejects(
      s.fs.read('../canary', 0, 100),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'EACCES',
    );
    await assert.rejects(
      s.fs.read('/', 0, 100),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'EISDIR',
    );
    await assert.rejects(
      s.fs.readdir('/hello.txt'),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'ENOTDIR',
    );
  });

  it('answers ESTALE when the version no longer matches', async () => {
    const st = await s.fs.stat('/hello.txt');
    assert.equal((await s.fs.read('/hello.txt', 0, 5, st.version)).byteLength, 5);
    await assert.rejects(
      s.fs.read('/hello.txt', 0, 5, '1:2:3:4'),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'ESTALE',
    );
  });

  it('reports statfs and supports aborting a call', async () => {
    const sf = await s.fs.statfs();
    assert.ok(sf.bsize > 0 && sf.namemax === 255);
    const ctl = new AbortController();
    const p = s.fs.read('/big.bin', 0, big.length, undefined, { signal: ctl.signal });
    ctl.abort();
    await assert.rejects(p, (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_ABORTED');
    // The connection is still good afterwards.
    assert.equal((await s.fs.stat('/hello.txt')).size, 12);
  });

  it('pushes invalidate events for changes within 1 s', async () => {
    const seen = new Promise<readonly string[]>((resolve) => {
      s.fs.on('invalidate', (e) => {
        if (e.paths.includes('/sub/new.txt')) resolve(e.paths);
      });
    });
    const t0 = Date.now();
    await writeFile(join(s.host.root, 'sub/new.txt'), 'x');
    const paths = await Promise.race([
      seen,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no event in 1 s')), 1000)),
    ]);
    assert.ok(paths.includes('/sub'));
    assert.ok(Date.now() - t0 < 1000);
  });
});

describe('fd cache vs. rename-over (no watcher)', () => {
  it('serves the new file for its new version, ESTALE for the old one', async () => {
    const { renameSync, writeFileSync: write } = await import('node:fs');
    const dir = await tempDir();
    const s = await serve(dir.path, { watch: false });
    try {
      write(join(dir.path, 'f'), 'old content');
      const v1 = await s.fs.stat('/f');
      assert.equal(Buffer.from(await s.fs.read('/f', 0, 100, v1.version)).toString(), 'old content');
      write(join(dir.path, 'f.tmp'), 'new content!');
      renameSync(join(dir.path, 'f.tmp'), join(dir.path, 'f'));
      const v2 = await s.fs.stat('/f');
      assert.notEqual(v2.version, v1.version);
      assert.equal(Buffer.from(await s.fs.read('/f', 0, 100, v2.version)).toString(), 'new content!');
      await assert.rejects(
        s.fs.read('/f', 0, 100, v1.version),
        (e: unknown) => e instanceof RemoteFsError && e.code === 'ESTALE',
      );
    } finally {
      await s.close();
      await dir.remove();
    }
  });
});

describe('HELLO survives a channel handed over late', () => {
  it('connects when the first host message arrived before the client listened', async () => {
    const dir = await tempDir();
    const { createShareHost: mk, createRemoteFs: mkFs } = await import('../src/index.js');
    const { dialChannel, listenChannels } = await import('./helpers/net-channel.js');
    const host = await mk({ root: dir.path, watch: false });
    // The host side also attaches late, so the client's first HELLO is dropped too.
    const server = await listenChannels((ch) => setTimeout(() => host.attach(ch), 100));
    try {
      const fs = await mkFs({
        connect: async () => {
          const ch = await dialChannel(server.port);
          await new Promise((r) => setTimeout(r, 300)); // the host's HELLO is emitted to nobody
          return ch;
        },
      });
      assert.equal((await fs.stat('/')).type, 'dir');
      await fs.close();
    } finally {
      await host.close();
      await server.close();
      await dir.remove();
    }
  });
});

describe('readChunks', () => {
  it('yields aligned pieces in order without gaps, ends at EOF, cancels what a break leaves', async () => {
    const dir = await tempDir();
    const data = randomBytes(1024 * 1024 + 777);
    await writeFile(join(dir.path, 'f'), data);
    const host = await createShareHost({ root: dir.path, watch: false, chunkSize: 64 * 1024 });
    const server = await listenChannels((ch) => host.attach(ch));
    const sentKinds: number[] = [];
    const fs = await createRemoteFs({
      readWindow: 4,
      connect: async () => {
        const ch = await dialChannel(server.port);
        const send = ch.send.bind(ch);
        ch.send = (m: Uint8Array) => {
          sentKinds.push(m[1]!);
          return send(m);
        };
        return ch;
      },
    });
    try {
      // From an unaligned offset past the end: first piece up to the next boundary, then
      // whole chunks, then the short tail; nothing after it.
      const from = 1000;
      const pieces: Uint8Array[] = [];
      for await (const p of fs.readChunks('/f', from, data.length)) pieces.push(p);
      assert.equal(pieces[0]!.byteLength, 64 * 1024 - from);
      for (const p of pieces.slice(1, -1)) assert.equal(p.byteLength, 64 * 1024);
      assert.deepEqual(Buffer.concat(pieces), data.subarray(from));

      // Leaving after the first piece: the rest of the window is cancelled, not left running.
      const cancelsBefore = sentKinds.filter((k) => k === FrameKind.CANCEL).length;
      for await (const p of fs.readChunks('/f', 0, data.length)) {
        assert.equal(p.byteLength, 64 * 1024);
        break;
      }
      const cancels = sentKinds.filter((k) => k === FrameKind.CANCEL).length - cancelsBefore;
      // The window is refilled before a piece is handed over, so up to 4 are in flight then.
      assert.ok(cancels >= 1 && cancels <= 4, `cancelled ${cancels} of at most 4 pieces in flight`);

      // A caller's abort ends the iteration with ENGINE_ABORTED; the connection stays usable.
      const ctl = new AbortController();
      await assert.rejects(
        (async () => {
          for await (const _ of fs.readChunks('/f', 0, data.length, undefined, { signal: ctl.signal }))
            ctl.abort();
        })(),
        (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_ABORTED',
      );
      assert.equal((await fs.stat('/f')).size, data.length);
      await assert.rejects(
        fs.readChunks('/f', -1, 10).next(),
        (e: unknown) => e instanceof RemoteFsError && e.code === 'EINVAL',
      );
    } finally {
      await fs.close();
      await host.close();
      await server.close();
      await dir.remove();
    }
  });
});
