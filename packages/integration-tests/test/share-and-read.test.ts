// Issue 3 end to end: a real signal server, a share host in its own process, and clients that
// connect by join code over each real transport, then read the tree back byte for byte.
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeTransports, connectShare, createTransports, type RemoteFs } from '@wormhole/engine';
import { type ChildHandle, makeTestTree, spawnTsChild, type TestTree } from '@wormhole/integration-tests';
import { createSignalServer, type SignalServer } from '@wormhole/signal-server';
import type { TransportKind } from '@wormhole/transport';

const BIG_MIB = Number(process.env.WORMHOLE_E2E_BIG_MIB ?? 1024);
const shareChild = join(import.meta.dirname, 'fixtures/share-child.ts');

let dir: string;
let tree: TestTree;
let signal: SignalServer;
let host: ChildHandle;
let code: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wormhole-e2e-'));
  tree = makeTestTree(join(dir, 'share'), { bigMiB: BIG_MIB, manyFiles: 10_000 });
  signal = await createSignalServer({ host: '127.0.0.1', port: 0 });
  host = spawnTsChild(shareChild, [
    tree.root,
    signal.url,
    'tls,webtransport,datachannel',
    join(dir, 'state.json'),
  ]);
  code = String((await host.waitFor('code')).code);
});

after(async () => {
  await host?.kill('SIGTERM');
  await signal?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withClient<T>(
  kinds: TransportKind[],
  fn: (fs: RemoteFs, transport: string) => Promise<T>,
): Promise<T> {
  const transports = createTransports({ kinds });
  let transport = '';
  const connect = () =>
    connectShare({
      code,
      signalUrl: signal.url,
      transports,
      onPath: (p) => {
        transport = p.transport;
      },
    });
  let fs: RemoteFs;
  try {
    fs = await connect();
  } catch (err) {
    // libjuice now and then fails a loopback ICE check under CPU saturation ("ICE closed"
    // within a second; packages/transport-datachannel README, Limits): with datachannel the
    // only transport there is no race to absorb it, so one failed connect is retried. These
    // tests are about reading over the transport once connected.
    if (
      kinds.length !== 1 ||
      kinds[0] !== 'datachannel' ||
      (err as { code?: string }).code !== 'TRANSPORT_CONNECT_FAILED'
    )
      throw err;
    console.log(`# datachannel connect retried after: ${(err as Error).message}`);
    fs = await connect();
  }
  try {
    return await fn(fs, transport);
  } finally {
    await fs.close();
    await closeTransports(transports);
  }
}

async function sha256Remote(fs: RemoteFs, path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  const step = 8 * 1024 * 1024;
  for (let off = 0; off < size; off += step) h.update(await fs.read(path, off, Math.min(step, size - off)));
  return h.digest('hex');
}

describe('share and read end to end (host in another process, real signal server)', () => {
  it('lists the tree and reads every small file byte-identical over the transport race (tls preferred)', async () => {
    await withClient(['tls', 'webtransport', 'datachannel'], async (fs, transport) => {
      assert.equal(transport, 'tls', 'the race prefers the fastest transport that connects');
      const root = (await fs.readdir('/')).map((e) => e.name).sort();
      assert.deepEqual(root, [
        'a',
        'big.bin',
        'empty.txt',
        'link-to-deep',
        'many',
        'naïve café 日本語.txt',
        'with space.txt',
      ]);
      const many = await fs.readdir('/many');
      assert.equal(many.length, 10_000);
      assert.equal((await fs.stat('/link-to-deep')).type, 'symlink');
      assert.equal(await fs.readlink('/link-to-deep'), 'a/b/c/deep.txt');
      for (const [rel, hash] of tree.hashes) {
        if (rel === tree.bigFile || rel.startsWith('many/f0001')) continue;
        const st = await fs.stat(`/${rel}`);
        const data = await fs.read(`/${rel}`, 0, st.size);
        assert.equal(createHash('sha256').update(data).digest('hex'), hash, rel);
      }
    });
  });

  it(`reads the ${BIG_MIB} MiB random file byte-identical (sha256) over tls`, async () => {
    await withClient(['tls'], async (fs, transport) => {
      assert.equal(transport, 'tls');
      assert.equal(await sha256Remote(fs, `/${tree.bigFile}`, tree.bigSize), tree.hashes.get(tree.bigFile));
    });
  });

  for (const kind of ['webtransport', 'datachannel'] as const) {
    it(`connects with ${kind} forced and reads 32 MiB identical plus sparse reads`, async () => {
      await withClient([kind], async (fs, transport) => {
        assert.equal(transport, kind);
        const size = Math.min(32 * 1024 * 1024, tree.bigSize);
        const local = Buffer.alloc(size);
        const fd = openSync(join(tree.root, tree.bigFile), 'r');
        try {
          readSync(fd, local, 0, size, 0);
        } finally {
          closeSync(fd);
        }
        const remote = await fs.read(`/${tree.bigFile}`, 0, size);
        assert.ok(Buffer.from(remote).equals(local));
        for (let i = 0; i < 50; i++) {
          const off = randomInt(0, size - 5000);
          const len = randomInt(1, 5000);
          const got = await fs.read(`/${tree.bigFile}`, off, len);
          assert.ok(Buffer.from(got).equals(local.subarray(off, off + len)), `sparse read at ${off}+${len}`);
        }
      });
    });
  }

  it('reads past the end short, empty files empty, and answers ENOENT for missing paths', async () => {
    await withClient(['tls'], async (fs) => {
      assert.equal((await fs.read('/empty.txt', 0, 100)).byteLength, 0);
      assert.equal((await fs.read(`/${tree.bigFile}`, tree.bigSize - 10, 100)).byteLength, 10);
      await assert.rejects(fs.stat('/nope'), (e: unknown) => (e as { code?: string }).code === 'ENOENT');
      await assert.rejects(fs.stat('/../../etc/passwd'), (e: unknown) =>
        ['EACCES', 'ENOENT', 'EINVAL'].includes(String((e as { code?: string }).code)),
      );
    });
  });
});
