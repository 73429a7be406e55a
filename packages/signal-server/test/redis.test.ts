import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSignalServer, type SignalServer } from '@wormhole/signal-server';
import { expectError, expectType, freePort, sleep, TestClient, waitFor } from './helpers.js';

const REDIS = '/usr/bin/redis-server';
const skip = existsSync(REDIS) ? false : 'redis-server is not installed (apt-get install redis-server)';

/** Starts a throwaway redis-server (no persistence) on `port` and waits until it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(() => out.includes('Ready to accept connections'), 5000, 'redis-server to start');
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const readyStatus = async (s: SignalServer): Promise<number> => (await fetch(`${s.httpUrl}/ready`)).status;

describe('Redis mode: two instances share rooms', { skip }, () => {
  let redisPort = 0;
  let redis: ChildProcess | undefined;
  let s1: SignalServer;
  let s2: SignalServer;
  const clients: TestClient[] = [];
  const connect = async (s: { url: string }): Promise<TestClient> => {
    const c = await TestClient.connect(s.url);
    clients.push(c);
    return c;
  };

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const common = {
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      redisKeyPrefix: `test${process.pid}:`,
      instanceTtlMs: 600,
      roomTimeoutSec: 60,
    };
    s1 = await createSignalServer({ ...common, serverId: 'inst-one' });
    s2 = await createSignalServer({ ...common, serverId: 'inst-two' });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await s1?.close();
    await s2?.close();
    await stopRedis(redis);
  });

  it('host on one instance, client on the other: rendezvous, relay both ways, peer-left', async () => {
    assert.equal(await readyStatus(s1), 200);
    assert.equal(await readyStatus(s2), 200);
    const host = await connect(s1);
    const guest = await connect(s2);
    const created = expectType(await host.request({ type: 'create' }), 'created');
    const joined = expectType(await guest.request({ type: 'join', room: created.room }), 'joined');
    assert.deepEqual(joined.peers, [created.peerId]);
    const pj = expectType(await host.next((m) => m.type === 'peer-joined'), 'peer-joined');
    assert.equal(pj.peerId, joined.peerId);

    guest.send({ type: 'relay', payload: 'offer' });
    assert.deepEqual(await host.next((m) => m.type === 'relay'), {
      type: 'relay',
      from: joined.peerId,
      payload: 'offer',
    });
    host.send({ type: 'relay', to: joined.peerId, payload: 'answer' });
    assert.equal(expectType(await guest.next((m) => m.type === 'relay'), 'relay').payload, 'answer');
    // Same nameplate cannot be created on the other instance; a full room is full everywhere.
    const other = await connect(s2);
    expectError(await other.request({ type: 'create', room: created.room }), 'SIGNAL_ROOM_EXISTS');
    expectType(await guest.request({ type: 'leave' }), 'left');
    const pl = expectType(await host.next((m) => m.type === 'peer-left'), 'peer-left');
    assert.equal(pl.peerId, joined.peerId);
    expectType(await host.request({ type: 'leave' }), 'left');
    expectError(await other.request({ type: 'join', room: created.room }), 'SIGNAL_ROOM_NOT_FOUND');
    const m = await (await fetch(`${s1.httpUrl}/metrics`)).text();
    assert.match(m, /^wormhole_messages_relayed_total 1$/m);
  });

  it('room limits hold across instances (maxPeers)', async () => {
    const a = await connect(s1);
    const { room } = expectType(await a.request({ type: 'create', maxPeers: 2 }), 'created');
    const b = await connect(s2);
    expectType(await b.request({ type: 'join', room }), 'joined');
    const c = await connect(s1);
    expectError(await c.request({ type: 'join', room }), 'SIGNAL_ROOM_FULL');
    await a.request({ type: 'leave' });
    await b.request({ type: 'leave' });
  });

  it('an instance that dies: the other keeps serving and removes the dead peers from rooms', async () => {
    const common = {
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      redisKeyPrefix: `test${process.pid}:`,
      instanceTtlMs: 600,
    };
    // A real instance process, killed with SIGKILL: no leave is ever written for its peers.
    const child = spawn(
      process.execPath,
      [
        '--conditions=@wormhole/source',
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/run-server.ts', import.meta.url)),
        JSON.stringify({ ...common, serverId: 'inst-doomed' }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout?.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] as string);
        });
        child.once('exit', (code) => reject(new Error(`instance exited early (${code})`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const host = await connect(s2);
      const doomed = await connect({ url });
      const created = expectType(await host.request({ type: 'create' }), 'created');
      const { peerId } = expectType(await doomed.request({ type: 'join', room: created.room }), 'joined');
      await host.next((m) => m.type === 'peer-joined');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      // The survivor notices the missing heartbeat and tells the host the peer is gone.
      const left = expectType(await host.next((m) => m.type === 'peer-left', 5000), 'peer-left');
      assert.equal(left.peerId, peerId);
      // And keeps serving: a new client on the survivor joins the same room and sees only the host.
      const fresh = await connect(s2);
      const j = expectType(await fresh.request({ type: 'join', room: created.room }), 'joined');
      assert.deepEqual(j.peers, [created.peerId]);
      fresh.send({ type: 'relay', payload: 'hi-host' });
      assert.equal(expectType(await host.next((m) => m.type === 'relay'), 'relay').payload, 'hi-host');
      await fresh.request({ type: 'leave' });
      await host.request({ type: 'leave' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('Redis hung (SIGSTOP) → /ready 503; a disconnect meanwhile is reconciled once it answers, with no false reaping', async () => {
    const host = await connect(s1);
    const guest = await connect(s2);
    const created = expectType(await host.request({ type: 'create' }), 'created');
    const joined = expectType(await guest.request({ type: 'join', room: created.room }), 'joined');
    await host.next((m) => m.type === 'peer-joined');
    redis?.kill('SIGSTOP');
    try {
      await waitFor(
        async () => (await readyStatus(s1)) === 503 && (await readyStatus(s2)) === 503,
        8000,
        '/ready 503',
      );
      expectError(await host.request({ type: 'relay', payload: 'x' }), 'SIGNAL_UNAVAILABLE');
      // The guest goes away while its leave cannot be written. Stay stopped longer than
      // instanceTtlMs, so every heartbeat in Redis is stale when it resumes.
      guest.ws.terminate();
      await sleep(900);
    } finally {
      redis?.kill('SIGCONT');
    }
    await waitFor(
      async () => (await readyStatus(s1)) === 200 && (await readyStatus(s2)) === 200,
      8000,
      '/ready 200',
    );
    const left = expectType(await host.next((m) => m.type === 'peer-left', 5000), 'peer-left');
    assert.equal(left.peerId, joined.peerId);
    // The host was not reaped as "dead" after the stall: its room still works.
    await sleep(1000);
    const again = await connect(s2);
    const j = expectType(await again.request({ type: 'join', room: created.room }), 'joined');
    assert.deepEqual(j.peers, [created.peerId]);
    again.send({ type: 'relay', payload: 'post-stall' });
    assert.equal(expectType(await host.next((m) => m.type === 'relay'), 'relay').payload, 'post-stall');
    await again.request({ type: 'leave' });
    await host.request({ type: 'leave' });
  });

  it('Redis down → /ready 503 and SIGNAL_UNAVAILABLE; Redis back → ready and serving again', async () => {
    const a = await connect(s1);
    expectType(await a.request({ type: 'ping' }), 'pong');
    await stopRedis(redis);
    await waitFor(
      async () => (await readyStatus(s1)) === 503 && (await readyStatus(s2)) === 503,
      5000,
      '/ready 503',
    );
    assert.equal((await fetch(`${s1.httpUrl}/health`)).status, 200, 'process stays up');
    expectError(await a.request({ type: 'create' }), 'SIGNAL_UNAVAILABLE');
    expectError(await a.request({ type: 'join', room: '12' }), 'SIGNAL_UNAVAILABLE');
    expectType(await a.request({ type: 'ping' }), 'pong');
    await sleep(200);
    redis = await startRedis(redisPort);
    await waitFor(
      async () => (await readyStatus(s1)) === 200 && (await readyStatus(s2)) === 200,
      8000,
      '/ready 200',
    );
    const host = await connect(s1);
    const guest = await connect(s2);
    const { room } = expectType(await host.request({ type: 'create' }), 'created');
    expectType(await guest.request({ type: 'join', room }), 'joined');
    guest.send({ type: 'relay', payload: 'after-outage' });
    assert.equal(expectType(await host.next((m) => m.type === 'relay'), 'relay').payload, 'after-outage');
  });
});

describe('Redis mode: room expiry is announced across instances', { skip }, () => {
  it('members on both instances get room-expired', async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    const common = { redisUrl: `redis://127.0.0.1:${port}`, roomTimeoutSec: 0.4, instanceTtlMs: 1000 };
    const s1 = await createSignalServer(common);
    const s2 = await createSignalServer(common);
    const a = await TestClient.connect(s1.url);
    const b = await TestClient.connect(s2.url);
    try {
      const { room } = expectType(await a.request({ type: 'create' }), 'created');
      expectType(await b.request({ type: 'join', room }), 'joined');
      assert.equal(
        expectType(await a.next((m) => m.type === 'room-expired', 3000), 'room-expired').room,
        room,
      );
      assert.equal(
        expectType(await b.next((m) => m.type === 'room-expired', 3000), 'room-expired').room,
        room,
      );
      expectError(await b.request({ type: 'relay', payload: 'x' }), 'SIGNAL_NOT_IN_ROOM');
    } finally {
      await a.close();
      await b.close();
      await s1.close();
      await s2.close();
      await stopRedis(redis);
    }
  });
});
