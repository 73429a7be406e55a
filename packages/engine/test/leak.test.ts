// 100 connect/drop cycles (some with reads in flight): the host must end with the fds and
// listeners it started with.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PeerChannel } from '@wormhole/transport';
import { createRemoteFs, createShareHost, type ShareHost } from '../src/index.js';
import { tempDir } from './helpers/fixture.js';
import { type ChannelServer, dialChannel, listenChannels } from './helpers/net-channel.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('resource release', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let host: ShareHost;
  let server: ChannelServer;
  const hostSide: PeerChannel[] = [];

  before(async () => {
    dir = await tempDir();
    for (let i = 0; i < 8; i++) writeFileSync(join(dir.path, `f${i}.bin`), Buffer.alloc(2 * 1024 * 1024, i));
    host = await createShareHost({ root: dir.path, fdCacheSize: 4, watch: false });
    server = await listenChannels((ch) => {
      hostSide.push(ch);
      host.attach(ch);
    });
  });
  after(async () => {
    await host?.close();
    await server?.close();
    await dir?.remove();
  });

  it('shows no growth over 100 connect/kill cycles', async () => {
    // Warm up once so lazily created things (the fd cache, libuv threads) are in the baseline.
    const warm = await createRemoteFs({ connect: () => dialChannel(server.port) });
    await warm.read('/f0.bin', 0, 1024);
    await warm.close();
    await waitFor(() => host.clients().length === 0);
    const baseFds = openFds();

    for (let i = 0; i < 100; i++) {
      let socket: import('node:net').Socket | undefined;
      const fs = await createRemoteFs({
        connect: async () => {
          const ch = await dialChannel(server.port);
          socket = ch.socket;
          return ch;
        },
        reconnectMinMs: 60_000,
      });
      await fs.read(`/f${i % 8}.bin`, 0, 256 * 1024);
      // Half the cycles die with reads in flight, like a killed client process.
      const inflight =
        i % 2 === 0 ? fs.read(`/f${(i + 1) % 8}.bin`, 0, 2 * 1024 * 1024).catch(() => {}) : undefined;
      socket!.destroy();
      await inflight;
      await fs.close();
    }
    await waitFor(() => host.clients().length === 0);
    await waitFor(() => openFds() <= baseFds + 4); // the bounded fd cache may hold up to 4
    assert.equal(host.clients().length, 0);
    assert.ok(openFds() <= baseFds + 4, `fds grew from ${baseFds} to ${openFds()}`);
    assert.ok(host.openFileCount() <= 4);
    assert.equal(hostSide.length, 101);
    for (const ch of hostSide) {
      assert.equal(ch.isClosed, true);
      assert.equal(ch.listenerCount('message'), 0);
      assert.equal(ch.listenerCount('close'), 0, 'the session removed its listeners');
    }
  });
});

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
