// STUN codec of the TURN-over-TCP client: RFC 5769 test vectors (MESSAGE-INTEGRITY,
// FINGERPRINT, XOR-MAPPED-ADDRESS for IPv4 and IPv6, long-term credentials), round trips,
// stream framing and URL parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Attr,
  decodeStunMessage,
  decodeXorAddress,
  encodeStunMessage,
  encodeXorAddress,
  errorCodeAttribute,
  getAttribute,
  isTurnError,
  LongTermAuth,
  longTermKey,
  Method,
  messageIntegrity,
  messageType,
  parseTurnTcpUrl,
  readErrorCode,
  readText,
  readU32,
  requestedTransportTcp,
  StunFramer,
  textAttribute,
  turnTcpServers,
  u32Attribute,
  verifyIntegrity,
} from '@wormhole/transport/turn';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 §2.1: sample request, short-term credentials (key = the password).
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// §2.2: sample IPv4 response.
const SAMPLE_V4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// §2.3: sample IPv6 response.
const SAMPLE_V6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
// §2.4: sample request with long-term authentication.
const SAMPLE_LONG_TERM = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

const SHORT_TERM_PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');

describe('STUN codec: RFC 5769 test vectors', () => {
  it('2.1 sample request: header, attributes, MESSAGE-INTEGRITY and FINGERPRINT verify', () => {
    const m = decodeStunMessage(SAMPLE_REQUEST);
    assert.equal(m.method, Method.Binding);
    assert.equal(m.cls, 'request');
    assert.equal(m.transactionId.toString('hex'), 'b7e7a701bc34d686fa87dfae');
    assert.equal(readText(m, Attr.Software), 'STUN test client');
    // The username is padded with spaces in the vector: padding must be ignored, not checked.
    assert.equal(readText(m, Attr.Username), 'evtj:h6vY');
    verifyIntegrity(m, SHORT_TERM_PASSWORD);
    assert.throws(
      () => verifyIntegrity(m, Buffer.from('wrong')),
      (e) => isTurnError(e, 'TURN_BAD_INTEGRITY'),
    );
  });

  it('2.1 re-encoded from its attributes gives the same bytes (except padding) and the same MAC', () => {
    const m = decodeStunMessage(SAMPLE_REQUEST);
    const again = encodeStunMessage(
      {
        method: m.method,
        cls: m.cls,
        transactionId: m.transactionId,
        attributes: m.attributes.filter((a) => a.type !== Attr.MessageIntegrity),
      },
      { key: SHORT_TERM_PASSWORD, withFingerprint: true },
    );
    // Identical up to the end of USERNAME's value (0x49); our padding is zero where the vector
    // has spaces, and MESSAGE-INTEGRITY covers padding, so the MAC differs from there on.
    assert.equal(again.byteLength, SAMPLE_REQUEST.byteLength);
    assert.deepEqual(again.subarray(0, 0x49), SAMPLE_REQUEST.subarray(0, 0x49));
    assert.deepEqual(again.subarray(0x49, 0x4c), Buffer.alloc(3));
    verifyIntegrity(decodeStunMessage(again), SHORT_TERM_PASSWORD);
    // With the vector's padding put back, the HMAC over our bytes is the vector's MAC.
    const head = Buffer.from(again.subarray(0, 0x4c));
    head.fill(0x20, 0x49, 0x4c);
    head.writeUInt16BE(0x4c + 24 - 20, 2);
    assert.deepEqual(messageIntegrity(head, SHORT_TERM_PASSWORD), SAMPLE_REQUEST.subarray(0x50, 0x64));
  });

  it('2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853, integrity and fingerprint', () => {
    const m = decodeStunMessage(SAMPLE_V4_RESPONSE);
    assert.equal(m.cls, 'success');
    assert.equal(readText(m, Attr.Software), 'test vector');
    const addr = decodeXorAddress(getAttribute(m, Attr.XorMappedAddress)!, m.transactionId);
    assert.deepEqual(addr, { address: '192.0.2.1', port: 32853, family: 4 });
    verifyIntegrity(m, SHORT_TERM_PASSWORD);
    assert.deepEqual(encodeXorAddress(addr, m.transactionId), getAttribute(m, Attr.XorMappedAddress));
  });

  it('2.3 IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
    const m = decodeStunMessage(SAMPLE_V6_RESPONSE);
    const addr = decodeXorAddress(getAttribute(m, Attr.XorMappedAddress)!, m.transactionId);
    assert.deepEqual(addr, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 6 });
    verifyIntegrity(m, SHORT_TERM_PASSWORD);
    assert.deepEqual(encodeXorAddress(addr, m.transactionId), getAttribute(m, Attr.XorMappedAddress));
  });

  it('2.4 long-term credentials: key = MD5(user:realm:pass) verifies the MAC', () => {
    const m = decodeStunMessage(SAMPLE_LONG_TERM);
    const user = readText(m, Attr.Username)!;
    assert.equal(user, '\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9');
    assert.equal(readText(m, Attr.Realm), 'example.org');
    assert.equal(readText(m, Attr.Nonce), 'f//499k954d6OL34oL9FSTvy64sA');
    // The password "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep.
    verifyIntegrity(m, longTermKey(user, 'example.org', 'TheMatrIX'));
    assert.throws(
      () => verifyIntegrity(m, longTermKey(user, 'example.org', 'TheMatrix')),
      (e) => isTurnError(e, 'TURN_BAD_INTEGRITY'),
    );
  });

  it('a flipped byte anywhere before FINGERPRINT fails the fingerprint check', () => {
    for (let i = 20; i < SAMPLE_REQUEST.byteLength - 8; i++) {
      const bad = Buffer.from(SAMPLE_REQUEST);
      bad[i]! ^= 0x01;
      assert.throws(
        () => decodeStunMessage(bad),
        (e) => isTurnError(e),
        `byte ${i}`,
      );
    }
  });
});

describe('STUN codec: TURN and RFC 6062 attributes', () => {
  it('message type interleaves method and class bits (RFC 8489 §5)', () => {
    assert.equal(messageType(Method.Binding, 'request'), 0x0001);
    assert.equal(messageType(Method.Binding, 'success'), 0x0101);
    assert.equal(messageType(Method.Allocate, 'error'), 0x0113);
    assert.equal(messageType(Method.ConnectionAttempt, 'indication'), 0x001c);
    assert.equal(messageType(Method.ConnectionBind, 'success'), 0x010b);
    for (const method of Object.values(Method))
      for (const cls of ['request', 'indication', 'success', 'error'] as const) {
        const m = decodeStunMessage(encodeStunMessage({ method, cls }));
        assert.equal(m.method, method);
        assert.equal(m.cls, cls);
      }
  });

  it('round-trips an authenticated Allocate with every attribute type we send', () => {
    const key = longTermKey('1700000000:wormhole', 'wormhole.test', 'secret/+=');
    const bytes = encodeStunMessage(
      {
        method: Method.Allocate,
        cls: 'request',
        attributes: [
          requestedTransportTcp(),
          u32Attribute(Attr.Lifetime, 600),
          u32Attribute(Attr.ConnectionId, 0xdeadbeef),
          textAttribute(Attr.Username, '1700000000:wormhole'),
          textAttribute(Attr.Realm, 'wormhole.test'),
          textAttribute(Attr.Nonce, 'abc'),
        ],
      },
      { key, withFingerprint: true },
    );
    const m = decodeStunMessage(bytes);
    verifyIntegrity(m, key);
    assert.equal(getAttribute(m, Attr.RequestedTransport)?.[0], 6);
    assert.equal(readU32(m, Attr.Lifetime), 600);
    assert.equal(readU32(m, Attr.ConnectionId), 0xdeadbeef);
    assert.equal(readText(m, Attr.Nonce), 'abc');
  });

  it('XOR-PEER-ADDRESS round-trips IPv4 and IPv6 (including compressed forms)', () => {
    const tid = Buffer.from('0102030405060708090a0b0c', 'hex');
    for (const [address, port] of [
      ['127.0.0.1', 1],
      ['198.51.100.12', 65535],
      ['::1', 3478],
      ['2001:db8::1', 443],
      ['fe80::1:2:3', 9],
      ['::ffff:1.2.3.4', 80],
    ] as const) {
      const d = decodeXorAddress(encodeXorAddress({ address, port }, tid), tid);
      assert.equal(d.port, port);
      if (address === '::ffff:1.2.3.4') assert.equal(d.address, '::ffff:102:304');
      else assert.equal(d.address, address);
    }
  });

  it('ERROR-CODE: status and reason; out-of-range classes are malformed', () => {
    const m = decodeStunMessage(
      encodeStunMessage({
        method: Method.Allocate,
        cls: 'error',
        attributes: [errorCodeAttribute(401, 'Unauthorized')],
      }),
    );
    assert.deepEqual(readErrorCode(m), { status: 401, reason: 'Unauthorized' });
    const bad = encodeStunMessage({
      method: Method.Allocate,
      cls: 'error',
      attributes: [{ type: Attr.ErrorCode, value: Buffer.from([0, 0, 7, 1]) }],
    });
    assert.throws(
      () => readErrorCode(decodeStunMessage(bad)),
      (e) => isTurnError(e, 'TURN_MALFORMED'),
    );
  });

  it('long-term auth learns realm and nonce from a 401 and signs with MD5(user:realm:pass)', () => {
    const auth = new LongTermAuth('u', 'p');
    assert.equal(auth.ready, false);
    assert.deepEqual(auth.attributes(), []);
    const challenge = decodeStunMessage(
      encodeStunMessage({
        method: Method.Allocate,
        cls: 'error',
        attributes: [
          errorCodeAttribute(401, 'Unauthorized'),
          textAttribute(Attr.Realm, 'r'),
          textAttribute(Attr.Nonce, 'n'),
        ],
      }),
    );
    auth.learn(challenge);
    assert.deepEqual(auth.key, longTermKey('u', 'r', 'p'));
    assert.deepEqual(
      auth.attributes().map((a) => a.value.toString()),
      ['u', 'r', 'n'],
    );
    const noRealm = decodeStunMessage(encodeStunMessage({ method: Method.Allocate, cls: 'error' }));
    assert.throws(
      () => auth.learn(noRealm),
      (e) => isTurnError(e, 'TURN_PROTOCOL'),
    );
  });
});

describe('STUN over TCP framing', () => {
  it('splits back-to-back messages delivered one byte at a time and in one chunk', () => {
    const msgs = [SAMPLE_REQUEST, SAMPLE_V4_RESPONSE, SAMPLE_V6_RESPONSE, SAMPLE_LONG_TERM];
    const all = Buffer.concat(msgs);
    const f1 = new StunFramer();
    assert.deepEqual(f1.push(all), msgs);
    const f2 = new StunFramer();
    const got: Buffer[] = [];
    for (let i = 0; i < all.byteLength; i++) got.push(...f2.push(all.subarray(i, i + 1)));
    assert.deepEqual(got, msgs);
    assert.equal(f2.buffered, 0);
  });

  it('keeps what follows the last message (raw stream after ConnectionBind)', () => {
    const f = new StunFramer();
    assert.equal(f.push(Buffer.concat([SAMPLE_V4_RESPONSE, Buffer.from([0x16, 0x03])])).length, 1);
    assert.deepEqual(f.takeRest(), Buffer.from([0x16, 0x03]));
  });

  it('refuses a non-STUN stream and oversized messages with TURN_MALFORMED', () => {
    assert.throws(
      () => new StunFramer().push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
      (e) => isTurnError(e, 'TURN_MALFORMED'),
    );
    const huge = Buffer.from(SAMPLE_REQUEST.subarray(0, 20));
    huge.writeUInt16BE(0xfffc, 2);
    assert.throws(
      () => new StunFramer().push(huge),
      (e) => isTurnError(e, 'TURN_MALFORMED'),
    );
  });
});

describe('TURN URLs', () => {
  it('takes turn:...?transport=tcp with percent-encoded REST credentials', () => {
    assert.deepEqual(parseTurnTcpUrl('turn:1700000000%3Awh:a%2Fb%2Bc%3D@198.51.100.2:3478?transport=tcp'), {
      host: '198.51.100.2',
      port: 3478,
      username: '1700000000:wh',
      password: 'a/b+c=',
    });
    assert.equal(parseTurnTcpUrl('turn:u:p@[::1]?transport=TCP')?.port, 3478);
    assert.equal(parseTurnTcpUrl('turn:u:p@turn.example.com:443?transport=tcp')?.host, 'turn.example.com');
  });

  it('ignores UDP TURN, turns: and stun:, and refuses unusable TCP URLs', () => {
    assert.equal(parseTurnTcpUrl('turn:u:p@1.2.3.4:3478?transport=udp'), undefined);
    assert.equal(parseTurnTcpUrl('turn:u:p@1.2.3.4:3478'), undefined);
    assert.equal(parseTurnTcpUrl('turns:u:p@1.2.3.4:5349?transport=tcp'), undefined);
    assert.equal(parseTurnTcpUrl('stun:1.2.3.4:3478'), undefined);
    assert.throws(
      () => parseTurnTcpUrl('turn:1.2.3.4:3478?transport=tcp'),
      (e) => isTurnError(e, 'TURN_BAD_URL'),
    );
    assert.throws(
      () => parseTurnTcpUrl('turn:u:p@1.2.3.4:99999?transport=tcp'),
      (e) => isTurnError(e, 'TURN_BAD_URL'),
    );
    assert.throws(
      () => parseTurnTcpUrl('turn:u:%zz@1.2.3.4?transport=tcp'),
      (e) => isTurnError(e, 'TURN_BAD_URL'),
    );
    assert.deepEqual(
      turnTcpServers([
        'stun:x:1',
        'turn:u:p@1.2.3.4?transport=udp',
        'turn:bad?transport=tcp',
        'turn:u:p@1.2.3.4?transport=tcp',
      ]).map((s) => s.host),
      ['1.2.3.4'],
    );
  });
});
