// Against a real coturn on loopback: relay-only policy and STUN.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TransportSignal } from '@wormhole/transport';
import { dataChannelTransport } from '../src/index.js';
import { type Coturn, connectPair, startCoturn, TURNSERVER } from './helpers.js';

function candidateTypes(signals: TransportSignal[]): string[] {
  return signals
    .filter((s) => s.type === 'candidate')
    .map((s) => /typ (\w+)/.exec(String(s.candidate))?.[1] ?? '?');
}

describe('STUN and TURN via coturn', {
  skip: existsSync(TURNSERVER) ? false : `${TURNSERVER} is not installed`,
}, () => {
  let coturn: Coturn;
  before(async () => {
    coturn = await startCoturn();
  });
  after(async () => {
    await coturn?.stop();
  });

  it("iceTransportPolicy 'relay' connects through TURN and says so", async () => {
    const transport = dataChannelTransport({
      iceServers: [`turn:${coturn.user}:${coturn.pass}@127.0.0.1:${coturn.port}?transport=udp`],
      iceTransportPolicy: 'relay',
      bindAddress: '127.0.0.1',
      connectTimeoutMs: 10_000,
    });
    const signals: TransportSignal[] = [];
    try {
      const { host, client } = await connectPair(transport, transport, {
        filter: (_from, s) => {
          signals.push(s);
          return s;
        },
      });
      const types = candidateTypes(signals);
      // Relay-only must not leak host addresses to the peer.
      assert.ok(types.length > 0 && types.every((t) => t === 'relay'), types.join(','));
      for (const ch of [host, client]) {
        const path = ch.pathInfo();
        assert.equal(path.relayed, true, JSON.stringify(path));
        assert.equal(path.localCandidateType, 'relay');
        assert.equal(path.remoteCandidateType, 'relay');
      }
      const got = new Promise<Uint8Array>((resolve) => host.once('message', resolve));
      await client.send(new Uint8Array([9, 8, 7]));
      assert.deepEqual(await got, new Uint8Array([9, 8, 7]));
      host.close();
      client.close();
    } finally {
      await transport.close();
    }
  });

  it('a wrong TURN password under relay-only fails with the ICE state in the error', async () => {
    const transport = dataChannelTransport({
      iceServers: [`turn:${coturn.user}:wrong@127.0.0.1:${coturn.port}`],
      iceTransportPolicy: 'relay',
      bindAddress: '127.0.0.1',
      connectTimeoutMs: 3000,
    });
    try {
      const { hostSession, clientSession } = await import('./helpers.js').then((h) =>
        h.startPair(transport, transport),
      );
      for (const r of await Promise.allSettled([hostSession.connected, clientSession.connected])) {
        assert.equal(r.status, 'rejected');
        assert.match(String(r.status === 'rejected' ? r.reason.message : ''), /ICE \w+/);
      }
    } finally {
      await transport.close();
    }
  });

  it('STUN gathers a server-reflexive candidate and still connects', async () => {
    const transport = dataChannelTransport({
      iceServers: [`stun:127.0.0.1:${coturn.port}`],
      bindAddress: '127.0.0.1',
    });
    const signals: TransportSignal[] = [];
    try {
      const { host, client } = await connectPair(transport, transport, {
        filter: (_from, s) => {
          signals.push(s);
          return s;
        },
      });
      // Gathering may finish after the channel opens; give STUN a moment.
      const start = Date.now();
      while (!candidateTypes(signals).includes('srflx') && Date.now() - start < 3000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(candidateTypes(signals).includes('srflx'), candidateTypes(signals).join(','));
      assert.equal(client.pathInfo().relayed, false);
      host.close();
      client.close();
    } finally {
      await transport.close();
    }
  });
});
