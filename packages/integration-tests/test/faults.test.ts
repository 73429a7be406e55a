// Issue 3 faults end to end: host killed mid-read, host restarted, wrong code, client churn.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeTransports, connectShare, createTransports } from '@wormhole/engine';
import { type ChildHandle, makeTestTree, spawnTsChild, type TestTree } from '@wormhole/integration-tests';
import { WORDLIST } from '@wormhole/protocol';
import { createSignalServer, type SignalServer } from '@wormhole/signal-server';

const shareChild = join(import.meta.dirname, 'fixtures/share-child.ts');
// Each cycle spawns a client process (~1-4 s); the engine's own test runs 100 socket-level cycles.
const CHURN_CYCLES = Number(process.env.WORMHOLE_CHURN_CYCLES ?? 10);
let dir: string;
let tree: TestTree;
let signal: SignalServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wormhole-faults-'));
  tree = makeTestTree(join(dir, 'share'), { bigMiB: 64, manyFiles: 10 });
  signal = await createSignalServer({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await signal?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startHost(state: string): ChildHandle {
  return spawnTsChild(shareChild, [tree.root, signal.url, 'tls', join(dir, state)]);
}

describe('faults end to end', () => {
  it('host killed mid-read: reads fail within 10 s, no hang; host restarted: the client resumes without the code', async () => {
    let host = startHost('state-a.json');
    const { code, nameplate } = await host.waitFor('code');
    const transports = createTransports({ kinds: ['tls'] });
    const fs = await connectShare({
      code: String(code),
      signalUrl: signal.url,
      transports,
      remoteFs: { reconnectMaxMs: 500 },
    });
    try {
      assert.equal((await fs.read('/big.bin', 0, 10)).byteLength, 10);
      // Keep reads flowing, then kill the host hard in the middle of them.
      let failedAt = 0;
      const reader = (async () => {
        for (let i = 0; ; i++) {
          try {
            await fs.read('/big.bin', (i * 1024 * 1024) % (tree.bigSize - 1024 * 1024), 1024 * 1024);
          } catch (err) {
            failedAt = Date.now();
            return err as { code?: string };
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = Date.now();
      await host.kill('SIGKILL');
      const err = await reader;
      assert.ok(failedAt - killedAt < 10_000, `read failed after ${failedAt - killedAt} ms`);
      assert.ok(['ENOTCONN', 'EIO', 'ETIMEDOUT'].includes(String(err.code)), `code ${err.code}`);
      // New calls while the host is down fail fast instead of hanging.
      const t0 = Date.now();
      await assert.rejects(fs.stat('/big.bin'));
      assert.ok(Date.now() - t0 < 10_000);

      // Restart with the same state file: same nameplate, the client's ticket is honoured.
      host = startHost('state-a.json');
      const again = await host.waitFor('code');
      assert.equal(again.nameplate, nameplate, 'restarted host reclaims its nameplate');
      const deadline = Date.now() + 20_000;
      let st: Awaited<ReturnType<typeof fs.stat>> | undefined;
      while (Date.now() < deadline && st === undefined) {
        st = await fs.stat('/big.bin').catch(() => undefined);
        if (st === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(st, 'client reconnected to the restarted host');
      assert.equal(st.size, tree.bigSize);
      const connected = await host.waitFor('peer-connected');
      assert.equal(connected.resumed, true, 'reconnected with the resumption ticket, not the code');
    } finally {
      await fs.close();
      await closeTransports(transports);
      await host.kill('SIGTERM');
    }
  });

  it('a wrong code fails, burns the code, and the host announces a new one', async () => {
    const host = startHost('state-b.json');
    try {
      const first = String((await host.waitFor('code')).code);
      const [nameplate, w1, w2] = first.split('-');
      const wrong = `${nameplate}-${w1}-${WORDLIST.find((w) => w !== w2)}`;
      const transports = createTransports({ kinds: ['tls'] });
      try {
        await assert.rejects(
          connectShare({ code: wrong, signalUrl: signal.url, transports }),
          (e: unknown) => (e as { code?: string }).code === 'TRANSPORT_PAKE_FAILED',
        );
        const burned = await host.waitFor('pake-failed');
        assert.equal(burned.code, 'TRANSPORT_PAKE_FAILED');
        const lines = host.lines.filter((l) => l.event === 'code');
        const deadline = Date.now() + 10_000;
        while (host.lines.filter((l) => l.event === 'code').length < 2 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const codes = host.lines.filter((l) => l.event === 'code').map((l) => String(l.code));
        assert.ok(codes.length >= 2 && codes.at(-1) !== first, `new code announced (had ${lines.length})`);
        // The burned code no longer works, the new one does.
        await assert.rejects(
          connectShare({ code: first, signalUrl: signal.url, transports, timeoutMs: 5000 }),
        );
        const fs = await connectShare({ code: codes.at(-1)!, signalUrl: signal.url, transports });
        assert.equal((await fs.stat('/empty.txt')).size, 0);
        await fs.close();
      } finally {
        await closeTransports(transports);
      }
    } finally {
      await host.kill('SIGTERM');
    }
  });

  it('client churn: connect/kill cycles leave the host with no sessions and no open files', async () => {
    const host = startHost('state-c.json');
    try {
      const code = String((await host.waitFor('code')).code);
      const transports = createTransports({ kinds: ['tls'] });
      const fs = await connectShare({ code, signalUrl: signal.url, transports });
      await fs.read('/big.bin', 0, 1);
      await fs.close();
      // Later cycles use fresh children that die without closing (SIGKILL): the host must notice.
      const child = join(import.meta.dirname, 'fixtures/read-and-hang-child.ts');
      let ticketCode = code;
      for (let i = 0; i < CHURN_CYCLES; i++) {
        const c = spawnTsChild(child, [ticketCode, signal.url]);
        await c.waitFor('read', 30_000);
        await c.kill('SIGKILL');
        const codes = host.lines.filter((l) => l.event === 'code');
        ticketCode = String(codes.at(-1)!.code);
      }
      const deadline = Date.now() + 15_000;
      let stats: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        stats = host.lines.filter((l) => l.event === 'stats').at(-1) ?? {};
        if (stats.peers === 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(stats.peers, 0, 'all killed clients were detected and freed');
      assert.ok(Number(stats.openFiles) <= 64, `fd cache bounded, got ${stats.openFiles}`);
      await closeTransports(transports);
    } finally {
      await host.kill('SIGTERM');
    }
  });
});
