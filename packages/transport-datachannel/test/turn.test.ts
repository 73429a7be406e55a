// Against a real coturn on loopback: relay-only policy and STUN.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TransportSignal } from '@wormhole/transport';
import { dataChannelTransport } from '../src/index.js';
import { type Coturn, candidateTypes, connectPair, startCoturn, TURNSERVER } from './helpers.js';

interface RelayPairResult {
  error?: string;
  types?: string[];
  paths?: Array<{ relayed: boolean; localCandidateType: string; remoteCandidateType: string }>;
  echoed?: number[];
}

const relayFixture = fileURLToPath(new URL('./fixtures/relay-pair.ts', import.meta.url));

/** Runs fixtures/relay-pair.ts; 'hung' when it has not finished within 30 s (then killed). */
async function relayPairInChild(coturn: Coturn): Promise<RelayPairResult | 'hung'> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@wormhole/source',
      '--import',
      'tsx',
      relayFixture,
      String(coturn.port),
      coturn.user,
      coturn.pass,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit').then(() => true);
  const inTime = await Promise.race([exited, new Promise<false>((r) => setTimeout(() => r(false), 30_000))]);
  if (!inTime) {
    child.kill('SIGKILL');
    await exited;
    return 'hung';
  }
  const line = out.split('\n').find((l) => l.startsWith('{'));
  return line === undefined ? { error: `no result (output: ${out})` } : (JSON.parse(line) as RelayPairResult);
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
    // In a child with a bound: libdatachannel 0.24.5 (node-datachannel 0.33.4) can deadlock in
    // the DTLS handshake over TURN — DtlsTransport::start() on the juice thread waits for the
    // SSL mutex that a worker holds while it waits in juice_send for the juice lock (fixed
    // upstream by libdatachannel PR #1630, not in a node-datachannel release here). Seen once in
    // ~10 CI runs. A hung child is killed and the pair retried once; a second hang fails.
    let result = await relayPairInChild(coturn);
    if (result === 'hung') {
      console.log('# relay pair hung in libdatachannel (DTLS over TURN deadlock): retrying once');
      result = await relayPairInChild(coturn);
    }
    if (result === 'hung') assert.fail('the relay pair hung twice');
    assert.equal(result.error, undefined, result.error);
    // Relay-only must not leak host addresses to the peer.
    const types = result.types ?? [];
    assert.ok(types.length > 0 && types.every((t) => t === 'relay'), types.join(','));
    for (const path of result.paths ?? []) {
      assert.equal(path.relayed, true, JSON.stringify(path));
      assert.equal(path.localCandidateType, 'relay');
      assert.equal(path.remoteCandidateType, 'relay');
    }
    assert.deepEqual(result.echoed, [9, 8, 7]);
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
