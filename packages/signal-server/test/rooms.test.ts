import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '@wormhole/protocol';
import { createSignalServer, type SignalServer } from '@wormhole/signal-server';
import { expectError, expectType, sleep, TestClient } from './helpers.js';

describe('rooms over real WebSockets (memory mode)', () => {
  let server: SignalServer;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await TestClient.connect(server.url);
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await createSignalServer({
      maxPeersPerRoom: 3,
      maxRooms: 50,
      turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'test-turn-secret', ttlSec: 600 },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  it('sends hello with protocol version and limits on connect', async () => {
    const c = await connect();
    assert.deepEqual(c.hello, {
      type: 'hello',
      v: PROTOCOL_VERSION,
      serverId: server.serverId,
      maxMessageBytes: 65536,
      heartbeatMs: 30000,
    });
    assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('create → join → relay both ways → leave → peer-left; room deleted when empty', async () => {
    const host = await connect();
    const guest = await connect();
    const created = expectType(await host.request({ type: 'create' }), 'created');
    assert.match(created.room, /^[1-9][0-9]{0,7}$/);
    assert.ok(created.expiresAt > Date.now());

    const joined = expectType(await guest.request({ type: 'join', room: created.room }), 'joined');
    assert.deepEqual(joined.peers, [created.peerId]);
    assert.notEqual(joined.peerId, created.peerId);
    const pj = expectType(await host.next((m) => m.type === 'peer-joined'), 'peer-joined');
    assert.equal(pj.peerId, joined.peerId);

    guest.send({ type: 'relay', payload: 'offer-sdp-opaque' });
    const r1 = expectType(await host.next((m) => m.type === 'relay'), 'relay');
    assert.deepEqual(r1, { type: 'relay', from: joined.peerId, payload: 'offer-sdp-opaque' });
    host.send({ type: 'relay', to: joined.peerId, payload: 'answer' });
    const r2 = expectType(await guest.next((m) => m.type === 'relay'), 'relay');
    assert.equal(r2.from, created.peerId);

    expectType(await guest.request({ type: 'leave' }), 'left');
    const pl = expectType(await host.next((m) => m.type === 'peer-left'), 'peer-left');
    assert.equal(pl.peerId, joined.peerId);
    expectType(await host.request({ type: 'leave' }), 'left');
    // Empty room is gone: joining it now fails, and reclaiming it works.
    expectError(await guest.request({ type: 'join', room: created.room }), 'SIGNAL_ROOM_NOT_FOUND');
    const again = expectType(await host.request({ type: 'create', room: created.room }), 'created');
    assert.equal(again.room, created.room);
    await host.request({ type: 'leave' });
  });

  it('relay only reaches the addressed peer and never the sender', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const { room, peerId: aId } = expectType(await a.request({ type: 'create' }), 'created');
    const bj = expectType(await b.request({ type: 'join', room }), 'joined');
    const cj = expectType(await c.request({ type: 'join', room }), 'joined');
    assert.deepEqual(new Set(cj.peers), new Set([aId, bj.peerId]));
    a.send({ type: 'relay', to: cj.peerId, payload: 'only-c' });
    assert.equal(expectType(await c.next((m) => m.type === 'relay'), 'relay').payload, 'only-c');
    a.send({ type: 'relay', payload: 'everyone' });
    assert.equal(expectType(await b.next((m) => m.type === 'relay'), 'relay').payload, 'everyone');
    assert.equal(expectType(await c.next((m) => m.type === 'relay'), 'relay').payload, 'everyone');
    await sleep(50);
    assert.equal(
      a.messages.some((m) => m.type === 'relay'),
      false,
    );
    assert.equal(
      b.messages.some((m) => m.type === 'relay'),
      false,
      'b must not have received the message addressed to c',
    );
    expectError(await a.request({ type: 'relay', to: aId, payload: 'x' }), 'SIGNAL_PEER_NOT_FOUND');
    expectError(await a.request({ type: 'relay', to: 'nobody', payload: 'x' }), 'SIGNAL_PEER_NOT_FOUND');
  });

  it('room full, missing room, reclaim of a taken nameplate, double create, relay outside a room', async () => {
    const a = await connect();
    const { room } = expectType(await a.request({ type: 'create', maxPeers: 2 }), 'created');
    const b = await connect();
    expectType(await b.request({ type: 'join', room }), 'joined');
    const c = await connect();
    expectError(await c.request({ type: 'join', room }), 'SIGNAL_ROOM_FULL');
    expectError(await c.request({ type: 'join', room: '99999999' }), 'SIGNAL_ROOM_NOT_FOUND');
    expectError(await c.request({ type: 'create', room }), 'SIGNAL_ROOM_EXISTS');
    expectError(await a.request({ type: 'create' }), 'SIGNAL_ALREADY_IN_ROOM');
    expectError(await c.request({ type: 'relay', payload: 'x' }), 'SIGNAL_NOT_IN_ROOM');
    expectError(await c.request({ type: 'leave' }), 'SIGNAL_NOT_IN_ROOM');
    expectType(await c.request({ type: 'ping' }), 'pong');
  });

  it('a closed socket is an implicit leave', async () => {
    const a = await connect();
    const b = await connect();
    const { room } = expectType(await a.request({ type: 'create' }), 'created');
    const { peerId } = expectType(await b.request({ type: 'join', room }), 'joined');
    b.ws.terminate();
    const left = expectType(await a.next((m) => m.type === 'peer-left'), 'peer-left');
    assert.equal(left.peerId, peerId);
    assert.equal(left.room, room);
  });

  it('turn-credentials follow coturn REST API (HMAC-SHA1 over expiry:peerId)', async () => {
    const a = await connect();
    const { peerId } = expectType(await a.request({ type: 'create' }), 'created');
    const creds = expectType(await a.request({ type: 'turn-credentials' }), 'turn-credentials');
    assert.deepEqual(creds.urls, ['turn:127.0.0.1:3478?transport=udp']);
    assert.equal(creds.ttlSeconds, 600);
    const [expiry, who] = creds.username.split(':');
    assert.equal(who, peerId);
    const delta = Number(expiry) - Math.floor(Date.now() / 1000);
    assert.ok(delta > 590 && delta <= 600, `expiry ${delta}s ahead`);
    const expected = createHmac('sha1', 'test-turn-secret').update(creds.username).digest('base64');
    assert.equal(creds.credential, expected);
  });

  it('max rooms is enforced with SIGNAL_TOO_MANY_ROOMS and nameplates stay short', async () => {
    const small = await createSignalServer({ maxRooms: 5 });
    const cs: TestClient[] = [];
    try {
      const rooms: string[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await TestClient.connect(small.url);
        cs.push(c);
        rooms.push(expectType(await c.request({ type: 'create' }), 'created').room);
      }
      assert.equal(new Set(rooms).size, 5);
      // 5 rooms: the space grows to 2 digits only after 4 (half of 1..9) are used.
      for (const r of rooms) assert.ok(r.length <= 2, `nameplate ${r} too long for 5 rooms`);
      const extra = await TestClient.connect(small.url);
      cs.push(extra);
      expectError(await extra.request({ type: 'create' }), 'SIGNAL_TOO_MANY_ROOMS');
    } finally {
      await Promise.all(cs.map((c) => c.close()));
      await small.close();
    }
  });

  it('turn-credentials without TURN config → SIGNAL_TURN_UNAVAILABLE', async () => {
    const plain = await createSignalServer();
    const c = await TestClient.connect(plain.url);
    try {
      expectError(await c.request({ type: 'turn-credentials' }), 'SIGNAL_TURN_UNAVAILABLE');
    } finally {
      await c.close();
      await plain.close();
    }
  });

  it('idle rooms expire: members get room-expired and the nameplate is free again', async () => {
    const quick = await createSignalServer({ roomTimeoutSec: 0.3 });
    const a = await TestClient.connect(quick.url);
    const b = await TestClient.connect(quick.url);
    try {
      const { room } = expectType(await a.request({ type: 'create' }), 'created');
      expectType(await b.request({ type: 'join', room }), 'joined');
      // Activity keeps it alive.
      for (let i = 0; i < 4; i++) {
        await sleep(120);
        a.send({ type: 'relay', payload: 'keepalive' });
      }
      assert.equal(
        a.messages.some((m) => m.type === 'room-expired'),
        false,
      );
      const ea = expectType(await a.next((m) => m.type === 'room-expired', 2000), 'room-expired');
      const eb = expectType(await b.next((m) => m.type === 'room-expired', 2000), 'room-expired');
      assert.equal(ea.room, room);
      assert.equal(eb.room, room);
      expectError(await a.request({ type: 'relay', payload: 'x' }), 'SIGNAL_NOT_IN_ROOM');
      expectType(await a.request({ type: 'create', room }), 'created');
    } finally {
      await a.close();
      await b.close();
      await quick.close();
    }
  });
});
