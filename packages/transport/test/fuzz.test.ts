import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeHandshake, decodeRoomMessage, parseResumeTicket, TransportError } from '@wormhole/transport';
import { createMemoryTransport } from '@wormhole/transport/testing';

const typedOrOk = (fn: () => unknown): void => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TransportError, `untyped error: ${String(e)}`);
  }
};

function randomJson(depth = 0): unknown {
  const r = Math.random();
  if (depth > 3 || r < 0.2)
    return [null, true, 1, -1.5, 'x', '', 'pake-a', 'signal', 'tls', randomBytes(8).toString('base64url')][
      Math.floor(Math.random() * 10)
    ];
  if (r < 0.5) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomJson(depth + 1));
  const keys = [
    't',
    'share',
    'mac',
    'id',
    'nonce',
    'kinds',
    'kind',
    'signal',
    'reason',
    'type',
    'fingerprint',
    'v',
    'secret',
    'nameplate',
  ];
  const o: Record<string, unknown> = {};
  for (const k of keys) if (Math.random() < 0.4) o[k] = randomJson(depth + 1);
  if (Math.random() < 0.7)
    o.t = [
      'pake-a',
      'pake-b',
      'confirm-a',
      'confirm-b',
      'resume-a',
      'resume-b',
      'resume-c',
      'hello',
      'start',
      'signal',
      'abort',
    ][Math.floor(Math.random() * 11)];
  return o;
}

describe('fuzz: hostile input to every decoder only ever throws TransportError', () => {
  it('handshake messages (PAKE / resumption)', () => {
    for (let i = 0; i < 1500; i++) {
      typedOrOk(() => decodeHandshake(`H1.${JSON.stringify(randomJson())}`));
      typedOrOk(() =>
        decodeHandshake(`H1.${randomBytes(Math.floor(Math.random() * 64)).toString('latin1')}`),
      );
      typedOrOk(() => decodeHandshake(randomBytes(16).toString('base64')));
    }
  });

  it('room messages (sealed plaintext) and resumption tickets', () => {
    for (let i = 0; i < 1500; i++) {
      typedOrOk(() => decodeRoomMessage(new TextEncoder().encode(JSON.stringify(randomJson()))));
      typedOrOk(() => decodeRoomMessage(randomBytes(Math.floor(Math.random() * 64))));
      typedOrOk(() => parseResumeTicket(randomJson()));
    }
  });

  it('transport signal envelopes (memory transport)', () => {
    const t = createMemoryTransport();
    const ac = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const s = t.createSession(i % 2 ? 'host' : 'client', { signal: ac.signal });
      const v = randomJson();
      typedOrOk(() =>
        s.handleSignal((typeof v === 'object' && v !== null ? v : { v }) as Record<string, unknown>),
      );
      s.close();
    }
    ac.abort();
  });
});
