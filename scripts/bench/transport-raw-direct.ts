// Benchmark (not a test): 256 MiB through each direct PeerChannel (tls, webtransport) next to raw
// node:net TCP and raw node:tls on loopback, each side in its own process, in the same run; then
// connection setup time (client gets the signal → first echoed byte) p50/p99 over 50 tries.
//
//   node --conditions=@wormhole/source --import tsx scripts/bench/transport-raw-direct.ts [MiB] [tries]
//
// The parent is the sender/client; a child process per case is the receiver/host.
import { spawn } from 'node:child_process';
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createSelfSignedCertificate } from '../../packages/transport/src/direct/self-signed-cert.js';
import type { PeerChannel, Transport, TransportSignal } from '../../packages/transport/src/index.js';
import { tlsTransport } from '../../packages/transport-tls/src/index.js';
import { webTransportMode, webTransportTransport } from '../../packages/transport-webtransport/src/index.js';

type Case = 'tcp' | 'tls-raw' | 'tls' | 'webtransport';
const CHUNK = 64 * 1024;
const self = fileURLToPath(import.meta.url);

function makeTransport(kind: 'tls' | 'webtransport'): Transport {
  const opts = { listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] };
  return kind === 'tls' ? tlsTransport(opts) : webTransportTransport(opts);
}

// ---------------------------------------------------------------- child (receiver / host)
async function child(kind: Case, total: number): Promise<void> {
  const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  if (kind === 'tcp' || kind === 'tls-raw') {
    const onSocket = (s: Socket): void => {
      let got = 0;
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => {
        got += d.byteLength;
        if (got === total) s.end(Buffer.from([1]));
      });
      s.on('error', () => {});
      s.on('close', () => process.exit(0));
    };
    if (kind === 'tcp') {
      const server = createNetServer(onSocket).listen(0, '127.0.0.1', () => {
        out({ port: (server.address() as { port: number }).port });
      });
    } else {
      const cert = await createSelfSignedCertificate();
      const server = createTlsServer(
        { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.3' },
        onSocket,
      );
      server.listen(0, '127.0.0.1', () => out({ port: (server.address() as { port: number }).port }));
    }
    return;
  }
  // Channel host: one session per line on stdin ('throughput' or 'setup').
  const transport = makeTransport(kind);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'quit') break;
    const session = transport.createSession('host', { signal: AbortSignal.timeout(30_000) });
    session.onSignal((s) => out(s));
    const ch = await session.connected;
    if (line === 'throughput') {
      let got = 0;
      ch.on('message', (m) => {
        got += m.byteLength;
        if (got === total) void ch.send(Buffer.from([1]));
      });
    } else {
      ch.on('message', (m) => void ch.send(m).catch(() => {}));
    }
    await new Promise((r) => ch.once('close', r));
  }
  lines.close();
  await transport.close();
}

// ---------------------------------------------------------------- parent (sender / client)
function spawnChild(kind: Case, total: number) {
  const cp = spawn(
    process.execPath,
    ['--conditions=@wormhole/source', '--import', 'tsx', self, '--child', kind, String(total)],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const it = createInterface({ input: cp.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const { value, done } = await it.next();
      if (done) throw new Error(`${kind} child ended`);
      if ((value as string).startsWith('{')) return JSON.parse(value as string) as Record<string, unknown>;
    }
  };
  return { cp, next, say: (s: string) => cp.stdin!.write(`${s}\n`) };
}

async function rawThroughput(kind: 'tcp' | 'tls-raw', total: number): Promise<number> {
  const c = spawnChild(kind, total);
  const { port } = (await c.next()) as { port: number };
  const s: Socket =
    kind === 'tcp'
      ? netConnect({ port, host: '127.0.0.1' })
      : tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  await new Promise((r) => s.once(kind === 'tcp' ? 'connect' : 'secureConnect', r));
  s.setNoDelay(true);
  const buf = Buffer.alloc(CHUNK, 7);
  const acked = new Promise((r) => s.once('data', r));
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!s.write(buf)) await new Promise((r) => s.once('drain', r));
  }
  await acked;
  const ms = performance.now() - t0;
  s.destroy();
  await new Promise((r) => c.cp.once('exit', r));
  return total / 1e6 / (ms / 1000);
}

async function clientChannel(
  t: Transport,
  c: ReturnType<typeof spawnChild>,
  what: string,
): Promise<PeerChannel> {
  c.say(what);
  const signal = (await c.next()) as TransportSignal;
  const session = t.createSession('client', { signal: AbortSignal.timeout(30_000) });
  session.handleSignal(signal);
  return session.connected;
}

async function channelThroughput(kind: 'tls' | 'webtransport', total: number): Promise<number> {
  const c = spawnChild(kind, total);
  const t = makeTransport(kind);
  const ch = await clientChannel(t, c, 'throughput');
  const buf = Buffer.alloc(CHUNK, 7);
  const acked = new Promise((r) => ch.once('message', r));
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += CHUNK) await ch.send(buf);
  await acked;
  const ms = performance.now() - t0;
  ch.close();
  c.say('quit');
  await t.close();
  await new Promise((r) => c.cp.once('exit', r));
  return total / 1e6 / (ms / 1000);
}

async function setupTimes(kind: 'tls' | 'webtransport', tries: number): Promise<number[]> {
  const c = spawnChild(kind, 0);
  const t = makeTransport(kind);
  const times: number[] = [];
  for (let i = 0; i < tries; i++) {
    c.say('setup');
    const signal = (await c.next()) as TransportSignal;
    const t0 = performance.now();
    const session = t.createSession('client', { signal: AbortSignal.timeout(30_000) });
    session.handleSignal(signal);
    const ch = await session.connected;
    const echo = new Promise((r) => ch.once('message', r));
    await ch.send(Buffer.from([1]));
    await echo;
    times.push(performance.now() - t0);
    ch.close();
  }
  c.say('quit');
  await t.close();
  await new Promise((r) => c.cp.once('exit', r));
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as Case, Number(process.argv[4]));
  const mib = Number(process.argv[2] ?? 256);
  const tries = Number(process.argv[3] ?? 50);
  const total = mib * 1024 * 1024;
  const mode = await webTransportMode();
  console.log(
    `# ${mib} MiB, ${CHUNK / 1024} KiB writes, loopback, each side its own process; webtransport mode: ${mode}`,
  );
  const tcp = await rawThroughput('tcp', total);
  const tlsRaw = await rawThroughput('tls-raw', total);
  const tlsCh = await channelThroughput('tls', total);
  const wtCh = await channelThroughput('webtransport', total);
  const row = (n: string, v: number) =>
    `| ${n} | ${v.toFixed(0)} | ${(v / tcp).toFixed(2)} | ${(v / tlsRaw).toFixed(2)} |`;
  console.log('| path | MB/s | × TCP | × raw TLS |\n|---|---|---|---|');
  console.log(row('node:net TCP (raw)', tcp));
  console.log(row('node:tls 1.3 (raw)', tlsRaw));
  console.log(row('PeerChannel tls', tlsCh));
  console.log(row(`PeerChannel webtransport (${mode})`, wtCh));
  console.log(
    `\n| setup (${tries} tries, signal in hand → first echoed byte) | p50 ms | p99 ms |\n|---|---|---|`,
  );
  for (const kind of ['tls', 'webtransport'] as const) {
    const s = await setupTimes(kind, tries);
    console.log(`| ${kind} | ${pct(s, 50).toFixed(1)} | ${pct(s, 99).toFixed(1)} |`);
  }
}

await main();
