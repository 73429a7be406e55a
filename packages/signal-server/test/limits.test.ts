import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSignalServer, type SignalServer } from '@wormhole/signal-server';
import WebSocket from 'ws';
import { expectError, expectType, sleep, TestClient, waitFor } from './helpers.js';

describe('limits answered with typed errors', () => {
  let server: SignalServer;
  const clients: TestClient[] = [];
  before(async () => {
    server = await createSignalServer({
      maxConnectionsPerIp: 6,
      rateLimit: { messagesPerSec: 5, burst: 10 },
      maxMessageBytes: 4096,
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  it('per-connection rate limit: the burst passes, the excess gets SIGNAL_RATE_LIMITED, then it refills', async () => {
    const c = await TestClient.connect(server.url);
    clients.push(c);
    for (let i = 0; i < 30; i++) c.send({ type: 'ping', ref: `p${i}` });
    const replies = [];
    for (let i = 0; i < 30; i++) replies.push(await c.next());
    const pongs = replies.filter((m) => m.type === 'pong').length;
    const limited = replies.filter((m) => m.type === 'error' && m.code === 'SIGNAL_RATE_LIMITED').length;
    assert.equal(pongs + limited, 30, 'every message answered');
    assert.ok(pongs >= 10 && pongs <= 13, `burst of ~10 allowed, got ${pongs}`);
    await sleep(450); // ~2 tokens back at 5/s
    expectType(await c.request({ type: 'ping' }), 'pong');
    await c.close();
    clients.splice(clients.indexOf(c), 1);
  });

  it('oversized and binary messages get typed errors and the connection stays usable', async () => {
    const c = await TestClient.connect(server.url);
    clients.push(c);
    c.send(JSON.stringify({ type: 'relay', ref: 'big', payload: 'x'.repeat(5000) }));
    expectError(await c.next((m) => m.type === 'error'), 'SIGNAL_MESSAGE_TOO_LARGE');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expectError(await c.next((m) => m.type === 'error'), 'SIGNAL_BAD_MESSAGE');
    const bad = await c.request({ type: 'join', room: 'abc' });
    expectError(bad, 'SIGNAL_BAD_MESSAGE');
    expectType(await c.request({ type: 'ping' }), 'pong');
  });

  it('per-IP connection limit refuses the handshake with HTTP 429 and a typed body', async () => {
    // Two clients from the tests above may still be open; fill up to the limit of 6.
    const open: TestClient[] = [];
    while (clients.length + open.length < 6) open.push(await TestClient.connect(server.url));
    clients.push(...open);
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(server.url);
      ws.on('open', () => reject(new Error('7th connection was accepted')));
      ws.on('error', () => {});
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    assert.equal(refused.status, 429);
    assert.equal(JSON.parse(refused.body).code, 'SIGNAL_TOO_MANY_CONNECTIONS');
    // Closing one frees a slot.
    await open[0]?.close();
    clients.splice(clients.indexOf(open[0] as TestClient), 1);
    await sleep(50);
    clients.push(await TestClient.connect(server.url));
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /wormhole_errors_total\{code="SIGNAL_TOO_MANY_CONNECTIONS"\} 1/);
  });
});

describe('heartbeat', () => {
  it('terminates a half-open client that stops answering pings, and tells its room', async () => {
    const server = await createSignalServer({ heartbeatMs: 150 });
    // autoPong: false makes a client that is connected but never answers pings (like a dead NAT path).
    const dead = await TestClient.connect(server.url, { autoPong: false });
    const live = await TestClient.connect(server.url);
    try {
      const { room } = expectType(await live.request({ type: 'create' }), 'created');
      const { peerId } = expectType(await dead.request({ type: 'join', room }), 'joined');
      // Keep the live client active so only the silent one is cut.
      await waitFor(() => dead.closed, 3000, 'half-open client terminated');
      assert.equal(live.closed, false);
      const left = expectType(await live.next((m) => m.type === 'peer-left'), 'peer-left');
      assert.equal(left.peerId, peerId);
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      assert.match(metrics, /wormhole_errors_total\{code="SIGNAL_TIMEOUT"\} [1-9]/);
    } finally {
      await dead.close();
      await live.close();
      await server.close();
    }
  });
});
