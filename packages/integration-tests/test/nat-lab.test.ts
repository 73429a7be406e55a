// Issue 6: NAT traversal across real Linux NATs built from network namespaces
// (scripts/nat-lab/lab.ts). Each variant builds its own lab, runs 20 connections from one home
// network to a share in the other plus a 32 MiB RemoteFs read, and tears the lab down.
// Peers are configured with a STUN server only: every relay path below runs on the short-lived
// TURN credentials the signal server handed out during the rendezvous.
// The full 256 MiB read: scripts/bench/nat-lab.ts (results in docs/bench/nat-lab.md).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type Attempt,
  labUnavailableReason,
  type PathSeen,
  runVariant,
  summarize,
  teardownLab,
  VARIANTS,
  type Variant,
  type VariantResult,
} from '../../../scripts/nat-lab/lab.js';

const PREFIX = 'whlab-ci';
const ATTEMPTS = 20;
const READ_MIB = 32;
const CONNECT_TIMEOUT_MS = 10_000;
const skip = labUnavailableReason();

const variant = (id: number): Variant => VARIANTS.find((v) => v.id === id)!;
const direct = (p: PathSeen | undefined) =>
  p !== undefined && !p.relayed && p.local !== 'relay' && p.remote !== 'relay';

async function run(id: number): Promise<VariantResult> {
  const r = await runVariant(variant(id), {
    prefix: PREFIX,
    attempts: ATTEMPTS,
    readMiB: READ_MIB,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    // A hung peer fails its variant after this instead of stalling CI.
    budgetMs: 100_000,
  });
  const s = summarize(r);
  console.log(`# nat-lab ${s.variant}: ${s.success}, ${s.path}, setup p50 ${s.p50} p99 ${s.p99}, ${s.mbps}`);
  return r;
}

function assertAllConnected(r: VariantResult): void {
  const failed = r.attempts.filter((a) => !a.ok);
  assert.equal(r.attempts.length, r.variant.attempts ?? ATTEMPTS, 'every attempt reported');
  assert.deepEqual(
    failed.map((a) => `${a.error?.code}: ${a.error?.message}`),
    [],
    `variant ${r.variant.id}: every attempt connects`,
  );
  // Every connection the client saw was also accepted by the host (+1: the read's connection).
  assert.equal(r.hostPaths.length, r.attempts.length + 1, 'host saw every connection');
  assert.ok(r.read, 'the read ran');
  assert.equal(r.read.bytes, READ_MIB * 1024 * 1024);
  assert.ok(r.read.sha256ok, 'RemoteFs read is byte-identical');
}

function assertFailedClearly(r: VariantResult, cause: RegExp): void {
  assert.equal(r.attempts.length, r.variant.attempts ?? ATTEMPTS);
  for (const a of r.attempts as Attempt[]) {
    assert.equal(a.ok, false, `attempt ${a.i} must not connect`);
    assert.equal(a.error?.name, 'TransportError');
    assert.equal(a.error?.code, 'TRANSPORT_CONNECT_FAILED');
    assert.match(a.error?.message ?? '', cause);
    // The bound: the datachannel connect timeout plus signalling, never the 30 s dial timeout.
    assert.ok(a.ms < CONNECT_TIMEOUT_MS + 5000, `attempt ${a.i} failed after ${a.ms} ms`);
  }
  assert.equal(r.hostPaths.length, 0, 'the host accepted nothing');
}

describe('NAT lab: two home networks behind Linux NATs', { skip: skip ?? false }, () => {
  after(() => teardownLab(PREFIX));

  it('1. both NATs endpoint-independent: connects direct (no relay) every time', async () => {
    const r = await run(1);
    assertAllConnected(r);
    for (const a of r.attempts) {
      assert.equal(a.path?.transport, 'datachannel');
      assert.ok(direct(a.path), `attempt ${a.i} direct, got ${JSON.stringify(a.path)}`);
      assert.ok(
        ['host', 'srflx', 'prflx'].includes(a.path!.local) &&
          ['host', 'srflx', 'prflx'].includes(a.path!.remote),
      );
    }
    for (const p of r.hostPaths) assert.ok(direct(p), `host side direct, got ${JSON.stringify(p)}`);
    assert.ok(direct(r.read?.path));
  });

  it('2. one side symmetric: connects every time (hole punch or TURN)', async () => {
    const r = await run(2);
    assertAllConnected(r);
    for (const a of r.attempts) {
      assert.equal(a.path?.transport, 'datachannel');
      // PathInfo must be self-consistent: relayed exactly when a side uses a relay candidate.
      assert.equal(a.path!.relayed, a.path!.local === 'relay' || a.path!.remote === 'relay');
    }
  });

  it('3. both symmetric: connects every time through TURN (signal-issued credentials)', async () => {
    const r = await run(3);
    assertAllConnected(r);
    for (const a of r.attempts) {
      assert.equal(a.path?.transport, 'datachannel');
      assert.equal(a.path?.relayed, true, `attempt ${a.i} relayed, got ${JSON.stringify(a.path)}`);
      assert.ok(a.path!.local === 'relay' || a.path!.remote === 'relay');
    }
    for (const p of r.hostPaths) assert.equal(p.relayed, true, 'host side reports the relay too');
    assert.equal(r.read?.path?.relayed, true);
  });

  it('4. both symmetric, TURN down: fails within the bound, naming the missing relay', async () => {
    const r = await run(4);
    assertFailedClearly(r, /no relay candidate on either side: TURN server unreachable/);
  });

  it('5. UDP blocked on the client side, no port forward: connects every time over tls through TURN over TCP', async () => {
    const r = await run(5);
    assertAllConnected(r);
    const relayedTls = (p: PathSeen | undefined) =>
      p?.transport === 'tls' && p.relayed && p.protocol === 'tls/turn-tcp';
    for (const a of r.attempts) {
      assert.ok(relayedTls(a.path), `attempt ${a.i}: ${JSON.stringify(a.path)}`);
      assert.equal(a.path?.remote, 'relay');
      // The client dialled the relayed address on the TURN server's public IP.
      assert.match(a.path?.remoteAddress ?? '', /^198\.51\.100\.2:\d+$/);
    }
    for (const p of r.hostPaths) {
      assert.ok(relayedTls(p), `host side: ${JSON.stringify(p)}`);
      assert.equal(p.local, 'relay');
      // The peer the host permitted and saw: the client router's public address.
      assert.match(p.remoteAddress ?? '', /^198\.51\.100\.12:\d+$/);
    }
    assert.ok(relayedTls(r.read?.path));
  });

  it('5b. UDP blocked on the client side, host TCP-forwarded: connects every time over direct TLS', async () => {
    const r = await run(6);
    assertAllConnected(r);
    for (const a of r.attempts) {
      assert.equal(a.path?.transport, 'tls', `attempt ${a.i}: ${JSON.stringify(a.path)}`);
      assert.equal(a.path?.relayed, false, 'the forwarded direct path wins over the relay');
    }
  });

  it('5c. UDP blocked, datachannel only: fails (libjuice gathers nothing from TURN over TCP)', async () => {
    const r = await run(7);
    // Only host candidates on the blocked side: no STUN answer, no UDP relay, and no TCP relay
    // although turn:...?transport=tcp was handed out. If this starts connecting, node-datachannel
    // gained TURN/TCP: update the README limits (the tls transport's own TURN/TCP relay covers it).
    // The host's side is not asserted: its relay candidate is sent 700 ms late on purpose and,
    // on a loaded machine, can miss an attempt's window (seen once in CI at load 5).
    assertFailedClearly(r, /candidates local host, remote /);
  });
});
