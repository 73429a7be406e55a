import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  formatJoinCode,
  generateSecretWords,
  ProtocolError,
  parseJoinCode,
  WORDLIST,
} from '@wormhole/protocol';

describe('join codes', () => {
  it('has 256 distinct words', () => {
    assert.equal(new Set(WORDLIST).size, 256);
  });

  it('round-trips with and without a signal address', () => {
    const words = generateSecretWords(3);
    const code = formatJoinCode({ nameplate: '42', words });
    assert.deepEqual(parseJoinCode(code), { nameplate: '42', words, signalUrl: undefined });
    const withHost = formatJoinCode({ nameplate: '7', words, signalUrl: 'ws://192.168.1.20:4455' });
    assert.equal(withHost, `7-${words.join('-')}@192.168.1.20:4455`);
    assert.equal(parseJoinCode(withHost).signalUrl, 'ws://192.168.1.20:4455');
    assert.equal(parseJoinCode(`  7-${words.join('-').toUpperCase()}@[::1]:80 `).signalUrl, 'ws://[::1]:80');
  });

  it('rejects malformed codes with PROTOCOL_BAD_JOIN_CODE', () => {
    for (const bad of [
      '',
      '7',
      '7-guitar',
      '0-guitar-harbor',
      'x-guitar-harbor',
      '7-guitar-notaword',
      '7-guitar-harbor@',
      '7-guitar-harbor@host',
      '7-guitar-harbor@host:0',
      '7-guitar-harbor@host:99999',
      '7-guitar-harbor@ho st:80',
      `7-${'guitar-'.repeat(60)}harbor`,
    ]) {
      assert.throws(
        () => parseJoinCode(bad),
        (err: unknown) => err instanceof ProtocolError && err.code === 'PROTOCOL_BAD_JOIN_CODE',
        bad,
      );
    }
  });

  it('fuzz: arbitrary strings never throw anything but ProtocolError', () => {
    for (let i = 0; i < 5000; i++) {
      const s = randomBytes(i % 40).toString(i % 2 ? 'latin1' : 'base64');
      try {
        parseJoinCode(`${i % 3 === 0 ? '5-' : ''}${s}`);
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
      }
    }
  });
});
