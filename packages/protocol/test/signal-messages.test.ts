import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type ClientMessage,
  encodeSignalMessage,
  ProtocolError,
  parseClientMessage,
  parseServerMessage,
  SIGNAL_MAX_MESSAGE_BYTES,
} from '@wormhole/protocol';

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && err.code === code);
}

describe('signal messages', () => {
  it('round-trips every client message type', () => {
    const msgs: ClientMessage[] = [
      { type: 'create', ref: 'a' },
      { type: 'create', room: '42', maxPeers: 3 },
      { type: 'join', room: '7' },
      { type: 'relay', payload: 'x'.repeat(100), to: 'peer_1' },
      { type: 'leave' },
      { type: 'ping', ref: 'p' },
      { type: 'turn-credentials' },
    ];
    for (const m of msgs) assert.deepEqual(parseClientMessage(encodeSignalMessage(m)), m);
  });

  it('rejects unknown types, extra keys, bad nameplates and oversized messages with typed errors', () => {
    expectCode(() => parseClientMessage('{"type":"nope"}'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('{"type":"join","room":"07"}'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('{"type":"join","room":"1","evil":1}'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('{"type":"join","room":"123456789"}'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('not json'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('null'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(() => parseClientMessage('[]'), 'PROTOCOL_BAD_MESSAGE');
    expectCode(
      () =>
        parseClientMessage(JSON.stringify({ type: 'relay', payload: 'x'.repeat(SIGNAL_MAX_MESSAGE_BYTES) })),
      'PROTOCOL_MESSAGE_TOO_LARGE',
    );
    expectCode(() => parseClientMessage('{"type":"__proto__"}'), 'PROTOCOL_BAD_MESSAGE');
  });

  it('fuzz: random bytes, truncated and mutated JSON only ever throw ProtocolError', () => {
    const seeds = [
      encodeSignalMessage({ type: 'join', room: '12', ref: 'r' }),
      encodeSignalMessage({ type: 'relay', payload: 'abc', to: 'p1' }),
      encodeSignalMessage({ type: 'create', maxPeers: 4 }),
    ];
    let rejected = 0;
    for (let i = 0; i < 10_000; i++) {
      const seed = seeds[i % seeds.length]!;
      let input: string | Uint8Array;
      switch (i % 4) {
        case 0:
          input = randomBytes(i % 200);
          break;
        case 1:
          input = seed.slice(0, i % seed.length);
          break;
        case 2: {
          const pos = i % seed.length;
          input = seed.slice(0, pos) + String.fromCharCode(i % 128) + seed.slice(pos + 1);
          break;
        }
        default:
          input = JSON.stringify({
            type: ['join', 'relay', 'create', 'ping'][i % 4],
            room: i,
            payload: i % 3 ? 1 : null,
          });
      }
      for (const parse of [parseClientMessage, parseServerMessage]) {
        try {
          parse(input);
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `non-typed error: ${String(err)}`);
          rejected++;
        }
      }
    }
    assert.ok(rejected > 15_000, `expected most fuzz inputs to be rejected, got ${rejected}`);
  });
});
