/**
 * @packageDocumentation
 * The behaviour every Transport must show, as a node:test suite. Each transport package runs it:
 *
 * @example
 * ```ts
 * import { transportComplianceTests } from '@wormhole/transport/compliance';
 * transportComplianceTests({
 *   name: 'tls',
 *   setup: async () => ({ host: tls(), client: tls() }),
 *   teardown: async ({ host, client }) => { await host.close(); await client.close(); },
 * });
 * ```
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PeerChannel } from '../peer-channel.js';
import type { Transport, TransportSession } from '../transport.js';
import { TransportError } from '../transport-error.js';

export interface ComplianceOptions {
  /** Suite name (the transport's). */
  readonly name: string;
  /** Creates the two endpoints; called once for the suite. */
  setup(): Promise<{ host: Transport; client: Transport }>;
  /** Releases them. */
  teardown(pair: { host: Transport; client: Transport }): Promise<void>;
  /** Per-connection timeout. Default 20000. */
  readonly connectTimeoutMs?: number;
  /** Bytes for the bulk test. Default 256 MiB. */
  readonly bulkBytes?: number;
}

/**
 * Connects a host and a client session by passing signals in memory (through JSON, as the room
 * would). One attempt that fails with TRANSPORT_CONNECT_FAILED is repeated: libjuice (the
 * datachannel transport's ICE) occasionally fails a loopback check when the CPU is saturated,
 * and in the product the transport race and the reconnect loop absorb that. The suite tests
 * what a connected channel does; connect reliability is measured by the NAT lab.
 */
export async function connectPair(
  host: Transport,
  client: Transport,
  timeoutMs = 20_000,
): Promise<{ host: PeerChannel; client: PeerChannel }> {
  try {
    return await connectPairOnce(host, client, timeoutMs);
  } catch (err) {
    if ((err as { code?: string }).code !== 'TRANSPORT_CONNECT_FAILED') throw err;
    return connectPairOnce(host, client, timeoutMs);
  }
}

async function connectPairOnce(
  host: Transport,
  client: Transport,
  timeoutMs: number,
): Promise<{ host: PeerChannel; client: PeerChannel }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const hs = host.createSession('host', { signal: ac.signal });
  const cs = client.createSession('client', { signal: ac.signal });
  const wire = (from: TransportSession, to: TransportSession): void =>
    from.onSignal((s) => {
      const copy = JSON.parse(JSON.stringify(s));
      setImmediate(() => {
        try {
          to.handleSignal(copy);
        } catch {
          // The session reports its own failure through `connected`.
        }
      });
    });
  wire(hs, cs);
  wire(cs, hs);
  try {
    const [h, c] = await Promise.all([hs.connected, cs.connected]);
    return { host: h, client: c };
  } catch (err) {
    hs.close();
    cs.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function nextMessage(ch: PeerChannel): Promise<Uint8Array> {
  return new Promise((resolve) => ch.once('message', resolve));
}

function closed(ch: PeerChannel): Promise<void> {
  return new Promise((resolve) => (ch.isClosed ? resolve() : ch.once('close', () => resolve())));
}

/** `seen` is exactly 0, 1, ..., n - 1: every message arrived, once, in order. */
function assertInOrder(seen: readonly number[], n: number): void {
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
  );
}

/** Registers the compliance suite for one transport. */
export function transportComplianceTests(opts: ComplianceOptions): void {
  describe(`transport compliance: ${opts.name}`, () => {
    let pair: { host: Transport; client: Transport };
    const connect = (): Promise<{ host: PeerChannel; client: PeerChannel }> =>
      connectPair(pair.host, pair.client, opts.connectTimeoutMs);

    before(async () => {
      pair = await opts.setup();
    });
    after(async () => {
      await opts.teardown(pair);
    });

    it('connects by exchanging signals, both ways usable', async () => {
      const { host, client } = await connect();
      try {
        assert.equal(host.kind, pair.host.kind);
        assert.equal(client.kind, pair.client.kind);
        const got = nextMessage(host);
        await client.send(new TextEncoder().encode('ping'));
        assert.equal(new TextDecoder().decode(await got), 'ping');
        const back = nextMessage(client);
        await host.send(new TextEncoder().encode('pong'));
        assert.equal(new TextDecoder().decode(await back), 'pong');
      } finally {
        host.close();
        client.close();
      }
    });

    it('keeps message order and boundaries', async () => {
      const { host, client } = await connect();
      try {
        const n = 2000;
        const seen: number[] = [];
        const done = new Promise<void>((resolve) =>
          host.on('message', (m) => {
            const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
            seen.push(dv.getUint32(0));
            assert.equal(m.byteLength, 4 + (seen.length % 97));
            if (seen.length === n) resolve();
          }),
        );
        for (let i = 0; i < n; i++) {
          const m = new Uint8Array(4 + ((i + 1) % 97));
          new DataView(m.buffer).setUint32(0, i);
          await client.send(m);
        }
        await done;
        assertInOrder(seen, n);
      } finally {
        host.close();
        client.close();
      }
    });

    it('carries messages up to maxMessageBytes and rejects larger ones', async () => {
      const { host, client } = await connect();
      try {
        assert.ok(client.maxMessageBytes >= 16 * 1024, 'maxMessageBytes is at least 16 KiB');
        const big = new Uint8Array(client.maxMessageBytes);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
        const got = nextMessage(host);
        await client.send(big);
        assert.deepEqual(await got, big);
        await assert.rejects(client.send(new Uint8Array(client.maxMessageBytes + 1)), {
          code: 'TRANSPORT_MESSAGE_TOO_LARGE',
        });
      } finally {
        host.close();
        client.close();
      }
    });

    it('keeps what the peer sent before the first message listener attached', async () => {
      // The peer may send the moment it is connected while the receiver attaches its listener
      // later (the bench did an IPC round trip first, lost messages and waited forever).
      const { host, client } = await connect();
      try {
        const n = 64;
        const size = Math.min(64 * 1024, host.maxMessageBytes);
        const sending = (async () => {
          for (let i = 0; i < n; i++) {
            const m = new Uint8Array(size);
            new DataView(m.buffer).setUint32(0, i);
            await host.send(m);
          }
        })();
        await new Promise((r) => setTimeout(r, 200));
        const seen: number[] = [];
        await new Promise<void>((resolve) =>
          client.on('message', (m) => {
            seen.push(new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0));
            if (seen.length === n) resolve();
          }),
        );
        await sending;
        assertInOrder(seen, n);
      } finally {
        host.close();
        client.close();
      }
    });

    it('moves bulk data honouring backpressure (bufferedAmount stays bounded)', async () => {
      const { host, client } = await connect();
      const total = opts.bulkBytes ?? 256 * 1024 * 1024;
      try {
        const size = Math.min(64 * 1024, client.maxMessageBytes);
        let received = 0;
        let expectSeq = 0;
        let ok = true;
        const done = new Promise<void>((resolve) =>
          host.on('message', (m) => {
            const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
            if (dv.getUint32(0) !== expectSeq++) ok = false;
            received += m.byteLength;
            if (received >= total) resolve();
          }),
        );
        let maxBuffered = 0;
        const chunk = new Uint8Array(size);
        for (let sent = 0, seq = 0; sent < total; sent += size, seq++) {
          new DataView(chunk.buffer).setUint32(0, seq);
          await client.send(chunk);
          maxBuffered = Math.max(maxBuffered, client.bufferedAmount());
        }
        await done;
        assert.ok(ok, 'bulk messages arrived in order');
        assert.equal(received, Math.ceil(total / size) * size);
        assert.ok(maxBuffered <= 64 * 1024 * 1024, `bufferedAmount stayed bounded (max ${maxBuffered})`);
      } finally {
        host.close();
        client.close();
      }
    });

    for (const side of ['client', 'host'] as const) {
      it(`close from the ${side} closes both and rejects pending sends`, async () => {
        const chans = await connect();
        const closer = chans[side];
        const other = side === 'client' ? chans.host : chans.client;
        const bothClosed = Promise.all([closed(closer), closed(other)]);
        // Fill the other side's queue so it has sends pending when the close lands.
        const pending: Promise<void>[] = [];
        const buf = new Uint8Array(Math.min(64 * 1024, other.maxMessageBytes));
        for (let i = 0; i < 256; i++) pending.push(other.send(buf).catch((e) => Promise.reject(e)));
        closer.close('test');
        await bothClosed;
        assert.equal(closer.isClosed, true);
        assert.equal(other.isClosed, true);
        const results = await Promise.allSettled(pending);
        for (const r of results) {
          if (r.status === 'rejected') assert.equal((r.reason as TransportError).code, 'TRANSPORT_CLOSED');
        }
        await assert.rejects(other.send(new Uint8Array(1)), { code: 'TRANSPORT_CLOSED' });
        await assert.rejects(closer.send(new Uint8Array(1)), { code: 'TRANSPORT_CLOSED' });
        closer.close();
        other.close();
      });
    }

    it('abort of a pending session rejects with TRANSPORT_ABORTED', async () => {
      const ac = new AbortController();
      const s = pair.host.createSession('host', { signal: ac.signal });
      s.onSignal(() => {});
      ac.abort();
      await assert.rejects(
        s.connected,
        (err: unknown) => err instanceof TransportError && err.code === 'TRANSPORT_ABORTED',
      );
      s.close();
      const pre = new AbortController();
      pre.abort();
      const s2 = pair.client.createSession('client', { signal: pre.signal });
      await assert.rejects(s2.connected, { code: 'TRANSPORT_ABORTED' });
      s2.close();
    });

    it('reports mirrored, non-empty binding fingerprints and a sane path', async () => {
      const { host, client } = await connect();
      try {
        const hb = host.binding();
        const cb = client.binding();
        for (const fp of [hb.local, hb.remote, cb.local, cb.remote]) assert.match(fp, /^[0-9a-f]{40,128}$/);
        assert.equal(hb.local, cb.remote);
        assert.equal(hb.remote, cb.local);
        assert.notEqual(hb.local, hb.remote);
        for (const p of [host.pathInfo(), client.pathInfo()]) {
          assert.equal(p.transport, pair.host.kind);
          assert.ok(p.protocol.length > 0);
          assert.equal(typeof p.relayed, 'boolean');
          assert.ok(['host', 'srflx', 'prflx', 'relay', 'direct'].includes(p.localCandidateType));
          assert.ok(['host', 'srflx', 'prflx', 'relay', 'direct'].includes(p.remoteCandidateType));
        }
      } finally {
        host.close();
        client.close();
      }
    });
  });
}
