import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSignalServer,
  nameplateDigits,
  SignalServerError,
  turnCredentials,
} from '@wormhole/signal-server';
import { TokenBucket } from '../src/token-bucket.js';

describe('nameplate length', () => {
  it('grows one digit whenever the current space is more than half used, up to 8', () => {
    assert.equal(nameplateDigits(0), 1);
    assert.equal(nameplateDigits(4), 1);
    assert.equal(nameplateDigits(5), 2);
    assert.equal(nameplateDigits(49), 2);
    assert.equal(nameplateDigits(50), 3);
    assert.equal(nameplateDigits(10_000), 5);
    assert.equal(nameplateDigits(1e9), 8);
  });
});

describe('token bucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const b = new TokenBucket(3, 10, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(50), false); // half a token
    assert.equal(b.take(100), true); // one token after 100 ms at 10/s
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), false, 'capacity caps the refill');
  });
});

describe('turn credentials', () => {
  it('matches the HMAC-SHA1 that openssl computes', async () => {
    const c = turnCredentials({ urls: ['turn:a'], secret: 'north', ttlSec: 100 }, 'peer1', 1_700_000_000_000);
    assert.equal(c.username, '1700000100:peer1');
    // printf '1700000100:peer1' | openssl dgst -sha1 -hmac north -binary | base64
    const { execFileSync } = await import('node:child_process');
    const expected = execFileSync('sh', [
      '-c',
      "printf '1700000100:peer1' | openssl dgst -sha1 -hmac north -binary | base64",
    ])
      .toString()
      .trim();
    assert.equal(c.credential, expected);
  });
});

describe('options validation', () => {
  it('names the bad option', async () => {
    await assert.rejects(createSignalServer({ maxRooms: 0 }), (err: unknown) => {
      assert.ok(err instanceof SignalServerError);
      assert.equal(err.code, 'SIGNAL_SERVER_BAD_OPTIONS');
      assert.match(err.message, /maxRooms/);
      return true;
    });
    await assert.rejects(createSignalServer({ redisUrl: 'http://x' }), /redisUrl/);
    await assert.rejects(createSignalServer({ turn: { urls: ['http://x'], secret: 's' } }), /turn\.urls/);
  });
  it('reports a port in use as SIGNAL_SERVER_LISTEN_FAILED', async () => {
    const s = await createSignalServer();
    try {
      await assert.rejects(createSignalServer({ port: s.port }), { code: 'SIGNAL_SERVER_LISTEN_FAILED' });
    } finally {
      await s.close();
    }
  });
});
