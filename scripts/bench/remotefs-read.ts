// Benchmark (not a test): RemoteFs reads over real transports, host and client in separate
// processes on loopback, next to the raw transports moving the same file in the same run.
//
//   node --conditions=@wormhole/source --import tsx scripts/bench/remotefs-read.ts [MiB=1024] [randomOps=20000] [kinds=tls,webtransport,datachannel]
//
// Cases, each against a fresh host child process serving one random file:
//   tcp          raw node:net, host pipes the file into the socket (the ceiling)
//   tls-raw      raw node:tls (TLS 1.3), same
//   <t>-channel  the transport's PeerChannel, host sends the file as 128 KiB messages (raw transport)
//   <t>-remotefs RemoteFs.readChunks over the whole file, then 256 KiB read()s 32 in flight
//                (sha256 checked), then random 4 KiB reads
// The channel and RemoteFs' sequential pass alternate BENCH_ROUNDS times (default 3, starting and
// ending with the channel); the ratio is of their medians.
// for t in tls, webtransport, datachannel. The parent is the client; figures go to stdout as a
// table + JSON. Signals go over the child's IPC channel, both ways, as often as a transport needs.
// Profiling knobs: BENCH_ONLY_REMOTEFS=1 (no raw cases), BENCH_ONLY_CHANNEL=1 (raw cases only),
// BENCH_SEQ_ONLY=1 (RemoteFs: the sequential pass only), BENCH_HOST_CHUNK=<bytes>,
// BENCH_READ_WINDOW=<n> (RemoteFs read-ahead window; 16, 32, 64 measured the same for webtransport),
// BENCH_MSG=<bytes> (the raw channel case's message size, 128 KiB; 1 MiB measured the same).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createRemoteFs, createShareHost } from '../../packages/engine/src/index.js';
import { createSelfSignedCertificate } from '../../packages/transport/src/direct/index.js';
import type { PeerChannel, Transport, TransportSignal } from '../../packages/transport/src/index.js';
import { dataChannelTransport } from '../../packages/transport-datachannel/src/index.js';
import { tlsTransport } from '../../packages/transport-tls/src/index.js';
import { webTransportTransport } from '../../packages/transport-webtransport/src/index.js';

type Kind = 'tls' | 'webtransport' | 'datachannel';
const KINDS: readonly Kind[] = ['tls', 'webtransport', 'datachannel'];
const self = fileURLToPath(import.meta.url);
const MSG = Number(process.env.BENCH_MSG ?? 128 * 1024);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function makeTransport(kind: Kind): Transport {
  const opts = { listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] };
  if (kind === 'datachannel') return dataChannelTransport({ bindAddress: '127.0.0.1' });
  return kind === 'tls' ? tlsTransport(opts) : webTransportTransport(opts);
}

// ------------------------------------------------------------------ host child
async function hostRole(mode: string, file: string): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  // A clean exit on the parent's kill(), so `--cpu-prof` writes the host's profile too.
  process.on('SIGTERM', () => process.exit(0));
  if (mode === 'tcp' || mode === 'tls-raw') {
    const onSocket = (s: import('node:net').Socket) => {
      s.on('error', () => {});
      createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(s);
    };
    const server =
      mode === 'tcp'
        ? createNetServer(onSocket)
        : await createSelfSignedCertificate().then((c) =>
            createTlsServer({ key: c.keyPem, cert: c.certPem, minVersion: 'TLSv1.3' }, onSocket),
          );
    server.listen(0, '127.0.0.1', () =>
      send({ type: 'ready', port: (server.address() as { port: number }).port }),
    );
    return;
  }
  const [kind, what] = mode.split('-') as [Kind, 'channel' | 'remotefs'];
  const transport = makeTransport(kind);
  const host =
    what === 'remotefs'
      ? await createShareHost({
          root: join(file, '..'),
          watch: false,
          // BENCH_HOST_CHUNK=131072 measures the old default against the current one.
          ...(process.env.BENCH_HOST_CHUNK ? { chunkSize: Number(process.env.BENCH_HOST_CHUNK) } : {}),
        })
      : undefined;
  let session: ReturnType<Transport['createSession']> | undefined;
  // The raw channel case sends the file once the client says 'go' (its listener is attached and
  // its CPU counters read), so the clock and the CPU figures cover the transfer only.
  let go: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  process.on('message', (m: { type: string; signal?: TransportSignal }) => {
    if (m.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    if (m.type === 'go') go();
    // Some transports (webtransport, datachannel) also signal from the client side.
    if (m.type === 'client-signal' && m.signal) {
      try {
        session?.handleSignal(m.signal);
      } catch {
        // the session reports its own failure through `connected`
      }
    }
    if (m.type !== 'session') return;
    session = transport.createSession('host', { signal: new AbortController().signal });
    session.onSignal((signal) => send({ type: 'signal', signal }));
    session.connected
      .then(async (ch) => {
        if (host) {
          host.attach(ch);
          return;
        }
        await started;
        for await (const chunk of createReadStream(file, { highWaterMark: MSG }))
          await ch.send(chunk as Buffer);
      })
      // A failed attempt is the client's to report (it retries with a new session).
      .catch(() => {});
  });
  send({ type: 'ready', port: 0 });
}

// ------------------------------------------------------------------ client (parent)
function startHost(mode: string, file: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    // The parent's node flags too (e.g. --single-threaded-gc, as the CLI runs): both ends alike.
    [...process.execArgv, self, '--host', mode, file],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (c) => reject(new Error(`host ${mode} exited (${c})`)));
  });
}

/**
 * `dialOnce`, repeated after TRANSPORT_CONNECT_FAILED: libjuice (datachannel's ICE) now and then
 * fails a loopback connect when both cores are busy; the product's race and reconnect absorb it.
 */
async function dialVia(child: ChildProcess, transport: Transport): Promise<PeerChannel> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialOnce(child, transport);
    } catch (err) {
      if ((err as { code?: string }).code !== 'TRANSPORT_CONNECT_FAILED' || attempt === 3) throw err;
      console.error(`(connect attempt ${attempt} failed, retrying: ${(err as Error).message})`);
    }
  }
}

/** Connects a client session to the host child's, relaying every signal both ways over IPC. */
function dialOnce(child: ChildProcess, transport: Transport): Promise<PeerChannel> {
  const s = transport.createSession('client', { signal: new AbortController().signal });
  s.onSignal((signal) => child.send({ type: 'client-signal', signal }));
  const on = (m: { type: string; signal: TransportSignal }) => {
    if (m.type !== 'signal') return;
    try {
      s.handleSignal(m.signal);
    } catch {
      // the session reports its own failure through `connected`
    }
  };
  child.on('message', on);
  child.send({ type: 'session' });
  const done = () => child.off('message', on);
  s.connected.then(done, done);
  return s.connected;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** CPU ms (user + system) of the client (this process) and the host child since `start`. */
interface Cpu {
  client: NodeJS.CpuUsage;
  host: NodeJS.CpuUsage;
}
function hostCpu(child: ChildProcess): Promise<NodeJS.CpuUsage> {
  return new Promise((resolve) => {
    const on = (m: { type: string; usage: NodeJS.CpuUsage }) => {
      if (m.type !== 'cpu') return;
      child.off('message', on);
      resolve(m.usage);
    };
    child.on('message', on);
    child.send({ type: 'cpu' });
  });
}
async function cpuStart(child: ChildProcess): Promise<Cpu> {
  return { host: await hostCpu(child), client: process.cpuUsage() };
}
/** CPU ms per GiB moved, client and host: less noisy than MB/s on a shared machine. */
async function cpuPerGiB(child: ChildProcess, start: Cpu, bytes: number): Promise<[number, number]> {
  const c = process.cpuUsage(start.client);
  const h = await hostCpu(child);
  const gib = bytes / 2 ** 30;
  return [
    (c.user + c.system) / 1000 / gib,
    (h.user - start.host.user + h.system - start.host.system) / 1000 / gib,
  ];
}

async function rawSocket(mode: 'tcp' | 'tls-raw', file: string, size: number): Promise<number> {
  const { child, port } = await startHost(mode, file);
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const s =
        mode === 'tcp'
          ? netConnect(port, '127.0.0.1')
          : tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.byteLength;
        if (got >= size) {
          s.destroy();
          resolve();
        }
      });
      s.on('error', reject);
    });
    return mbps(size, performance.now() - t0);
  } finally {
    child.kill();
  }
}

async function rawChannel(kind: Kind, file: string, size: number): Promise<[number, [number, number]]> {
  const { child } = await startHost(`${kind}-channel`, file);
  const transport = makeTransport(kind);
  try {
    const ch = await dialVia(child, transport);
    let got = 0;
    const received = new Promise<void>((resolve, reject) => {
      ch.on('message', (m) => {
        got += m.byteLength;
        if (got >= size) resolve();
      });
      ch.once('close', (i) => reject(new Error(`channel closed after ${got} of ${size} bytes: ${i.reason}`)));
    });
    const cpu0 = await cpuStart(child);
    const t0 = performance.now();
    child.send({ type: 'go' });
    await received;
    const r = mbps(size, performance.now() - t0);
    const cpu = await cpuPerGiB(child, cpu0, size);
    ch.close();
    return [r, cpu];
  } finally {
    child.kill();
    await transport.close();
  }
}

interface FsFigures {
  seqMBps: number;
  /** CPU ms per GiB of the sequential pass: client, host. */
  seqCpu: [number, number];
  /** The mount's pattern: 256 KiB `read()` calls (one per cache chunk), 32 in flight, in order. */
  chunkMBps: number;
  shaOk: boolean;
  rand1: { opsPerSec: number; p50ms: number; p99ms: number };
  rand32: { opsPerSec: number; p99ms: number };
}

async function remoteFs(
  kind: Kind,
  file: string,
  size: number,
  sha: string,
  randomOps: number,
  seqOnly = process.env.BENCH_SEQ_ONLY === '1',
): Promise<FsFigures> {
  const { child } = await startHost(`${kind}-remotefs`, file);
  const transport = makeTransport(kind);
  let fs: Awaited<ReturnType<typeof createRemoteFs>> | undefined;
  try {
    fs = await createRemoteFs({
      connect: () => dialVia(child, transport),
      ...(process.env.BENCH_READ_WINDOW ? { readWindow: Number(process.env.BENCH_READ_WINDOW) } : {}),
    });
    const name = `/${file.split('/').pop()}`;
    // Sequential: the file as one stream of chunks (`readChunks`, what `wormhole get` does),
    // the window of chunk requests in flight kept full. Not hashed: the raw channel case does
    // no work per byte either, and sha256 on the client thread (~650 MB/s here) would eat a
    // large share of the client's CPU.
    const cpu0 = await cpuStart(child);
    const t0 = performance.now();
    let seqBytes = 0;
    for await (const piece of fs.readChunks(name, 0, size)) seqBytes += piece.byteLength;
    if (seqBytes !== size) throw new Error(`sequential pass read ${seqBytes} of ${size} bytes`);
    const seqMBps = mbps(size, performance.now() - t0);
    const seqCpu = await cpuPerGiB(child, cpu0, size);
    if (seqOnly) {
      const nan = Number.NaN;
      return {
        seqMBps,
        seqCpu,
        chunkMBps: nan,
        shaOk: true,
        rand1: { opsPerSec: nan, p50ms: nan, p99ms: nan },
        rand32: { opsPerSec: nan, p99ms: nan },
      };
    }

    // What the mount's chunk reader does with a full read-ahead window: 256 KiB reads, 32 in
    // flight, in order; this pass also checks the bytes (sha256 on the client thread included).
    const h = createHash('sha256');
    const chunkStep = 256 * 1024;
    const t1 = performance.now();
    const cq: Promise<Uint8Array>[] = [];
    let cnext = 0;
    let cbytes = 0;
    const cfill = () => {
      while (cq.length < 32 && cnext < size) {
        cq.push(fs!.read(name, cnext, Math.min(chunkStep, size - cnext)));
        cnext += chunkStep;
      }
    };
    cfill();
    while (cq.length > 0) {
      const data = await cq.shift()!;
      h.update(data);
      cbytes += data.byteLength;
      cfill();
    }
    const chunkMBps = mbps(cbytes, performance.now() - t1);
    const shaOk = h.digest('hex') === sha;

    const blocks = Math.floor(size / 4096);
    const lat: number[] = [];
    let t = performance.now();
    for (let i = 0; i < randomOps; i++) {
      const a = performance.now();
      await fs!.read(name, Math.floor(Math.random() * blocks) * 4096, 4096);
      lat.push(performance.now() - a);
    }
    const rand1Ms = performance.now() - t;
    lat.sort((x, y) => x - y);
    const rand1 = {
      opsPerSec: Math.round(randomOps / (rand1Ms / 1000)),
      p50ms: lat[Math.floor(lat.length * 0.5)] ?? 0,
      p99ms: lat[Math.floor(lat.length * 0.99)] ?? 0,
    };
    const lat32: number[] = [];
    let left = randomOps;
    t = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (left-- > 0) {
          const a = performance.now();
          await fs!.read(name, Math.floor(Math.random() * blocks) * 4096, 4096);
          lat32.push(performance.now() - a);
        }
      }),
    );
    const rand32Ms = performance.now() - t;
    lat32.sort((x, y) => x - y);
    return {
      seqMBps,
      seqCpu,
      chunkMBps,
      shaOk,
      rand1,
      rand32: {
        opsPerSec: Math.round(randomOps / (rand32Ms / 1000)),
        p99ms: lat32[Math.floor(lat32.length * 0.99)] ?? 0,
      },
    };
  } finally {
    await fs?.close();
    child.kill();
    await transport.close();
  }
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 1024);
  const randomOps = Number(process.argv[3] ?? 20_000);
  const size = mib * 1024 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'wh-bench-'));
  const file = join(dir, 'big.bin');
  try {
    const h = createHash('sha256');
    const fd = openSync(file, 'w');
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (let done = 0; done < size; done += buf.length) {
      randomFillSync(buf);
      h.update(buf);
      writeSync(fd, buf);
    }
    closeSync(fd);
    const sha = h.digest('hex');
    const results: Record<string, unknown> = { mib, randomOps, node: process.version };
    // BENCH_ONLY_REMOTEFS=1 skips the raw cases (for profiling the RemoteFs client alone).
    const only = process.env.BENCH_ONLY_REMOTEFS === '1';
    const tcp = only ? Number.NaN : await rawSocket('tcp', file, size);
    const tlsRaw = only ? Number.NaN : await rawSocket('tls-raw', file, size);
    results.tcp = tcp;
    results['tls-raw'] = tlsRaw;
    console.log(`raw tcp           ${tcp.toFixed(0)} MB/s`);
    console.log(`raw node:tls      ${tlsRaw.toFixed(0)} MB/s (${(tlsRaw / tcp).toFixed(2)}× tcp)`);
    const kinds = (process.argv[4] ?? KINDS.join(',')).split(',') as Kind[];
    for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`unknown transport ${k}`);
    for (const kind of kinds) {
      try {
        // The machine is shared and a pass' figure moves ±10 % from one run to the next, so the
        // channel and RemoteFs' sequential pass alternate, BENCH_ROUNDS times (default 3), and the
        // ratio is of their medians: channel, seq, channel, seq, …, channel. The last round's
        // RemoteFs case also runs the other passes.
        const none: [number, [number, number]] = [Number.NaN, [Number.NaN, Number.NaN]];
        const [chBefore, chCpu] = only ? none : await rawChannel(kind, file, size);
        if (process.env.BENCH_ONLY_CHANNEL === '1') {
          console.log(`${kind} channel     ${chBefore.toFixed(0)} MB/s; CPU/GiB client, host`, chCpu);
          continue;
        }
        const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
        const channelRuns = [chBefore];
        const seqRuns: number[] = [];
        let f: FsFigures | undefined;
        for (let r = 0; r < rounds; r++) {
          const last = r === rounds - 1;
          const fr = await remoteFs(kind, file, size, sha, randomOps, last ? undefined : true);
          seqRuns.push(fr.seqMBps);
          if (last) f = fr;
          if (!only) channelRuns.push((await rawChannel(kind, file, size))[0]);
        }
        f = { ...f!, seqMBps: median(seqRuns) };
        const chAfter = channelRuns.at(-1)!;
        const ch = median(channelRuns);
        results[kind] = {
          channelMBps: ch,
          channelRunsMBps: channelRuns,
          seqRunsMBps: seqRuns,
          channelCpu: chCpu,
          ...f,
        };
        const cpu = ([c, h]: [number, number]) => `CPU/GiB client ${c.toFixed(0)} ms host ${h.toFixed(0)} ms`;
        console.log(
          `${kind} channel     ${ch.toFixed(0)} MB/s (median of ${channelRuns.map((x) => x.toFixed(0)).join(', ')}; last ${chAfter.toFixed(0)}); ${cpu(chCpu)}`,
        );
        console.log(
          `${kind} RemoteFs    ${f.seqMBps.toFixed(0)} MB/s seq (median of ${seqRuns.map((x) => x.toFixed(0)).join(', ')}; ${(f.seqMBps / ch).toFixed(2)}× its channel, ` +
            `${cpu(f.seqCpu)}, ` +
            `${(f.seqMBps / tcp).toFixed(2)}× tcp) sha256 ${f.shaOk ? 'ok' : 'MISMATCH'}; ` +
            `256 KiB × 32 in flight incl. sha256 ${f.chunkMBps.toFixed(0)} MB/s (${(f.chunkMBps / ch).toFixed(2)}×); ` +
            `random 4 KiB: ${f.rand1.opsPerSec} ops/s p50 ${f.rand1.p50ms.toFixed(3)} ms p99 ${f.rand1.p99ms.toFixed(3)} ms (1 in flight), ` +
            `${f.rand32.opsPerSec} ops/s p99 ${f.rand32.p99ms.toFixed(3)} ms (32 in flight)`,
        );
      } catch (err) {
        results[kind] = { error: String(err) };
        console.log(`${kind}: skipped (${String(err)})`);
      }
    }
    console.log(JSON.stringify(results));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--host') await hostRole(process.argv[3]!, process.argv[4]!);
else {
  await main();
  process.exit(0);
}
