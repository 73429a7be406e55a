import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createSignalServer } from '@wormhole/signal-server';
import { expectError, expectType, selfSignedCert, TestClient } from './helpers.js';

describe('HTTP endpoints', () => {
  it('/health, /ready, /metrics (valid per promtool), 404; drain flips /ready and tells clients', async () => {
    const server = await createSignalServer({ drainTimeoutMs: 2000 });
    const a = await TestClient.connect(server.url);
    const b = await TestClient.connect(server.url);
    try {
      assert.equal((await fetch(`${server.httpUrl}/health`)).status, 200);
      const ready = await fetch(`${server.httpUrl}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready' });
      assert.equal((await fetch(`${server.httpUrl}/nope`)).status, 404);

      const { room } = expectType(await a.request({ type: 'create' }), 'created');
      expectType(await b.request({ type: 'join', room }), 'joined');
      b.send({ type: 'relay', payload: 'p' });
      await a.next((m) => m.type === 'relay');
      expectError(await a.request({ type: 'join', room: 'x' }), 'SIGNAL_BAD_MESSAGE');

      const res = await fetch(`${server.httpUrl}/metrics`);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      assert.match(text, /^wormhole_active_rooms 1$/m);
      assert.match(text, /^wormhole_active_connections 2$/m);
      assert.match(text, /^wormhole_total_connections 2$/m);
      assert.match(text, /^wormhole_messages_relayed_total 1$/m);
      assert.match(text, /^wormhole_errors_total\{code="SIGNAL_BAD_MESSAGE"\} 1$/m);
      assert.match(text, /^# TYPE wormhole_connection_duration_seconds histogram$/m);

      if (!existsSync('/usr/bin/promtool')) {
        console.log('# promtool not installed; skipping the promtool check (apt-get install prometheus)');
      } else {
        const check = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        // promtool exits 3 for lint findings. The only one allowed is the name the issue fixes
        // (wormhole_total_connections, a counter without the _total suffix); anything else fails.
        const findings = `${check.stdout}${check.stderr}`
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.length > 0);
        const unexpected = findings.filter(
          (l) => l !== 'wormhole_total_connections counter metrics should have "_total" suffix',
        );
        assert.deepEqual(unexpected, [], `promtool: ${findings.join('; ')}`);
        assert.ok(check.status === 0 || check.status === 3, `promtool exit ${check.status}`);
      }

      const drained = server.drain();
      const closingA = expectType(await a.next((m) => m.type === 'closing'), 'closing');
      assert.equal(closingA.reason, 'shutdown');
      expectType(await b.next((m) => m.type === 'closing'), 'closing');
      const during = await fetch(`${server.httpUrl}/ready`);
      assert.equal(during.status, 503);
      assert.equal(((await during.json()) as { reason: string }).reason, 'draining');
      await drained;
      assert.equal(a.closed && b.closed, true);
      assert.equal(a.closeCode, 1001);
      // New WebSocket connections are refused while draining, with a typed 503.
      await assert.rejects(TestClient.connect(server.url), /handshake refused: 503/);
      assert.equal((await fetch(`${server.httpUrl}/health`)).status, 200);
    } finally {
      await a.close();
      await b.close();
      await server.close();
    }
  });

  it('drain is bounded: a client that never completes the close handshake is cut after drainTimeoutMs', async () => {
    const server = await createSignalServer({ drainTimeoutMs: 300, maxConnections: 2 });
    // A raw TCP client that upgrades and then ignores everything (no close reply, no pong).
    const raw = connect(server.port, '127.0.0.1');
    let got = '';
    raw.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    const rawClosed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    try {
      const end = Date.now() + 3000;
      while (!got.includes('hello') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.match(got, /^HTTP\/1\.1 101/);
      // The server-wide limit (2) refuses a third socket with HTTP 503.
      const second = await TestClient.connect(server.url);
      await assert.rejects(TestClient.connect(server.url), /handshake refused: 503/);
      await second.close();
      const t0 = Date.now();
      await server.drain();
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 2500, `drain took ${took} ms`);
      await rawClosed;
      assert.match(got, /"closing"/);
    } finally {
      raw.destroy();
      await server.close();
    }
  });

  it('two servers in one process keep separate metrics', async () => {
    const s1 = await createSignalServer();
    const s2 = await createSignalServer();
    const c = await TestClient.connect(s1.url);
    try {
      const m1 = await (await fetch(`${s1.httpUrl}/metrics`)).text();
      const m2 = await (await fetch(`${s2.httpUrl}/metrics`)).text();
      assert.match(m1, /^wormhole_total_connections 1$/m);
      assert.match(m2, /^wormhole_total_connections 0$/m);
    } finally {
      await c.close();
      await s1.close();
      await s2.close();
    }
  });
});

describe('TLS', () => {
  it('serves wss/https with TLS 1.3 and refuses TLS 1.2', async () => {
    const tls = selfSignedCert();
    const server = await createSignalServer({ tls: { cert: tls.cert, key: tls.key } });
    try {
      assert.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
      assert.match(server.httpUrl, /^https:\/\//);
      const a = await TestClient.connect(server.url, { ca: tls.cert });
      const b = await TestClient.connect(server.url, { ca: tls.cert });
      const { room } = expectType(await a.request({ type: 'create' }), 'created');
      expectType(await b.request({ type: 'join', room }), 'joined');
      a.send({ type: 'relay', payload: 'over-tls' });
      assert.equal(expectType(await b.next((m) => m.type === 'relay'), 'relay').payload, 'over-tls');
      const proto = (a.ws as unknown as { _socket: { getProtocol(): string } })._socket.getProtocol();
      assert.equal(proto, 'TLSv1.3');
      await a.close();
      await b.close();

      const status = await new Promise<number>((resolve, reject) => {
        request(`${server.httpUrl}/health`, { ca: tls.cert }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      assert.equal(status, 200);
      const old = await new Promise<string>((resolve) => {
        request(`${server.httpUrl}/health`, { ca: tls.cert, maxVersion: 'TLSv1.2' }, () =>
          resolve('accepted'),
        )
          .on('error', (err) => resolve(err.message))
          .end();
      });
      assert.notEqual(old, 'accepted');
    } finally {
      await server.close();
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });

  it('rejects an unusable certificate with SIGNAL_SERVER_TLS_FAILED', async () => {
    await assert.rejects(createSignalServer({ tls: { cert: 'not a cert', key: 'nope' } }), {
      code: 'SIGNAL_SERVER_TLS_FAILED',
    });
  });
});
