// The tls transport through a TURN-over-TCP relay (RFC 6062) of a real coturn on 127.0.0.1:
// direct paths made unusable, the relayed path is taken, authenticated exactly like a direct
// one (pin, token, binding), reported as relayed, and released; direct paths stay preferred.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAppError } from '@wormhole/protocol';
import type { Transport } from '@wormhole/transport';
import { drain, pump } from '@wormhole/transport/testing';
import { coturnUnavailableReason, startCoturn, type TestCoturn } from '@wormhole/transport/turn/testing';
import { tlsTransport } from '@wormhole/transport-tls';
import { connectBothWays } from './turn-relay-helpers.js';

const skip = coturnUnavailableReason();
/** Nothing listens on port 1: a direct dial is refused at once. */
const REFUSED = '127.0.0.1:1';

describe('tls over a TURN-over-TCP relay (coturn)', { skip: skip ?? false }, () => {
  let turn: TestCoturn;
  let ice: string[];
  /** Accepts TCP and never answers: a direct path that hangs like a dropped SYN. */
  let blackhole: Server;
  const held = new Set<Socket>();
  const transports: Transport[] = [];
  const make = (advertise: string[], extra: Parameters<typeof tlsTransport>[0] = {}): Transport => {
    const t = tlsTransport({ listenHost: '127.0.0.1', advertiseAddresses: advertise, ...extra });
    transports.push(t);
    return t;
  };
  const count = (re: RegExp): number => turn.log.filter((l) => re.test(l)).length;
  /** Graceful releases (Refresh with lifetime 0). */
  const releases = (): number => count(/refreshed.*lifetime=0/);
  /** Allocations coturn holds now: created minus deleted (by a release or a closed control connection). */
  const liveAllocations = (): number => count(/ALLOCATE processed, success/) - count(/: delete: realm=/);

  before(async () => {
    turn = await startCoturn();
    ice = [turn.iceServer()];
    blackhole = createServer((s) => {
      held.add(s);
      s.on('error', () => {});
    });
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
  });
  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    for (const s of held) s.destroy();
    blackhole?.close();
    await turn?.stop();
  });

  it('direct address refused: connects through the relay, reported as relayed TURN/TCP on both sides', async () => {
    const hostSide = make([REFUSED]);
    const clientSide = make([]);
    const before = releases();
    const { host, client, signals } = await connectBothWays(hostSide, clientSide, { host: ice, client: ice });
    assert.deepEqual(signals.sort(), ['client:relay-permit', 'host:listen', 'host:relay']);
    const c = client.pathInfo();
    assert.equal(c.transport, 'tls');
    assert.equal(c.relayed, true);
    assert.equal(c.localCandidateType, 'direct');
    assert.equal(c.remoteCandidateType, 'relay');
    assert.equal(c.protocol, 'tls/turn-tcp');
    assert.match(c.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
    const h = host.pathInfo();
    assert.equal(h.relayed, true);
    assert.equal(h.localCandidateType, 'relay');
    assert.equal(h.remoteCandidateType, 'direct');
    assert.equal(h.protocol, 'tls/turn-tcp');
    // Same authentication as a direct path: each side's certificate is what the other pinned.
    assert.equal(host.binding().local, client.binding().remote);
    assert.equal(host.binding().remote, client.binding().local);
    // Bytes both ways, with backpressure, through coturn.
    const total = 32 * 1024 * 1024;
    const [sent, got] = await Promise.all([pump(client, total, 256 * 1024), drain(host, total)]);
    assert.equal(got, sent);
    const [sent2, got2] = await Promise.all([pump(host, 1024 * 1024, 64 * 1024), drain(client, 1024 * 1024)]);
    assert.equal(got2, sent2);
    // The allocation lives as long as the channel, and is released (lifetime 0) when it closes.
    assert.equal(releases(), before);
    const closed = once(host, 'close');
    client.close();
    await closed;
    await turn.waitForLog(/refreshed.*lifetime=0/);
    for (let i = 0; i < 50 && releases() === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(releases(), before + 1);
  });

  it('a direct path that hangs (no TLS answer) loses to the relay after its stagger slot', async () => {
    const port = (blackhole.address() as { port: number }).port;
    const hostSide = make([`127.0.0.1:${port}`]);
    const clientSide = make([]);
    const before = releases();
    const t0 = performance.now();
    const { client } = await connectBothWays(hostSide, clientSide, { host: ice, client: ice });
    assert.equal(client.pathInfo().relayed, true);
    // Not before the direct address had its 250 ms, and not much after.
    const ms = performance.now() - t0;
    assert.ok(ms >= 200 && ms < 5000, `connected after ${ms} ms`);
    client.close();
    // Its allocation goes when the channel closes; the next test counts releases from here.
    for (let i = 0; i < 150 && releases() === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(releases(), before + 1, 'the relayed channel released its allocation on close');
  });

  it('a working direct address wins over the relay, and the unused allocation is released', async () => {
    const hostSide = tlsTransport({ listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] });
    transports.push(hostSide);
    const clientSide = make([]);
    const { host, client } = await connectBothWays(hostSide, clientSide, { host: ice, client: ice });
    assert.equal(client.pathInfo().relayed, false);
    assert.equal(client.pathInfo().protocol, 'tls');
    assert.equal(host.pathInfo().relayed, false);
    // The host allocated while the paths raced; once the direct one won, nothing may stay
    // allocated: released with lifetime 0 when the Allocate had been answered, or dropped by
    // coturn with its control connection when the allocation was cut short (both seen here).
    for (let i = 0; i < 150 && liveAllocations() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(liveAllocations(), 0, 'the host released its allocation when the session settled');
    client.close();
  });

  it('host without TURN: the client is told, and without a direct path the failure says why', async () => {
    const hostSide = make([REFUSED]);
    const clientSide = make([]);
    await assert.rejects(connectBothWays(hostSide, clientSide, { client: ice }), (e) => {
      assert.ok(isAppError(e, 'TRANSPORT_CONNECT_FAILED'), String(e));
      assert.match(
        (e as Error).message,
        /no TURN relay: the host said: the host has no TURN-over-TCP server/,
      );
      return true;
    });
  });

  it('host with refused TURN credentials: relay-unavailable carries the TURN error', async () => {
    const bad = ice[0]!.replace(/:([^:@]+)@/, ':d3Jvbmc%3D@');
    const hostSide = make([REFUSED]);
    const clientSide = make([]);
    await assert.rejects(connectBothWays(hostSide, clientSide, { host: [bad], client: ice }), (e) => {
      assert.ok(isAppError(e, 'TRANSPORT_CONNECT_FAILED'), String(e));
      assert.match((e as Error).message, /credentials refused \(401/);
      return true;
    });
  });

  it('a TURN server from the configuration (transport option, no session credentials) relays too', async () => {
    const hostSide = make([REFUSED], { iceServers: ice });
    const clientSide = make([], { iceServers: ice });
    const { client } = await connectBothWays(hostSide, clientSide, { host: [], client: [] });
    assert.equal(client.pathInfo().relayed, true);
    assert.equal(client.pathInfo().protocol, 'tls/turn-tcp');
    client.close();
  });

  it('turnTcp: false ignores the TURN server (direct only, as before)', async () => {
    const hostSide = make([REFUSED], { turnTcp: false, connectTimeoutMs: 1500 });
    const clientSide = make([], { turnTcp: false, connectTimeoutMs: 1500 });
    await assert.rejects(
      connectBothWays(hostSide, clientSide, { host: ice, client: ice }),
      (e) => isAppError(e, 'TRANSPORT_CONNECT_FAILED') && !/relay/.test((e as Error).message),
    );
  });

  it('a process that connected through the relay and closed exits by itself (no leaked sockets or timers)', async () => {
    const file = fileURLToPath(new URL('./fixtures/turn-relay-exit.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', file, ice[0]!],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 0, `exited by itself (output: ${out})`);
    assert.match(out, /"relayed":true/);
    assert.match(out, /done/);
  });
});

describe('tls relay signals are validated', () => {
  it('malformed or misdirected relay signals throw TRANSPORT_BAD_SIGNAL; random ones only TransportError', () => {
    const t = tlsTransport({ listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] });
    const ac = new AbortController();
    const host = t.createSession('host', { signal: ac.signal });
    const client = t.createSession('client', { signal: ac.signal });
    const bad: [typeof host, Record<string, unknown>][] = [
      [host, { type: 'relay-permit', addresses: [] }],
      [host, { type: 'relay-permit', addresses: ['example.com'] }],
      [host, { type: 'relay-permit', addresses: ['1.2.3.4', '1.2.3.5', '1.2.3.6', '1.2.3.7', '1.2.3.8'] }],
      [host, { type: 'relay-permit', addresses: ['1.2.3.4'], extra: true }],
      [host, { type: 'relay', address: '1.2.3.4:5' }],
      [client, { type: 'relay-permit', addresses: ['1.2.3.4'] }],
      [client, { type: 'relay', address: '1.2.3.4' }],
      [client, { type: 'relay', address: 'turn.example.com:3478' }],
      [client, { type: 'relay-unavailable', reason: 'x'.repeat(301) }],
      [client, { type: 'relay-unavailable' }],
    ];
    for (const [s, b] of bad)
      assert.throws(
        () => s.handleSignal(b),
        (e) => isAppError(e, 'TRANSPORT_BAD_SIGNAL'),
        JSON.stringify(b),
      );
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    for (let i = 0; i < 2000; i++) {
      const sig: Record<string, unknown> = { type: pick(['relay', 'relay-permit', 'relay-unavailable']) };
      if (Math.random() < 0.7) sig.address = pick([1, '', '1.2.3.4:99999', '[::1]:1', null, {}]);
      if (Math.random() < 0.7) sig.addresses = pick([[], ['::1'], 'x', [1], ['1.2.3.4', '::g'], null]);
      if (Math.random() < 0.5) sig.reason = pick(['', 1, 'why', ['x']]);
      try {
        pick([host, client]).handleSignal(sig);
      } catch (e) {
        assert.ok(isAppError(e) && (e as { name: string }).name === 'TransportError', String(e));
      }
    }
    host.close();
    client.close();
    return t.close();
  });
});
