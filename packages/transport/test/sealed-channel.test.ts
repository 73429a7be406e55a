import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SEALED_MAX_PLAINTEXT, SealedChannel, TransportError } from '@wormhole/transport';

const k1 = new Uint8Array(randomBytes(32));
const k2 = new Uint8Array(randomBytes(32));
const pair = (): [SealedChannel, SealedChannel] => [new SealedChannel(k1, k2), new SealedChannel(k2, k1)];
const te = new TextEncoder();
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TransportError, `typed error, got ${String(e)}`);
    return e.code;
  }
  return 'no error';
};

describe('sealed room channel', () => {
  it('round-trips in both directions, largest plaintext included', () => {
    const [a, b] = pair();
    for (let i = 0; i < 5; i++) assert.deepEqual(b.open(a.seal(te.encode(`m${i}`))), te.encode(`m${i}`));
    assert.deepEqual(a.open(b.seal(te.encode('back'))), te.encode('back'));
    const max = new Uint8Array(SEALED_MAX_PLAINTEXT).fill(7);
    const wire = a.seal(max);
    assert.ok(wire.length <= 48 * 1024, 'fits a relay payload');
    assert.deepEqual(b.open(wire), max);
    assert.equal(
      code(() => a.seal(new Uint8Array(SEALED_MAX_PLAINTEXT + 1))),
      'TRANSPORT_MESSAGE_TOO_LARGE',
    );
  });

  it('rejects replayed and reordered messages', () => {
    const [a, b] = pair();
    const m0 = a.seal(te.encode('0'));
    const m1 = a.seal(te.encode('1'));
    const m2 = a.seal(te.encode('2'));
    b.open(m0);
    assert.equal(
      code(() => b.open(m0)),
      'TRANSPORT_OUT_OF_ORDER',
    );
    assert.equal(
      code(() => b.open(m2)),
      'TRANSPORT_OUT_OF_ORDER',
    );
    assert.deepEqual(b.open(m1), te.encode('1'));
  });

  it('rejects its own messages reflected back, wrong keys and any flipped bit', () => {
    const [a, b] = pair();
    const m = a.seal(te.encode('hello'));
    assert.equal(
      code(() => a.open(m)),
      'TRANSPORT_DECRYPT_FAILED',
    );
    assert.equal(
      code(() => new SealedChannel(k1, new Uint8Array(32)).open(m)),
      'TRANSPORT_DECRYPT_FAILED',
    );
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 3; i < m.length; i++) {
      const c = alphabet[(alphabet.indexOf(m[i]!) + 1) % 64]!;
      const bad = m.slice(0, i) + c + m.slice(i + 1);
      const got = code(() => b.open(bad));
      assert.ok(got === 'TRANSPORT_DECRYPT_FAILED' || got === 'TRANSPORT_OUT_OF_ORDER', got);
    }
    assert.deepEqual(b.open(m), te.encode('hello'), 'tampered copies did not advance the counter');
  });

  it('fuzz: random payloads only ever throw typed errors', () => {
    const [, b] = pair();
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(Math.random() * 200);
      const raw = randomBytes(n);
      const inputs = [
        'S1.' + raw.toString('base64url'),
        'S1.' + raw.toString('latin1'),
        raw.toString('utf8'),
        '',
      ];
      for (const input of inputs)
        assert.ok(['TRANSPORT_DECRYPT_FAILED', 'TRANSPORT_OUT_OF_ORDER'].includes(code(() => b.open(input))));
    }
  });
});
