// Benchmark (not a test): 256 MiB through the datachannel PeerChannel vs raw node:net TCP on
// loopback, each side in its own process, in the same run; plus setup time p50/p99 over 50 tries.
// Run: node --conditions=@wormhole/source --import tsx scripts/bench/transport-raw-datachannel.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dataChannelTransport, MAX_MESSAGE_BYTES } from '../../packages/transport-datachannel/src/index.js';

const TOTAL = 256 * 1024 * 1024;
const CHUNK = 128 * 1024 + 6; // the engine's frame: 128 KiB payload + 6-byte header
const peer = fileURLToPath(
  new URL('../../packages/transport-datachannel/test/fixtures/peer-process.ts', import.meta.url),
);
const nodeArgs = ['--conditions=@wormhole/source', '--import', 'tsx'];

async function datachannelRun(): Promise<number> {
  const total = Math.floor(TOTAL / CHUNK) * CHUNK;
  const child = spawn(process.execPath, [...nodeArgs, peer, 'host', 'sink', String(total)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1' });
  const session = transport.createSession('client', { signal: new AbortController().signal });
  session.onSignal((signal) => child.stdin.write(`${JSON.stringify({ signal })}\n`));
  let done: (ms: number) => void = () => {};
  const received = new Promise<number>((r) => {
    done = r;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as { signal?: Record<string, unknown>; received?: number; ms?: number };
    if (msg.signal !== undefined) session.handleSignal(msg.signal);
    if (msg.received !== undefined) done(msg.ms ?? 0);
  });
  const channel = await session.connected;
  const chunk = new Uint8Array(Math.min(CHUNK, MAX_MESSAGE_BYTES)).fill(1);
  const started = performance.now();
  for (let sent = 0; sent < total; sent += chunk.byteLength) await channel.send(chunk);
  await received;
  const seconds = (performance.now() - started) / 1000;
  channel.close();
  await once(child, 'exit');
  await transport.close();
  return total / 1e6 / seconds;
}

async function tcpRun(): Promise<number> {
  // Receiver in a child process: counts bytes, replies one byte when all arrived.
  const code = `const net=require('node:net');const total=${TOTAL};const s=net.createServer(c=>{let n=0;c.on('data',d=>{n+=d.length;if(n>=total){c.end('x');s.close();}});});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const socket = createConnection({ port: Number(line), host: '127.0.0.1' });
  await once(socket, 'connect');
  const chunk = Buffer.alloc(64 * 1024, 1);
  const started = performance.now();
  const ack = once(socket, 'data');
  for (let sent = 0; sent < TOTAL; sent += chunk.length) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  await ack;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  await once(child, 'exit');
  return TOTAL / 1e6 / seconds;
}

async function setupTimes(tries: number): Promise<number[]> {
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1' });
  const times: number[] = [];
  for (let i = 0; i < tries; i++) {
    const signal = new AbortController().signal;
    const started = performance.now();
    const host = transport.createSession('host', { signal });
    const client = transport.createSession('client', { signal });
    host.onSignal((s) => client.handleSignal(s));
    client.onSignal((s) => host.handleSignal(s));
    const [h, c] = await Promise.all([host.connected, client.connected]);
    times.push(performance.now() - started);
    c.close();
    h.close();
  }
  await transport.close();
  return times.sort((a, b) => a - b);
}

const tcp = await tcpRun();
const dc = await datachannelRun();
const setup = await setupTimes(50);
const pct = (p: number) => setup[Math.min(setup.length - 1, Math.ceil((p / 100) * setup.length) - 1)] ?? 0;
console.log(`TCP (node:net, 64 KiB writes)          ${tcp.toFixed(0)} MB/s`);
console.log(
  `datachannel PeerChannel (${CHUNK} B msgs) ${dc.toFixed(0)} MB/s  ratio ${(dc / tcp).toFixed(3)}x TCP`,
);
console.log(
  `setup (in-process, loopback, 50 tries)  p50 ${pct(50).toFixed(1)} ms  p99 ${pct(99).toFixed(1)} ms`,
);
