// Fuzz: hostile bytes to every part of the TURN client that reads the wire must only ever
// produce TurnErrors (never a RangeError, TypeError or a crash), in the codec and through a
// live control connection to a fake server.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import {
  Attr,
  bindConnection,
  decodeStunMessage,
  decodeXorAddress,
  encodeStunMessage,
  encodeXorAddress,
  errorCodeAttribute,
  getAttribute,
  LongTermAuth,
  longTermKey,
  Method,
  readErrorCode,
  readText,
  readU32,
  requestedTransportTcp,
  StunFramer,
  StunTcpConnection,
  TcpAllocation,
  TurnError,
  textAttribute,
  u32Attribute,
  verifyIntegrity,
} from '@wormhole/transport/turn';

const KEY = longTermKey('u', 'r', 'p');

/** Valid messages of every shape the client meets, to mutate. */
function seeds(): Buffer[] {
  const tid = randomBytes(12);
  const addr = (type: number, address: string) => ({
    type,
    value: encodeXorAddress({ address, port: randomInt(1, 65536) }, tid),
  });
  return [
    encodeStunMessage(
      {
        method: Method.Allocate,
        cls: 'success',
        transactionId: tid,
        attributes: [
          addr(Attr.XorRelayedAddress, '198.51.100.2'),
          addr(Attr.XorMappedAddress, '2001:db8::7'),
          u32Attribute(Attr.Lifetime, 600),
        ],
      },
      { key: KEY, withFingerprint: true },
    ),
    encodeStunMessage(
      {
        method: Method.Allocate,
        cls: 'error',
        transactionId: tid,
        attributes: [
          errorCodeAttribute(401, 'Unauthorized'),
          textAttribute(Attr.Realm, 'r'),
          textAttribute(Attr.Nonce, 'abcdef'),
        ],
      },
      { withFingerprint: true },
    ),
    encodeStunMessage({
      method: Method.ConnectionAttempt,
      cls: 'indication',
      transactionId: tid,
      attributes: [u32Attribute(Attr.ConnectionId, 7), addr(Attr.XorPeerAddress, '10.2.0.2')],
    }),
    encodeStunMessage(
      {
        method: Method.Binding,
        cls: 'request',
        transactionId: tid,
        attributes: [requestedTransportTcp(), textAttribute(Attr.Username, 'user:x')],
      },
      { key: KEY },
    ),
  ];
}

function mutate(seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  switch (randomInt(0, 8)) {
    case 0: // flip bits
      for (let i = randomInt(1, 6); i > 0; i--) b[randomInt(0, b.length)]! ^= 1 << randomInt(0, 8);
      return b;
    case 1: // truncate
      return b.subarray(0, randomInt(0, b.length));
    case 2: // extend with garbage
      return Buffer.concat([b, randomBytes(randomInt(1, 64))]);
    case 3: // wrong message length field (keep it a multiple of 4 half the time)
      b.writeUInt16BE(randomInt(0, 2) ? randomInt(0, 200) * 4 : randomInt(0, 65536), 2);
      return b;
    case 4: {
      // a random attribute length
      const at = 20 + 4 * randomInt(0, Math.max(1, (b.length - 20) / 4));
      if (at + 4 <= b.length) b.writeUInt16BE(randomInt(0, 65536), at + 2);
      return b;
    }
    case 5: {
      // random body behind a valid header
      const body = randomBytes(randomInt(0, 40) * 4);
      const h = Buffer.from(b.subarray(0, 20));
      h.writeUInt16BE(body.length, 2);
      return Buffer.concat([h, body]);
    }
    case 6: {
      // a random attribute type with random bytes (odd lengths, padding)
      const v = randomBytes(randomInt(0, 30));
      const a = Buffer.alloc(4 + ((v.length + 3) & ~3));
      a.writeUInt16BE(
        [
          Attr.XorPeerAddress,
          Attr.ErrorCode,
          Attr.Realm,
          Attr.Nonce,
          Attr.Lifetime,
          Attr.ConnectionId,
          Attr.MessageIntegrity,
          Attr.Fingerprint,
          randomInt(0, 65536),
        ][randomInt(0, 9)]!,
        0,
      );
      a.writeUInt16BE(v.length, 2);
      v.copy(a, 4);
      const out = Buffer.concat([b.subarray(0, 20), a, b.subarray(20)]);
      out.writeUInt16BE(out.length - 20, 2);
      return out;
    }
    default:
      return randomBytes(randomInt(0, 120));
  }
}

/** Everything the client does with a decoded message. */
function consume(bytes: Buffer): void {
  const m = decodeStunMessage(bytes);
  for (const t of [Attr.XorRelayedAddress, Attr.XorMappedAddress, Attr.XorPeerAddress]) {
    const v = getAttribute(m, t);
    if (v) decodeXorAddress(v, m.transactionId);
  }
  readErrorCode(m);
  readText(m, Attr.Realm);
  readText(m, Attr.Nonce);
  readU32(m, Attr.Lifetime);
  readU32(m, Attr.ConnectionId);
  if (m.integrityOffset !== undefined) verifyIntegrity(m, KEY);
  if (m.cls === 'error') new LongTermAuth('u', 'p').learn(m);
}

const onlyTurnErrors = (fn: () => void): 'ok' | 'error' => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof TurnError, `untyped error: ${(e as Error)?.stack ?? String(e)}`);
    assert.match(e.code, /^TURN_[A-Z_]+$/);
    return 'error';
  }
};

describe('fuzz: hostile STUN/TURN bytes only ever raise TurnError', () => {
  it('12,000 mutated and random messages through the decoder and every attribute reader', () => {
    const base = seeds();
    for (const s of base)
      assert.equal(
        onlyTurnErrors(() => consume(s)),
        'ok',
        'seeds are valid',
      );
    const seen = { ok: 0, error: 0 };
    for (let i = 0; i < 12_000; i++) seen[onlyTurnErrors(() => consume(mutate(base[i % base.length]!)))]++;
    // Both paths were exercised (some mutations, e.g. of padding-free trailing garbage, still decode).
    assert.ok(seen.error > 6000, `errors: ${seen.error}`);
  });

  it('4,000 mutated streams through the TCP framer, in random chunk sizes', () => {
    const base = seeds();
    for (let i = 0; i < 4000; i++) {
      const stream = Buffer.concat(
        Array.from({ length: randomInt(1, 4) }, () => mutate(base[randomInt(0, base.length)]!)),
      );
      const framer = new StunFramer();
      onlyTurnErrors(() => {
        for (let at = 0; at < stream.length; ) {
          const n = randomInt(1, 40);
          for (const m of framer.push(stream.subarray(at, at + n))) consume(m);
          at += n;
        }
      });
    }
  });

  it('a fake TURN server answering with mutated messages: requests reject with TurnError, nothing crashes', async () => {
    const base = seeds();
    let served = 0;
    const sockets = new Set<Socket>();
    const server = createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => {});
      sock.on('data', (req) => {
        // Answer with a mutated message that keeps the request's transaction id half the time.
        const m = mutate(base[randomInt(0, base.length)]!);
        if (randomInt(0, 2) && m.length >= 20 && req.length >= 20) req.copy(m, 8, 8, 20);
        served++;
        sock.write(m);
        if (randomInt(0, 4) === 0) sock.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const target = { host: '127.0.0.1', port, username: 'u', password: 'p' };
    try {
      for (let i = 0; i < 90; i++) {
        const kind = i % 3;
        const run = async (): Promise<void> => {
          if (kind === 0) {
            const a = await TcpAllocation.allocate(target, { timeoutMs: 200 });
            await a.close();
          } else if (kind === 1) {
            const auth = new LongTermAuth('u', 'p');
            auth.learn(decodeStunMessage(base[1]!));
            const b = await bindConnection(target, auth, 7, { timeoutMs: 200 });
            b.socket.destroy();
          } else {
            const c = await StunTcpConnection.open('127.0.0.1', port, { timeoutMs: 200 });
            try {
              await c.request(Method.Binding, []);
            } finally {
              c.close();
            }
          }
        };
        await run().catch((e: unknown) => {
          assert.ok(e instanceof TurnError, `untyped error: ${(e as Error)?.stack ?? String(e)}`);
        });
      }
      assert.ok(served > 60);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
