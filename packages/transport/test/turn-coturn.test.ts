// The TURN-over-TCP client against a real coturn on 127.0.0.1 (RFC 6062 TCP allocations with
// TURN REST credentials): allocate, permission, a peer connecting to the relayed address,
// release, and what coturn refuses.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  isTurnError,
  type RelayedConnection,
  TcpAllocation,
  type TurnTcpServer,
  tcpBinding,
} from '@wormhole/transport/turn';
import { coturnUnavailableReason, startCoturn, type TestCoturn } from '@wormhole/transport/turn/testing';

const skip = coturnUnavailableReason();

/** Connects to the relayed address and resolves with the socket once connected. */
async function dial(a: TcpAllocation): Promise<Socket> {
  const s = connect({ host: a.relayed.address, port: a.relayed.port });
  await once(s, 'connect');
  return s;
}

/** Reads until `n` bytes arrived. */
async function readN(s: Socket, n: number, first: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  let got: Buffer = first;
  while (got.byteLength < n) {
    const [chunk] = (await once(s, 'data')) as [Buffer];
    got = Buffer.concat([got, chunk]);
  }
  return got;
}

describe('TURN over TCP against coturn', { skip: skip ?? false }, () => {
  let turn: TestCoturn;
  let server: TurnTcpServer;
  before(async () => {
    turn = await startCoturn();
    server = { host: turn.host, port: turn.port, ...turn.credentials() };
  });
  after(async () => {
    await turn?.stop();
  });

  it('allocates a TCP relay; a permitted peer connects and bytes flow both ways', async () => {
    const alloc = await TcpAllocation.allocate(server);
    try {
      assert.equal(alloc.relayed.address, '127.0.0.1');
      assert.ok(alloc.relayed.port > 0);
      const me = await tcpBinding(server);
      assert.equal(me.address, '127.0.0.1');
      await alloc.permit([me.address]);
      const incoming = once(alloc, 'connection') as Promise<[RelayedConnection]>;
      const peer = await dial(alloc);
      // Written before the host's side is bound: arrives as `rest` or right after.
      peer.write('hello through the relay');
      const [conn] = await incoming;
      assert.equal(conn.peer.address, '127.0.0.1');
      conn.socket.resume();
      const got = await readN(conn.socket, 23, conn.rest);
      assert.equal(got.toString(), 'hello through the relay');
      const big = Buffer.alloc(4 * 1024 * 1024, 0x5a);
      conn.socket.write(big);
      const back = await readN(peer, big.byteLength);
      assert.equal(back.byteLength, big.byteLength);
      peer.destroy();
      conn.socket.destroy();
    } finally {
      await alloc.close();
    }
    // The release is a Refresh with lifetime 0.
    await turn.waitForLog(/refreshed.*lifetime=0/);
  });

  it('coturn refuses a peer without a permission (why the client sends its address)', async () => {
    const alloc = await TcpAllocation.allocate(server);
    try {
      let handed = 0;
      alloc.on('connection', () => handed++);
      const s = connect({ host: alloc.relayed.address, port: alloc.relayed.port });
      s.on('error', () => {});
      const [ended] = await Promise.race([
        new Promise<string[]>((r) => s.once('close', () => r(['closed']))),
        new Promise<string[]>((r) => setTimeout(() => r(['still open']), 3000)),
      ]);
      assert.equal(ended, 'closed');
      assert.equal(handed, 0);
      await turn.waitForLog(/peer has no permission to connect/);
    } finally {
      await alloc.close();
    }
  });

  it('Connect (RFC 6062 §4.3) opens an outgoing relayed connection to a permitted peer', async () => {
    // The other permission scheme: the allocation's owner dials out. Here the "peer" is a
    // second allocation's relayed address on the same server.
    const a = await TcpAllocation.allocate(server);
    const b = await TcpAllocation.allocate(server);
    try {
      await a.permit([b.relayed.address]);
      await b.permit([a.relayed.address]);
      const incoming = once(b, 'connection') as Promise<[RelayedConnection]>;
      const id = await a.connect(b.relayed);
      const out = await a.bind(id);
      const [inc] = await incoming;
      out.socket.resume();
      inc.socket.resume();
      out.socket.write('ping');
      assert.equal((await readN(inc.socket, 4, inc.rest)).toString(), 'ping');
      out.socket.destroy();
      inc.socket.destroy();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('wrong credentials: TURN_AUTH_FAILED; nothing listening: TURN_UNREACHABLE', async () => {
    await assert.rejects(TcpAllocation.allocate({ ...server, password: 'wrong' }), (e) =>
      isTurnError(e, 'TURN_AUTH_FAILED'),
    );
    await assert.rejects(TcpAllocation.allocate({ ...server, port: 1 }), (e) =>
      isTurnError(e, 'TURN_UNREACHABLE'),
    );
  });

  it('aborting an allocation in progress rejects with TURN_ABORTED and leaves nothing open', async () => {
    const ac = new AbortController();
    const p = TcpAllocation.allocate(server, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e) => isTurnError(e, 'TURN_ABORTED'));
  });
});
