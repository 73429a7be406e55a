import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignalClient, TransportError } from '@wormhole/transport';
import { WebSocketServer } from 'ws';
import { createTestSignalServer, type TestSignalServer } from './helpers/test-signal-server.js';

describe('SignalClient', () => {
  let server: TestSignalServer;
  before(async () => {
    server = await createTestSignalServer();
  });
  after(async () => {
    await server.close();
  });

  it('creates, joins, relays both ways, sees peers come and go, leaves', async () => {
    const a = await SignalClient.connect(server.url);
    const b = await SignalClient.connect(server.url);
    try {
      assert.equal(a.serverInfo.serverId, 'test');
      const room = await a.create();
      const joinedSeen = new Promise<string>((r) => a.once('peer-joined', r));
      const joined = await b.join(room.room);
      assert.deepEqual(joined.peers, [room.peerId]);
      assert.equal(await joinedSeen, joined.peerId);
      const got = new Promise<[string, string]>((r) => b.once('relay', (from, p) => r([from, p])));
      a.relay('hello', joined.peerId);
      assert.deepEqual(await got, [room.peerId, 'hello']);
      const back = new Promise<[string, string]>((r) => a.once('relay', (from, p) => r([from, p])));
      b.relay('broadcast');
      assert.deepEqual(await back, [joined.peerId, 'broadcast']);
      const creds = await a.requestTurnCredentials();
      assert.equal(creds.username, 'u');
      const left = new Promise<string>((r) => a.once('peer-left', r));
      await b.leave();
      assert.equal(await left, joined.peerId);
    } finally {
      a.close();
      b.close();
    }
  });

  it('turns server errors into TRANSPORT_SIGNAL_ERROR with the server code', async () => {
    const a = await SignalClient.connect(server.url);
    try {
      const err = await a.join('99999999').catch((e) => e);
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'TRANSPORT_SIGNAL_ERROR');
      assert.equal(err.details?.code, 'SIGNAL_ROOM_NOT_FOUND');
      const room = await a.create();
      const again = await a.create({ room: room.room }).catch((e) => e);
      assert.equal(again.details?.code, 'SIGNAL_ALREADY_IN_ROOM');
      const relayErr = new Promise<TransportError>((r) => a.once('server-error', r));
      a.relay('x', 'nobody');
      assert.equal((await relayErr).details?.code, 'SIGNAL_PEER_NOT_FOUND');
    } finally {
      a.close();
    }
  });

  it('close rejects pending requests and emits close once; send after close throws', async () => {
    const a = await SignalClient.connect(server.url);
    let closes = 0;
    a.on('close', () => closes++);
    const p = a.create();
    a.close();
    a.close();
    await assert.rejects(p, { code: 'TRANSPORT_CLOSED' });
    assert.equal(closes, 1);
    assert.throws(() => a.relay('x'), { code: 'TRANSPORT_CLOSED' });
  });

  it('unreachable, aborted, silent and garbage-speaking servers give typed errors', async () => {
    await assert.rejects(SignalClient.connect('ws://127.0.0.1:1'), { code: 'TRANSPORT_SIGNAL_UNREACHABLE' });
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(SignalClient.connect(server.url, { signal: pre.signal }), {
      code: 'TRANSPORT_ABORTED',
    });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    try {
      await assert.rejects(SignalClient.connect(url, { timeoutMs: 200 }), { code: 'TRANSPORT_TIMEOUT' });
      wss.on('connection', (ws) => ws.send('{"type":"hello","v":"nope"}'));
      await assert.rejects(SignalClient.connect(url), { code: 'TRANSPORT_SIGNAL_ERROR' });
      wss.removeAllListeners('connection');
      wss.on('connection', (ws) => {
        ws.send(
          JSON.stringify({ type: 'hello', v: 1, serverId: 'x', maxMessageBytes: 1000, heartbeatMs: 1000 }),
        );
        ws.on('message', () => ws.send('garbage'));
      });
      const c = await SignalClient.connect(url, { requestTimeoutMs: 2000 });
      const closed = new Promise((r) => c.once('close', r));
      const err = await c.create().catch((e) => e);
      assert.equal(err.code, 'TRANSPORT_CLOSED');
      await closed;
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
