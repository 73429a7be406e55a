// A host that stops answering without closing: calls end with ETIMEDOUT within the bound, and
// the keepalive declares the connection dead so RemoteFs reconnects. And the host side: a
// client that goes silent is dropped after the idle timeout.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeFrame, encodeHelloBody, FrameKind, PROTOCOL_VERSION } from '@wormhole/protocol';
import type { PeerChannel } from '@wormhole/transport';
import { createRemoteFs, createShareHost, RemoteFsError } from '../src/index.js';
import { tempDir } from './helpers/fixture.js';
import { type ChannelServer, dialChannel, listenChannels } from './helpers/net-channel.js';

describe('liveness', () => {
  let server: ChannelServer;
  const accepted: PeerChannel[] = [];

  before(async () => {
    // A "host" that greets and then never says anything again.
    server = await listenChannels((ch) => {
      accepted.push(ch);
      void ch.send(
        encodeFrame(
          FrameKind.HELLO,
          0,
          encodeHelloBody({
            v: PROTOCOL_VERSION,
            role: 'host',
            software: 'mute',
            features: [],
            chunkSize: 131072,
          }),
        ),
      );
    });
  });
  after(async () => {
    await server?.close();
  });

  it('times calls out and drops a silent host', async () => {
    const fs = await createRemoteFs({
      connect: () => dialChannel(server.port),
      requestTimeoutMs: 400,
      keepaliveMs: 150,
      reconnectMinMs: 50,
    });
    try {
      const t0 = Date.now();
      await assert.rejects(
        fs.stat('/x'),
        (e: unknown) => e instanceof RemoteFsError && e.code === 'ETIMEDOUT',
      );
      const took = Date.now() - t0;
      assert.ok(took >= 380 && took < 1500, `timed out after ${took} ms`);
      const down = await new Promise<number>((resolve) => {
        const t1 = Date.now();
        fs.on('connection', (e) => e.state === 'disconnected' && resolve(Date.now() - t1));
      });
      assert.ok(down < 2000);
      // It keeps reconnecting: the mute server sees new connections.
      const before = accepted.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(accepted.length > before);
    } finally {
      await fs.close();
    }
  });

  it('host closes sessions of clients that go silent', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir.path, 'a'), 'a');
    const host = await createShareHost({ root: dir.path, watch: false, limits: { idleTimeoutMs: 200 } });
    const srv = await listenChannels((ch) => host.attach(ch));
    try {
      const ch = await dialChannel(srv.port);
      await ch.send(
        encodeFrame(
          FrameKind.HELLO,
          0,
          encodeHelloBody({ v: PROTOCOL_VERSION, role: 'client', software: 't', features: [] }),
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(host.clients().length, 1);
      const end = Date.now() + 2000;
      while (host.clients().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(host.clients().length, 0);
      ch.close();
    } finally {
      await host.close();
      await srv.close();
      await dir.remove();
    }
  });
});
