import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientMessageSchema } from '@wormhole/protocol';
import { createSignalServer } from '@wormhole/signal-server';
import { expectType, TestClient, waitFor } from './helpers.js';

/** Small seeded PRNG (mulberry32) so a failure reproduces with the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID: Record<string, unknown>[] = [
  { type: 'create' },
  { type: 'create', room: '123', maxPeers: 4 },
  { type: 'join', room: '42' },
  { type: 'relay', payload: 'abc' },
  { type: 'relay', to: 'peer_1', payload: 'x' },
  { type: 'leave', ref: 'r' },
  { type: 'ping', ref: 'p' },
  { type: 'turn-credentials' },
];

function randomValue(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * (depth > 2 ? 5 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.floor(rnd() * 2e9) - 1e9;
    case 3:
      return rnd() * 1e6;
    case 4:
      return String.fromCharCode(
        ...Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 0x3000)),
      );
    case 5:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = ['type', 'room', 'ref', 'to', 'payload', 'maxPeers', 'extra', '__proto__'];
      for (let i = 0; i < Math.floor(rnd() * 4); i++) {
        o[keys[Math.floor(rnd() * keys.length)] as string] = randomValue(rnd, depth + 1);
      }
      return o;
    }
  }
}

/** One invalid message: random bytes, truncated or mutated valid JSON, or random JSON values. */
function badMessage(rnd: () => number): Buffer | string {
  for (;;) {
    const kind = Math.floor(rnd() * 5);
    let text: Buffer | string;
    if (kind === 0) {
      text = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
    } else if (kind === 1) {
      const full = JSON.stringify(VALID[Math.floor(rnd() * VALID.length)]);
      text = full.slice(0, Math.floor(rnd() * (full.length - 1)));
    } else if (kind === 2) {
      const base = { ...VALID[Math.floor(rnd() * VALID.length)] };
      const keys = Object.keys(base);
      base[keys[Math.floor(rnd() * keys.length)] as string] = randomValue(rnd);
      if (rnd() < 0.3) base[`k${Math.floor(rnd() * 5)}`] = randomValue(rnd);
      text = JSON.stringify(base);
    } else if (kind === 3) {
      text = JSON.stringify(randomValue(rnd));
    } else {
      const full = Buffer.from(JSON.stringify(VALID[Math.floor(rnd() * VALID.length)]));
      const i = Math.floor(rnd() * full.length);
      full[i] = Math.floor(rnd() * 256);
      text = full;
    }
    if (typeof text === 'string' && text.length === 0) continue;
    // Keep only messages the protocol rejects, so each must be answered with an error.
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.isBuffer(text) ? text.toString('utf8') : text);
    } catch {
      return text;
    }
    if (!ClientMessageSchema.safeParse(parsed).success) return text;
  }
}

describe('bad-input fuzz', () => {
  it('answers each of 2,500 random/truncated/mutated messages with a typed error; others unaffected', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    const rnd = prng(seed);
    const server = await createSignalServer({
      rateLimit: { messagesPerSec: 1e6, burst: 1e6 },
      maxMessageBytes: 2048,
    });
    const fuzzer = await TestClient.connect(server.url);
    const host = await TestClient.connect(server.url);
    const guest = await TestClient.connect(server.url);
    try {
      const { room } = expectType(await host.request({ type: 'create' }), 'created');
      expectType(await guest.request({ type: 'join', room }), 'joined');
      const N = 2500;
      let oversized = 0;
      for (let i = 0; i < N; i++) {
        let msg = badMessage(rnd);
        if (i % 250 === 0) {
          msg = JSON.stringify({ type: 'relay', payload: 'y'.repeat(4000) });
          oversized++;
        }
        // Half as text frames (even with invalid UTF-8), half as binary frames.
        fuzzer.ws.send(msg, { binary: i % 7 === 3 && i % 250 !== 0 });
        if (i % 500 === 0) host.send({ type: 'relay', payload: `still-here-${i}` });
      }
      await waitFor(() => fuzzer.messages.length >= N, 20_000, `${N} replies (seed ${seed})`);
      assert.equal(fuzzer.messages.length, N, `exactly one reply per message (seed ${seed})`);
      const codes = new Map<string, number>();
      for (const m of fuzzer.messages) {
        assert.equal(m.type, 'error', `non-error reply ${JSON.stringify(m)} (seed ${seed})`);
        if (m.type === 'error') codes.set(m.code, (codes.get(m.code) ?? 0) + 1);
      }
      assert.equal(codes.get('SIGNAL_MESSAGE_TOO_LARGE'), oversized);
      assert.equal((codes.get('SIGNAL_BAD_MESSAGE') ?? 0) + oversized, N);
      assert.equal(fuzzer.closed, false);
      // The room next door kept working throughout.
      for (let i = 0; i < N; i += 500) {
        const r = expectType(await guest.next((m) => m.type === 'relay'), 'relay');
        assert.equal(r.payload, `still-here-${i}`);
      }
      expectType(await fuzzer.request({ type: 'ping' }), 'pong');
      assert.equal((await fetch(`${server.httpUrl}/health`)).status, 200);
    } finally {
      await Promise.all([fuzzer.close(), host.close(), guest.close()]);
      await server.close();
    }
  });
});
