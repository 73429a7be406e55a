import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { authenticateChannel, type PeerChannel } from '@wormhole/transport';
import { createMemoryChannelPair } from '@wormhole/transport/testing';

const keys = { binding: new Uint8Array(randomBytes(32)) };
const closed = (ch: PeerChannel): Promise<void> =>
  new Promise((r) => (ch.isClosed ? r() : ch.once('close', () => r())));

describe('channel binding', () => {
  it('authenticates both ends and delivers messages sent right after, in order', async () => {
    const [h, c] = createMemoryChannelPair();
    const [ah, ac] = await Promise.all([
      authenticateChannel(h, keys, 'host'),
      authenticateChannel(c, keys, 'client'),
    ]);
    await ac.send(Uint8Array.of(1));
    await ac.send(Uint8Array.of(2));
    await new Promise((r) => setTimeout(r, 20));
    const got: number[] = [];
    await new Promise<void>((resolve) =>
      ah.on('message', (m) => {
        got.push(m[0]!);
        if (got.length === 2) resolve();
      }),
    );
    assert.deepEqual(got, [1, 2]);
    ah.close();
    await closed(ac);
  });

  it('refuses a man in the middle that presents its own certificate (20 tries)', async () => {
    for (let i = 0; i < 20; i++) {
      const [h, c] = createMemoryChannelPair({
        tamperRemote: [undefined, (fp) => fp.replace(/^./, (x) => (x === 'a' ? 'b' : 'a'))],
      });
      const res = await Promise.allSettled([
        authenticateChannel(h, keys, 'host'),
        authenticateChannel(c, keys, 'client'),
      ]);
      for (const r of res) {
        assert.equal(r.status, 'rejected');
        assert.equal((r as PromiseRejectedResult).reason.code, 'TRANSPORT_BINDING_MISMATCH');
      }
      assert.ok(h.isClosed && c.isClosed);
    }
  });

  it('refuses a peer with another key, the same role twice, and a silent peer', async () => {
    const [h, c] = createMemoryChannelPair();
    const res = await Promise.allSettled([
      authenticateChannel(h, keys, 'host'),
      authenticateChannel(c, { binding: new Uint8Array(32) }, 'client'),
    ]);
    assert.ok(res.every((r) => r.status === 'rejected' && r.reason.code === 'TRANSPORT_BINDING_MISMATCH'));
    const [h2, c2] = createMemoryChannelPair();
    const res2 = await Promise.allSettled([
      authenticateChannel(h2, keys, 'host'),
      authenticateChannel(c2, keys, 'host'),
    ]);
    assert.ok(res2.every((r) => r.status === 'rejected' && r.reason.code === 'TRANSPORT_BINDING_MISMATCH'));
    const [h3, c3] = createMemoryChannelPair();
    await assert.rejects(authenticateChannel(h3, keys, 'host', { timeoutMs: 50 }), {
      code: 'TRANSPORT_BINDING_MISMATCH',
    });
    assert.ok(c3.isClosed);
  });

  it('aborts with TRANSPORT_ABORTED', async () => {
    const [h, c] = createMemoryChannelPair();
    const ac = new AbortController();
    const p = authenticateChannel(h, keys, 'host', { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { code: 'TRANSPORT_ABORTED' });
    c.close();
  });

  it('a send that fails after the wait already failed is not an unhandled rejection', async () => {
    const [h, c] = createMemoryChannelPair();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The send settles (rejects) only after the channel closed under the MAC wait, as
      // libdatachannel's send did when the race closed its losing channel mid-handshake.
      let failSend!: (err: Error) => void;
      h.send = () =>
        new Promise<void>((_, reject) => {
          failSend = reject;
        });
      const p = authenticateChannel(h, keys, 'host', { timeoutMs: 5_000 });
      c.close('lost the race');
      await assert.rejects(p, { code: 'TRANSPORT_BINDING_MISMATCH' });
      failSend(new Error('DataChannel is closed'));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
