import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAppError } from '@wormhole/protocol';
import type { Transport, TransportSignal } from '@wormhole/transport';
import {
  collect,
  connectSessions as connectPair,
  drain,
  handleCount,
  pump,
} from '@wormhole/transport/testing';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  webTransportMode,
  webTransportTransport,
} from '@wormhole/transport-webtransport';

const loopback = { listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] } as const;
const transports: Transport[] = [];
function make(opts: Parameters<typeof webTransportTransport>[0] = loopback): Transport {
  const t = webTransportTransport(opts);
  transports.push(t);
  return t;
}
after(async () => {
  await Promise.all(transports.map((t) => t.close()));
});

describe('webtransport transport', () => {
  const hostSide = make();
  const clientSide = make();

  it('connects, carries ordered messages both ways, and mirrors the binding', async () => {
    const { host, client } = await connectPair(hostSide, clientSide);
    assert.equal(host.kind, 'webtransport');
    const b1 = host.binding();
    const b2 = client.binding();
    assert.match(b1.local, /^[0-9a-f]{64}$/);
    assert.match(b1.remote, /^[0-9a-f]{64}$/);
    assert.notEqual(b1.local, b1.remote);
    assert.equal(b1.local, b2.remote);
    assert.equal(b1.remote, b2.local);
    const p = client.pathInfo();
    assert.equal(p.transport, 'webtransport');
    assert.equal(p.protocol, await webTransportMode());
    assert.equal(host.pathInfo().protocol, await webTransportMode());
    assert.equal(p.localCandidateType, 'direct');
    assert.equal(p.relayed, false);
    assert.match(p.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);

    const got = collect(host, 1000);
    for (let i = 0; i < 1000; i++) void client.send(Buffer.from(`m${i}`));
    assert.deepEqual(
      (await got).map((m) => Buffer.from(m).toString()),
      Array.from({ length: 1000 }, (_, i) => `m${i}`),
    );
    const back = collect(client, 3);
    await host.send(Buffer.from('a'));
    await host.send(new Uint8Array(0));
    await host.send(Buffer.from('c'));
    assert.deepEqual(
      (await back).map((m) => Buffer.from(m).toString()),
      ['a', '', 'c'],
    );
    client.close();
  });

  it('accepts a max-size message and rejects one byte more', async () => {
    const { host, client } = await connectPair(hostSide, clientSide);
    assert.equal(client.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
    const big = Buffer.alloc(client.maxMessageBytes, 7);
    big[big.length - 1] = 9;
    const got = collect(host, 1);
    await client.send(big);
    assert.deepEqual(Buffer.from((await got)[0]!), big);
    await assert.rejects(client.send(Buffer.alloc(client.maxMessageBytes + 1)), (e) =>
      isAppError(e, 'TRANSPORT_MESSAGE_TOO_LARGE'),
    );
    host.close();
  });

  it('moves 256 MiB with backpressure, byte-identical', async () => {
    const { host, client } = await connectPair(hostSide, clientSide);
    const total = 256 * 1024 * 1024;
    const received = drain(host, total);
    let maxBuffered = 0;
    const timer = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, client.bufferedAmount());
    }, 5);
    const sent = await pump(client, total, 1024 * 1024);
    clearInterval(timer);
    assert.equal(await received, sent);
    // Backpressure keeps the local queue bounded (a few messages, not the whole transfer).
    assert.ok(maxBuffered < 32 * 1024 * 1024, `buffered up to ${maxBuffered}`);
    client.close();
  });

  for (const closer of ['host', 'client'] as const) {
    it(`closing the ${closer} closes both sides once and rejects pending sends`, async () => {
      const pair = await connectPair(hostSide, clientSide);
      const other = closer === 'host' ? pair.client : pair.host;
      const self = pair[closer];
      const events: Array<[string, boolean]> = [];
      self.on('close', (i) => events.push(['self', i.local]));
      other.on('close', (i) => events.push(['other', i.local]));
      // Fill the socket until send() has to wait, then close: that pending send must reject.
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 64; i++) pending.push(self.send(Buffer.alloc(1024 * 1024)));
      const otherClosed = once(other, 'close');
      self.close('bye');
      self.close('again');
      const results = await Promise.allSettled(pending);
      assert.ok(
        results.some((r) => r.status === 'rejected' && isAppError(r.reason, 'TRANSPORT_CLOSED')),
        'some pending send rejected TRANSPORT_CLOSED',
      );
      await otherClosed;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(events.sort(), [
        ['other', false],
        ['self', true],
      ]);
      assert.equal(self.isClosed, true);
      assert.equal(other.isClosed, true);
      await assert.rejects(other.send(Buffer.from('x')), (e) => isAppError(e, 'TRANSPORT_CLOSED'));
    });
  }

  it('aborting a session rejects TRANSPORT_ABORTED', async () => {
    const ac = new AbortController();
    const s = hostSide.createSession('host', { signal: ac.signal });
    ac.abort();
    await assert.rejects(s.connected, (e) => isAppError(e, 'TRANSPORT_ABORTED'));
    const pre = new AbortController();
    pre.abort();
    const c = clientSide.createSession('client', { signal: pre.signal });
    await assert.rejects(c.connected, (e) => isAppError(e, 'TRANSPORT_ABORTED'));
  });

  it('a dial cancelled before its session is up still closes the connection (no idle socket keeps the process alive)', async () => {
    // What a race lost to tls does: the client aborts while its HTTP/2 connection is being set
    // up. The library's close() is a no-op until the session is ready, and the connection then
    // idled until the host dropped it (`wormhole get` exited ~2 s late in half the runs).
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    type Connect = (url: string, pin: Buffer) => unknown;
    const binding = await (clientSide as unknown as { binding(): Promise<{ connect: Connect }> }).binding();
    const connect = binding.connect;
    const ac = new AbortController();
    const hostAc = new AbortController();
    binding.connect = (url, pin) => {
      const s = connect.call(binding, url, pin);
      queueMicrotask(() => ac.abort());
      return s;
    };
    try {
      const host = hostSide.createSession('host', { signal: hostAc.signal });
      const client = clientSide.createSession('client', { signal: ac.signal });
      host.onSignal((s) => client.handleSignal(s));
      await assert.rejects(client.connected, (e) => isAppError(e, 'TRANSPORT_ABORTED'));
      hostAc.abort();
      await host.connected.catch(() => {});
    } finally {
      binding.connect = connect;
    }
    const deadline = Date.now() + 1500;
    while (sockets() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sockets(), before, 'a cancelled dial left its connection open');
  });

  it('times out with TRANSPORT_TIMEOUT', async () => {
    const quick = make({ ...loopback, connectTimeoutMs: 150 });
    const s = quick.createSession('host', { signal: new AbortController().signal });
    await assert.rejects(s.connected, (e) => isAppError(e, 'TRANSPORT_TIMEOUT'));
  });

  it('rejects malformed signals with TRANSPORT_BAD_SIGNAL', () => {
    const c = clientSide.createSession('client', { signal: new AbortController().signal });
    const good = {
      type: 'listen',
      addresses: ['127.0.0.1:1'],
      certHash: 'a'.repeat(64),
      token: 'A'.repeat(43),
    };
    const bad: unknown[] = [
      {},
      { ...good, type: 'offer' },
      { ...good, addresses: [] },
      { ...good, addresses: ['example.com:443'] },
      { ...good, addresses: ['127.0.0.1:99999'] },
      { ...good, certHash: 'A'.repeat(64) },
      { ...good, token: 'short' },
      { ...good, extra: 1 },
      { ...good, addresses: Array.from({ length: 17 }, () => '127.0.0.1:1') },
    ];
    for (const b of bad) {
      assert.throws(
        () => c.handleSignal(b as TransportSignal),
        (e) => isAppError(e, 'TRANSPORT_BAD_SIGNAL'),
        JSON.stringify(b),
      );
    }
    c.close();
  });

  it('a swapped certHash fails the pin with TRANSPORT_AUTH_FAILED', async () => {
    const ac = new AbortController();
    const host = hostSide.createSession('host', { signal: ac.signal });
    const client = clientSide.createSession('client', { signal: ac.signal });
    host.onSignal((s) => client.handleSignal({ ...s, certHash: 'ab'.repeat(32) }));
    await assert.rejects(client.connected, (e) => isAppError(e, 'TRANSPORT_AUTH_FAILED'));
    host.close();
    await assert.rejects(host.connected, (e) => isAppError(e, 'TRANSPORT_CLOSED'));
  });

  it('refuses a wrong token and a replayed one', async () => {
    const ac = new AbortController();
    const host = hostSide.createSession('host', { signal: ac.signal });
    const signal = await new Promise<TransportSignal>((resolve) => host.onSignal(resolve));
    const wrong = clientSide.createSession('client', { signal: ac.signal });
    wrong.handleSignal({ ...signal, token: Buffer.alloc(32, 1).toString('base64url') });
    await assert.rejects(wrong.connected, (e) => isAppError(e, 'TRANSPORT_CONNECT_FAILED'));
    // The host session is still waiting for the right token.
    const right = clientSide.createSession('client', { signal: ac.signal });
    right.handleSignal(signal);
    const [h, c] = await Promise.all([host.connected, right.connected]);
    const replay = clientSide.createSession('client', { signal: ac.signal });
    replay.handleSignal(signal);
    await assert.rejects(replay.connected, (e) => isAppError(e, 'TRANSPORT_CONNECT_FAILED'));
    assert.equal(h.isClosed, false);
    c.close();
  });

  it('connects to a host in a child process (echo), then the child exits by itself', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/wt-host.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@wormhole/source', '--import', 'tsx', fixture], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    // The library prints its 'http3 loader' notice on stdout where quiche is absent: skip non-JSON.
    const nextJson = async (): Promise<unknown> => {
      for (;;) {
        const line = (await lines.next()).value as string;
        if (line.startsWith('{')) return JSON.parse(line);
      }
    };
    const signal = (await nextJson()) as TransportSignal;
    const session = clientSide.createSession('client', { signal: AbortSignal.timeout(10_000) });
    session.handleSignal(signal);
    const ch = await session.connected;
    const { binding } = (await nextJson()) as {
      binding: { local: string; remote: string };
    };
    assert.deepEqual(binding, { local: ch.binding().remote, remote: ch.binding().local });
    const total = 32 * 1024 * 1024;
    const echoed = drain(ch, total);
    assert.equal(await pump(ch, total, 256 * 1024), await echoed);
    const exited = once(child, 'exit');
    ch.close();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const [code] = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, 'child exited by itself');
  });

  it('50 connect/close cycles leave no handles behind', async () => {
    const a = make();
    const b = make();
    await connectPair(a, b).then(({ client }) => client.close()); // warm-up: listener + certs exist
    await new Promise((r) => setTimeout(r, 100));
    const before = handleCount();
    for (let i = 0; i < 50; i++) {
      const { host, client } = await connectPair(a, b);
      const closed = Promise.all([once(host, 'close'), once(client, 'close')]);
      (i % 2 ? host : client).close();
      await closed;
    }
    await new Promise((r) => setTimeout(r, 300));
    const afterCount = handleCount();
    assert.ok(afterCount <= before + 2, `handles ${before} -> ${afterCount}`);
    await Promise.all([a.close(), b.close()]);
  });
});
