import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { isAppError } from '@wormhole/protocol';
import type { CloseInfo, PeerChannel, TransportSignal } from '@wormhole/transport';
import { dataChannelTransport, MAX_MESSAGE_BYTES } from '../src/index.js';
import { connectPair, startPair } from './helpers.js';

function collect(channel: PeerChannel): Uint8Array[] {
  const got: Uint8Array[] = [];
  channel.on('message', (m) => got.push(m));
  return got;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('datachannel in one process', () => {
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1' });
  after(() => transport.close());

  it('connects, mirrors the channel binding and reports a host path', async () => {
    const { host, client } = await connectPair(transport);
    try {
      assert.equal(host.kind, 'datachannel');
      assert.match(host.binding().local, /^[0-9a-f]{64}$/);
      assert.match(host.binding().remote, /^[0-9a-f]{64}$/);
      assert.notEqual(host.binding().local, host.binding().remote);
      assert.equal(host.binding().local, client.binding().remote);
      assert.equal(host.binding().remote, client.binding().local);
      for (const ch of [host, client]) {
        const path = ch.pathInfo();
        assert.equal(path.transport, 'datachannel');
        assert.equal(path.relayed, false);
        assert.equal(path.protocol, 'udp');
        assert.equal(path.localCandidateType, 'host');
        assert.ok(['host', 'prflx'].includes(path.remoteCandidateType), path.remoteCandidateType);
        assert.match(path.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
      }
      assert.equal(host.maxMessageBytes, MAX_MESSAGE_BYTES);
    } finally {
      host.close();
      client.close();
    }
  });

  it('delivers messages in order both ways, including empty and 256 KiB ones', async () => {
    const { host, client } = await connectPair(transport);
    try {
      const atHost = collect(host);
      const atClient = collect(client);
      const n = 2000;
      for (let i = 0; i < n; i++) {
        const m = new Uint8Array(4 + (i % 50));
        new DataView(m.buffer).setUint32(0, i);
        await client.send(m);
      }
      const big = new Uint8Array(MAX_MESSAGE_BYTES);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await host.send(big);
      await host.send(new Uint8Array(0));
      // A view into a larger buffer sends only the view.
      const backing = new Uint8Array(100).fill(7);
      await host.send(backing.subarray(10, 20));
      await until(() => atHost.length === n && atClient.length === 3);
      atHost.forEach((m, i) => {
        assert.equal(new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0), i);
        assert.equal(m.byteLength, 4 + (i % 50));
      });
      assert.deepEqual(atClient[0], big);
      assert.equal(atClient[1]?.byteLength, 0);
      assert.deepEqual(atClient[2], new Uint8Array(10).fill(7));
      await assert.rejects(client.send(new Uint8Array(MAX_MESSAGE_BYTES + 1)), (e: unknown) =>
        isAppError(e, 'TRANSPORT_MESSAGE_TOO_LARGE'),
      );
    } finally {
      host.close();
      client.close();
    }
  });

  it('keeps messages sent before the receiver listens', async () => {
    const { host, client } = await connectPair(transport);
    try {
      await client.send(new Uint8Array([1]));
      await client.send(new Uint8Array([2]));
      await new Promise((r) => setTimeout(r, 100));
      const got = collect(host);
      await until(() => got.length === 2);
      assert.deepEqual(got, [new Uint8Array([1]), new Uint8Array([2])]);
    } finally {
      host.close();
      client.close();
    }
  });

  for (const closer of ['client', 'host'] as const) {
    it(`closes from the ${closer}: both sides emit close once, sends reject`, async () => {
      const pair = await connectPair(transport);
      const closing = closer === 'client' ? pair.client : pair.host;
      const other = closer === 'client' ? pair.host : pair.client;
      const closes: [string, CloseInfo][] = [];
      closing.on('close', (info) => closes.push(['closing', info]));
      other.on('close', (info) => closes.push(['other', info]));
      const otherClosed = once(other, 'close');
      closing.close('bye');
      closing.close('again');
      assert.equal(closing.isClosed, true);
      await otherClosed;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(closes, [
        ['closing', { local: true, reason: 'bye' }],
        ['other', { local: false, reason: closes[1]?.[1].reason }],
      ]);
      assert.equal(other.isClosed, true);
      for (const ch of [closing, other]) {
        await assert.rejects(ch.send(new Uint8Array(1)), (e: unknown) => isAppError(e, 'TRANSPORT_CLOSED'));
        assert.equal(ch.bufferedAmount(), 0);
        // Binding and path stay readable after close (for status output and logs).
        assert.match(ch.binding().local, /^[0-9a-f]{64}$/);
        assert.equal(ch.pathInfo().transport, 'datachannel');
      }
    });
  }

  it('rejects pending sends with TRANSPORT_CLOSED when closed under backpressure', async () => {
    const small = dataChannelTransport({ bindAddress: '127.0.0.1', highWaterMarkBytes: 0 });
    try {
      const { host, client } = await connectPair(small);
      const chunk = new Uint8Array(MAX_MESSAGE_BYTES);
      const pending = Array.from({ length: 64 }, () => client.send(chunk));
      assert.ok(client.bufferedAmount() > 0, 'data is queued');
      client.close();
      const results = await Promise.allSettled(pending);
      assert.ok(
        results.some((r) => r.status === 'rejected' && isAppError(r.reason, 'TRANSPORT_CLOSED')),
        JSON.stringify(results.map((r) => r.status)),
      );
      host.close();
    } finally {
      await small.close();
    }
  });

  it('aborting mid-setup rejects both sessions with TRANSPORT_ABORTED and frees them', async () => {
    const ac = new AbortController();
    const seen: TransportSignal[] = [];
    // Hold back the answer so setup cannot finish, then abort.
    const { hostSession, clientSession } = startPair(transport, transport, {
      signal: ac.signal,
      filter: (from, s) => {
        seen.push(s);
        return from === 'host' ? undefined : s;
      },
    });
    await until(() => seen.some((s) => s.type === 'description' && s.sdpType === 'answer'));
    ac.abort();
    await assert.rejects(hostSession.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
    await assert.rejects(clientSession.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
    hostSession.close();
  });

  it('an already-aborted signal rejects at once', async () => {
    const session = transport.createSession('client', { signal: AbortSignal.abort() });
    await assert.rejects(session.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
  });

  it('session.close() before connecting rejects with TRANSPORT_ABORTED', async () => {
    const session = transport.createSession('client', { signal: new AbortController().signal });
    session.close();
    session.close();
    await assert.rejects(session.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
  });

  it('times out with TRANSPORT_TIMEOUT naming the ICE state when the peer never answers', async () => {
    const quick = dataChannelTransport({ bindAddress: '127.0.0.1', connectTimeoutMs: 300 });
    try {
      const session = quick.createSession('client', { signal: new AbortController().signal });
      const started = Date.now();
      await assert.rejects(
        session.connected,
        (e: unknown) => isAppError(e, 'TRANSPORT_TIMEOUT') && /ICE \w+/.test(e.message),
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      await quick.close();
    }
  });

  it('closing the transport closes its channels and refuses new sessions', async () => {
    const t = dataChannelTransport({ bindAddress: '127.0.0.1' });
    const { host, client } = await connectPair(t);
    const pending = t.createSession('client', { signal: new AbortController().signal });
    const closed = once(host, 'close');
    await t.close();
    await closed;
    assert.equal(client.isClosed, true);
    await assert.rejects(pending.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
    assert.throws(
      () => t.createSession('host', { signal: new AbortController().signal }),
      (e: unknown) => isAppError(e, 'TRANSPORT_CLOSED'),
    );
  });
});
