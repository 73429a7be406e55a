// Host and client in separate processes over the real TLS transport (@wormhole/transport-tls).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRemoteFs, type RemoteFs, RemoteFsError } from '../src/index.js';
import { tempDir } from './helpers/fixture.js';
import { closeClientTransport, type HostProcess, startHostProcess } from './helpers/host-process.js';

const BIG = 256 * 1024 * 1024;

describe('two processes over TLS', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let root: string;
  let hp: HostProcess;
  let fs: RemoteFs;
  let bigSha = '';

  before(async () => {
    dir = await tempDir();
    root = join(dir.path, 'share');
    mkdirSync(join(root, 'tree/a/b'), { recursive: true });
    mkdirSync(join(root, 'many'));
    writeFileSync(join(root, 'tree/a/b/leaf.txt'), 'leaf');
    writeFileSync(join(root, 'tree/empty'), '');
    writeFileSync(join(root, 'tree/日本語 ☃ émoji 🎉.txt'), 'unicode name');
    for (let i = 0; i < 10_000; i++)
      writeFileSync(join(root, 'many', `f${String(i).padStart(5, '0')}`), String(i));
    const h = createHash('sha256');
    const fd = openSync(join(root, 'big.bin'), 'w');
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (let done = 0; done < BIG; done += buf.length) {
      randomFillSync(buf);
      h.update(buf);
      writeSync(fd, buf);
    }
    closeSync(fd);
    bigSha = h.digest('hex');
    hp = await startHostProcess(root, 'tls');
    fs = await createRemoteFs({ connect: () => hp.dial(), requestTimeoutMs: 10_000, reconnectMaxMs: 500 });
  });

  after(async () => {
    await fs?.close();
    await hp?.kill();
    await closeClientTransport();
    await dir?.remove();
  });

  it('lists a tree and reads files byte-identically (256 MiB sha256, empty, unicode, sparse)', async () => {
    const names = (await fs.readdir('/tree')).map((e) => e.name).sort();
    assert.deepEqual(names, ['a', 'empty', '日本語 ☃ émoji 🎉.txt']);
    assert.equal(Buffer.from(await fs.read('/tree/a/b/leaf.txt', 0, 10)).toString(), 'leaf');
    assert.equal((await fs.read('/tree/empty', 0, 10)).byteLength, 0);
    assert.equal(
      Buffer.from(await fs.read('/tree/日本語 ☃ émoji 🎉.txt', 0, 100)).toString(),
      'unicode name',
    );

    const st = await fs.stat('/big.bin');
    assert.equal(st.size, BIG);
    const h = createHash('sha256');
    const step = 8 * 1024 * 1024;
    const t0 = performance.now();
    for (let off = 0; off < BIG; off += step) h.update(await fs.read('/big.bin', off, step, st.version));
    const secs = (performance.now() - t0) / 1000;
    assert.equal(h.digest('hex'), bigSha);
    console.log(`# 256 MiB over TLS in ${secs.toFixed(2)} s (${(BIG / 1e6 / secs).toFixed(0)} MB/s)`);

    // Sparse reads at random offsets, compared to a local read of the same range.
    const { open } = await import('node:fs/promises');
    const local = await open(join(root, 'big.bin'));
    try {
      for (let i = 0; i < 200; i++) {
        const off = Math.floor(Math.random() * BIG);
        const len = 1 + Math.floor(Math.random() * 200_000);
        const want = Buffer.alloc(Math.min(len, BIG - off));
        await local.read(want, 0, want.length, off);
        assert.deepEqual(Buffer.from(await fs.read('/big.bin', off, len)), want);
      }
    } finally {
      await local.close();
    }
  });

  it('lists a 10,000-entry directory with stats, page by page', async () => {
    let pages = 0;
    let count = 0;
    for await (const page of fs.readdirPages('/many')) {
      pages++;
      count += page.entries.length;
      assert.ok(page.entries.every((e) => e.stat.type === 'file'));
    }
    assert.equal(count, 10_000);
    assert.ok(pages >= 10, `expected paging, got ${pages} page(s)`);
    const all = await fs.readdir('/many');
    assert.equal(new Set(all.map((e) => e.name)).size, 10_000);
  });

  it('delivers a host-side change as an invalidate event within 1 s', async () => {
    const got = new Promise<number>((resolve) => {
      const t0 = Date.now();
      const on = (e: { paths: readonly string[] }) => {
        if (e.paths.includes('/tree/changed.txt')) {
          fs.off('invalidate', on);
          resolve(Date.now() - t0);
        }
      };
      fs.on('invalidate', on);
    });
    writeFileSync(join(root, 'tree/changed.txt'), 'new');
    const ms = await Promise.race([got, new Promise<number>((r) => setTimeout(() => r(99_999), 1000))]);
    assert.ok(ms < 1000, `invalidate took ${ms} ms`);
  });

  it('fails a read within 10 s when the host dies mid-read, then reconnects to a restarted host', async () => {
    const port = hp.port;
    const states: string[] = [];
    fs.on('connection', (e) => states.push(e.state));
    const t0 = Date.now();
    const reading = fs.read('/big.bin', 0, 128 * 1024 * 1024);
    setTimeout(() => void hp.kill(), 30);
    await assert.rejects(
      reading,
      (e: unknown) => e instanceof RemoteFsError && (e.code === 'ENOTCONN' || e.code === 'ETIMEDOUT'),
    );
    assert.ok(Date.now() - t0 < 10_000);
    // While down, new calls fail fast.
    const t1 = Date.now();
    await assert.rejects(
      fs.stat('/big.bin'),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'ENOTCONN',
    );
    assert.ok(Date.now() - t1 < 1000);
    hp = await startHostProcess(root, 'tls', port);
    const deadline = Date.now() + 15_000;
    while (!fs.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.connected, 'client did not reconnect');
    assert.deepEqual(states.slice(0, 1), ['disconnected']);
    assert.ok(states.includes('reconnected'));
    assert.equal(Buffer.from(await fs.read('/tree/a/b/leaf.txt', 0, 10)).toString(), 'leaf');
  });

  it('frees host resources when client processes are killed mid-read', async () => {
    const script = fileURLToPath(new URL('./fixtures/client-process.ts', import.meta.url));
    const baseline = await hp.stats();
    for (let i = 0; i < 5; i++) {
      const child = spawn(
        process.execPath,
        ['--conditions=@wormhole/source', '--import', 'tsx', script, 'tls'],
        {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      const exited = once(child, 'exit');
      try {
        // The client asks for a session the same way our own connect() does.
        // The client needs a host session signal, obtained the way our own connect() does.
        const { signal } = await askSignal(hp);
        child.send({ type: 'signal', signal });
        await new Promise<void>((resolve, reject) => {
          child.on('message', (msg: { type: string }) => msg.type === 'reading' && resolve());
          child.once('exit', () => reject(new Error('client exited early')));
        });
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
    }
    const deadline = Date.now() + 5000;
    let s = await hp.stats();
    while ((s.clients > baseline.clients || s.fds > baseline.fds + 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await hp.stats();
    }
    assert.equal(s.clients, baseline.clients);
    assert.ok(s.fds <= baseline.fds + 2, `host fds grew from ${baseline.fds} to ${s.fds}`);
  });
});

async function askSignal(hp: HostProcess): Promise<{ signal: unknown }> {
  return new Promise((resolve, reject) => {
    const req = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const t = setTimeout(() => reject(new Error('no signal')), 5000);
    const on = (m: { type: string; req: number; signal: unknown }) => {
      if (m.type === 'signal' && m.req === req) {
        clearTimeout(t);
        hp.child.off('message', on);
        resolve({ signal: m.signal });
      }
    };
    hp.child.on('message', on);
    hp.child.send({ type: 'session', req });
  });
}
