// End-to-end chunk-cache benchmark (issue 5, "Benchmark"). Not a test: prints a table + JSON.
//
//   node --conditions=@wormhole/source --import tsx scripts/bench/cache-e2e.ts [--size 1024] [--random 2000] [--no-drop] [--l2-admission idle|immediate] [--copies]
//
// One run on loopback; a share host in a child process serves one random file over the tls
// transport; this process is the client. Sequential passes read like FUSE: 128 KiB requests,
// one at a time, one handle, each result copied into a 128 KiB buffer (the FUSE reply copy).
//   channel       raw tls PeerChannel, host sends the file as 128 KiB messages (before and after)
//   remotefs      RemoteFs.read without the cache, 8 MiB x 3 in flight / 256 KiB x 32 in flight
//   cold          chunk reader, fresh L1 + empty L2, fetchChunk = RemoteFs.read as mountShare wires it
//   warm L1       the same reader and cache again (new handle); L1 is sized to hold the file
//   warm L2       cache closed and reopened (L1 empty): page cache warm, then dropped
//   local         fh.read 128 KiB of the same file: page cache dropped (cold disk), then warm
//   random 4 KiB  1 in flight: reader cold (empty cache, network), RemoteFs.read (no cache),
//                 reader warm L2 (L1 empty) and warm L1
// --l2-admission idle|immediate: when cold fills reach L2 (default idle: after the stream).
// --copies: the cache keeps whole-file copies as `wormhole mount` does (the cold pass writes the
//   file to a plain copy instead of L2), a "warm copy" row reads that copy as FUSE passthrough
//   would, and the "warm L2/copy" rows are the chunk cache reading the copy where L2 was.
// Dropping the page cache (`echo 3 > /proc/sys/vm/drop_caches`) needs root; --no-drop skips it.
// Profiling knobs: BENCH_L1=<MiB> (L1 size; default: the file + 64 MiB), BENCH_NO_L2=1 (no L2
// file: what storing costs the cold pass), BENCH_ONLY_COLD=1 (stop after the cold pass),
// BENCH_PROF_COLD=<file> (the main thread's CPU profile of the cold pass alone),
// BENCH_WINDOWS=1 (CLOCK_MONOTONIC start/end of the channel and cold passes, for
// `perf record -k CLOCK_MONOTONIC` + `perf report --time`).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type ChunkCache,
  type ChunkReader,
  createChunkReader,
  DEFAULT_CHUNK_SIZE,
  openChunkCache,
} from '../../packages/cache/src/index.js';
import { createRemoteFs, createShareHost } from '../../packages/engine/src/index.js';
import type { PeerChannel, TransportSignal } from '../../packages/transport/src/index.js';
import { tlsTransport } from '../../packages/transport-tls/src/index.js';
import { minorFaults, procStatFields } from './proc-stat.js';

const self = fileURLToPath(import.meta.url);
const KiB = 1024;
const MiB = 1024 * KiB;
const FUSE_READ = 128 * KiB;
const CS = DEFAULT_CHUNK_SIZE;
const tls = () => tlsTransport({ listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] });
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)] ?? 0;

// ------------------------------------------------------------------ host child
// One transport; each 'session' message opens a session that either serves the share
// ('fs') or streams the file as 128 KiB messages ('channel').
async function hostRole(file: string): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  const transport = tls();
  const host = await createShareHost({ root: join(file, '..'), watch: false });
  process.on('message', (m: { type: string; mode: string }) => {
    if (m.type !== 'session') return;
    const session = transport.createSession('host', { signal: new AbortController().signal });
    session.onSignal((signal) => send({ type: 'signal', signal }));
    session.connected
      .then(async (ch) => {
        if (m.mode === 'fs') return host.attach(ch);
        for await (const chunk of createReadStream(file, { highWaterMark: FUSE_READ }))
          await ch.send(chunk as Buffer);
      })
      // A failed attempt is the client's to report (it retries with a new session).
      .catch(() => {});
  });
  send({ type: 'ready' });
}

function startHost(file: string): Promise<ChildProcess> {
  // execArgv passes --conditions/--import tsx (and --cpu-prof, so both sides are profiled).
  const child = spawn(process.execPath, [...process.execArgv, self, '--host', file], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (c) => reject(new Error(`host exited (${c})`)));
  });
}

const transport = tls();
function dial(child: ChildProcess, mode: 'fs' | 'channel'): Promise<PeerChannel> {
  return new Promise((resolve, reject) => {
    const on = (m: { type: string; signal: TransportSignal }) => {
      if (m.type !== 'signal') return;
      child.off('message', on);
      const s = transport.createSession('client', { signal: new AbortController().signal });
      s.handleSignal(m.signal);
      s.connected.then(resolve, reject);
    };
    child.on('message', on);
    child.send({ type: 'session', mode });
  });
}

// ------------------------------------------------------------------ passes
async function rawChannel(child: ChildProcess, size: number): Promise<number> {
  const ch = await dial(child, 'channel');
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    ch.on('message', (m) => {
      got += m.byteLength;
      if (got >= size) resolve();
    });
  });
  const r = mbps(size, performance.now() - t0);
  ch.close();
  return r;
}

/** Ordered reads of `step` bytes with `depth` in flight (a read-ahead layer at best). */
async function pipelined(
  read: (off: number, len: number) => Promise<Uint8Array>,
  size: number,
  step: number,
  depth: number,
) {
  const t0 = performance.now();
  const q: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => {
    for (; q.length < depth && next < size; next += step) q.push(read(next, Math.min(step, size - next)));
  };
  fill();
  while (q.length > 0) {
    await q.shift();
    fill();
  }
  return mbps(size, performance.now() - t0);
}

/** FUSE-like: 128 KiB requests, one at a time, one handle, copied into the reply buffer. */
/**
 * CPU ms per thread of this process (Linux /proc; empty elsewhere). The other threads are V8's
 * GC helpers and the L2 writer: where a cold pass' CPU goes besides the event loop.
 */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = procStatFields(`/proc/self/task/${tid}/stat`);
      // utime + stime, in clock ticks (100 per second on Linux).
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10);
    }
  } catch {
    // not Linux
  }
  return out;
}

function threadCpuDelta(a: Map<string, number>, b: Map<string, number>): { main: number; others: number[] } {
  const main = String(process.pid);
  const others: number[] = [];
  for (const [tid, ms] of b)
    if (tid !== main && ms - (a.get(tid) ?? 0) >= 50) others.push(ms - (a.get(tid) ?? 0));
  return { main: (b.get(main) ?? 0) - (a.get(main) ?? 0), others: others.sort((x, y) => y - x) };
}

async function fuseSeq(
  read: (off: number, len: number) => Promise<Uint8Array>,
  size: number,
): Promise<number> {
  const reply = Buffer.allocUnsafe(FUSE_READ);
  const t0 = performance.now();
  for (let off = 0; off < size; off += FUSE_READ) {
    const b = await read(off, Math.min(FUSE_READ, size - off));
    if (b.byteLength !== Math.min(FUSE_READ, size - off)) throw new Error(`short read at ${off}`);
    reply.set(b);
  }
  return mbps(size, performance.now() - t0);
}

async function random4k(read: (off: number, len: number) => Promise<Uint8Array>, size: number, ops: number) {
  const blocks = Math.floor(size / 4096);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const a = performance.now();
    await read(Math.floor(Math.random() * blocks) * 4096, 4096);
    lat.push(performance.now() - a);
  }
  return {
    opsPerSec: Math.round(ops / ((performance.now() - t0) / 1000)),
    p50ms: pct(lat, 0.5),
    p99ms: pct(lat, 0.99),
  };
}

async function localSeq(file: string, size: number): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(FUSE_READ);
    const t0 = performance.now();
    for (let off = 0; off < size; off += FUSE_READ) await fh.read(buf, 0, FUSE_READ, off);
    return mbps(size, performance.now() - t0);
  } finally {
    await fh.close();
  }
}

function dropCaches(enabled: boolean): boolean {
  if (!enabled) return false;
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** BENCH_PROF_COLD=<file.cpuprofile>: the main thread's CPU profile of the cold pass alone. */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

// ------------------------------------------------------------------ main
async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      size: { type: 'string', default: '1024' },
      random: { type: 'string', default: '2000' },
      'no-drop': { type: 'boolean', default: false },
      'l2-admission': { type: 'string', default: 'idle' },
      copies: { type: 'boolean', default: false },
    },
  });
  const size = Number(values.size) * MiB;
  const ops = Number(values.random);
  const drop = !values['no-drop'];
  const dir = mkdtempSync(join(tmpdir(), 'wh-cache-e2e-'));
  const file = join(dir, 'share', 'big.bin');
  const l2Path = join(dir, 'l2.db');
  const out: Record<string, unknown> = {
    mib: size / MiB,
    randomOps: ops,
    node: process.version,
    load0: loadavg(),
  };
  const log = (k: string, v: unknown, text: string) => {
    out[k] = v;
    console.log(text);
  };
  let child: ChildProcess | undefined;
  let remote: Awaited<ReturnType<typeof createRemoteFs>> | undefined;
  try {
    mkdirSync(join(dir, 'share'));
    const fd = openSync(file, 'w');
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let done = 0; done < size; done += buf.length) writeSync(fd, randomFillSync(buf));
    closeSync(fd);

    child = await startHost(file);
    const r = await createRemoteFs({ connect: () => dial(child!, 'fs') });
    remote = r;
    const st = await r.stat('/big.bin');
    const name = '/big.bin';
    // The whole file fits: warm L1 is a full re-read. BENCH_L1=<MiB> sets another size.
    const l1MaxBytes = process.env.BENCH_L1 ? Number(process.env.BENCH_L1) * MiB : size + 64 * MiB;
    const l2Admission = values['l2-admission'] === 'immediate' ? 'immediate' : 'idle';
    out.l2Admission = l2Admission;
    const copiesDir = values.copies ? join(dir, 'copies') : undefined;
    out.copies = values.copies;
    const open2 = (): Promise<ChunkCache> =>
      openChunkCache({
        ...(process.env.BENCH_NO_L2 ? {} : { l2Path }),
        l1MaxBytes,
        l2Admission,
        ...(copiesDir === undefined ? {} : { copiesDir }),
      });
    const mkReader = (cache: ChunkCache): ChunkReader =>
      createChunkReader({
        cache,
        chunkSize: CS,
        // As packages/engine/src/session/mount-share.ts wires it.
        fetchChunk: (f, v, i, signal) => r.read(f, i * CS, CS, v, { signal }),
        fetchRange: (f, v, offset, length, signal) => r.read(f, offset, length, v, { signal }),
      });
    let fh = 1;
    const via = (reader: ChunkReader, h: number) => (off: number, len: number) =>
      reader.read(name, st.version, st.size, off, len, h);

    const tr0 = process.hrtime.bigint();
    const ch1 = await rawChannel(child, size);
    if (process.env.BENCH_WINDOWS === '1') console.log(`channel window ${tr0} ${process.hrtime.bigint()}`);
    log('channel1', ch1, `tls PeerChannel (raw)          ${ch1.toFixed(0)} MB/s`);
    const rfs8m = await pipelined((o, l) => r.read(name, o, l, st.version), size, 8 * MiB, 3);
    log('remotefs8m', rfs8m, `RemoteFs.read 8 MiB x3        ${rfs8m.toFixed(0)} MB/s`);
    const rfs256 = await pipelined((o, l) => r.read(name, o, l, st.version), size, CS, 32);
    log('remotefs256k', rfs256, `RemoteFs.read 256 KiB x32     ${rfs256.toFixed(0)} MB/s`);

    // Cold: fresh L1, empty L2.
    let cache = await open2();
    const reader = mkReader(cache);
    const threads0 = threadCpuMs();
    const faults0 = minorFaults();
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const prof = process.env.BENCH_PROF_COLD ? await startProfile() : undefined;
    const tc0 = process.hrtime.bigint();
    const cold = await fuseSeq(via(reader, fh++), size);
    if (process.env.BENCH_WINDOWS === '1') console.log(`cold window ${tc0} ${process.hrtime.bigint()}`);
    if (prof) await prof.stop(process.env.BENCH_PROF_COLD!);
    const coldFaults = (minorFaults() - faults0) / (size / 2 ** 30);
    // Busy share of the client's event loop, and the client's CPU (all threads), in the pass.
    const coldElu = performance.eventLoopUtilization(elu0).utilization;
    const coldThreads = threadCpuDelta(threads0, threadCpuMs());
    const coldCpu = process.cpuUsage(cpu0);
    out.coldClient = {
      elu: coldElu,
      cpuMsPerGiB: (coldCpu.user + coldCpu.system) / 1000 / (size / 2 ** 30),
      threadsMs: coldThreads,
      minorFaultsPerGiB: coldFaults,
    };
    const tf = performance.now();
    await cache.flush();
    const flushMs = performance.now() - tf;
    out.coldFlushMs = flushMs;
    console.log(`L2 flush after the cold pass    ${flushMs.toFixed(0)} ms`);
    const coldStats = { reader: reader.stats(), cache: cache.stats() };
    log(
      'cold',
      cold,
      `cold via cache (read-ahead)    ${cold.toFixed(0)} MB/s  fetches ${coldStats.reader.fetches} (${coldStats.reader.readAheadFetches} read-ahead); client loop busy ${(coldElu * 100).toFixed(0)} %, CPU ${((coldCpu.user + coldCpu.system) / 1000 / (size / 2 ** 30)).toFixed(0)} ms/GiB (main thread ${coldThreads.main} ms, other threads ${coldThreads.others.join(' / ')} ms), ${Math.round(coldFaults)} minor faults/GiB`,
    );
    let warmCopy: number | undefined;
    if (copiesDir !== undefined) {
      const copy = await reader.localCopy(name, st.version, st.size);
      warmCopy = copy === undefined ? undefined : await localSeq(copy, size);
      log(
        'warmCopy',
        warmCopy ?? null,
        `warm copy (plain file)         ${warmCopy === undefined ? 'no copy made' : `${warmCopy.toFixed(0)} MB/s`}`,
      );
    }
    // BENCH_ONLY_COLD=1 stops here.
    if (process.env.BENCH_ONLY_COLD === '1') {
      reader.close();
      await cache.close();
      return;
    }
    const ch2 = await rawChannel(child, size);
    log('channel2', ch2, `tls PeerChannel (raw, after)   ${ch2.toFixed(0)} MB/s`);

    const f0 = reader.stats().fetches;
    const warmL1 = await fuseSeq(via(reader, fh++), size);
    log(
      'warmL1',
      warmL1,
      `warm L1                        ${warmL1.toFixed(0)} MB/s  fetches ${reader.stats().fetches - f0}`,
    );
    const rndL1 = await random4k(via(reader, fh++), size, ops * 10);
    log(
      'randomWarmL1',
      rndL1,
      `random 4 KiB warm L1           ${rndL1.opsPerSec} ops/s p99 ${rndL1.p99ms.toFixed(3)} ms`,
    );
    const writesDropped = cache.stats().l2.writesDropped;
    reader.close();
    await cache.close();

    // L2 must hold every chunk (the cold pass may have dropped writes when the writer fell
    // behind): fill the missing ones from the host, so warm L2 passes never touch the network.
    cache = await open2();
    let missing = 0;
    for (let i = 0; i * CS < size; i++) {
      const key = { file: name, version: `${CS}:${st.version}`, index: i };
      if (cache.has(key)) continue;
      missing++;
      cache.put(key, await r.read(name, i * CS, Math.min(CS, size - i * CS), st.version));
      if (missing % 32 === 0) await cache.flush();
    }
    await cache.close();
    log(
      'l2Missing',
      { writesDropped, missing },
      `L2 after cold pass: ${writesDropped} writes dropped, ${missing} chunks refilled`,
    );

    // With --copies the cold pass made a whole-file copy, and the chunk cache reads it in place of L2.
    const l2Name = copiesDir === undefined ? 'L2' : 'L2/copy';
    const l2Pass = async () => {
      const c = await open2();
      const rd = mkReader(c);
      const v = await fuseSeq(via(rd, fh++), size);
      const fetches = rd.stats().fetches;
      rd.close();
      await c.close();
      return [v, fetches] as const;
    };
    const [l2Warm, l2f1] = await l2Pass();
    log('warmL2', l2Warm, `warm ${l2Name} (page cache warm)      ${l2Warm.toFixed(0)} MB/s  fetches ${l2f1}`);
    const dropOk = dropCaches(drop);
    const [l2Cold, l2f2] = await l2Pass();
    log(
      'warmL2PageCacheDropped',
      dropOk ? l2Cold : null,
      `warm ${l2Name} (page cache dropped)   ${dropOk ? l2Cold.toFixed(0) : 'n/a'} MB/s  fetches ${l2f2}`,
    );
    {
      const c = await open2();
      const rd = mkReader(c);
      const rndL2 = await random4k(via(rd, fh++), size, ops);
      log(
        'randomWarmL2',
        rndL2,
        `random 4 KiB warm ${l2Name} (L1 empty) ${rndL2.opsPerSec} ops/s p99 ${rndL2.p99ms.toFixed(3)} ms`,
      );
      rd.close();
      await c.close();
    }

    dropCaches(drop);
    const localCold = await localSeq(file, size);
    log(
      'localColdDisk',
      dropOk ? localCold : null,
      `local fh.read, cold disk       ${dropOk ? localCold.toFixed(0) : 'n/a'} MB/s`,
    );
    const localWarm = await localSeq(file, size);
    log('localWarm', localWarm, `local fh.read, page cache warm ${localWarm.toFixed(0)} MB/s`);

    // Random cold: empty cache (L1 only, no L2 file), host file in page cache.
    {
      const c = await openChunkCache({ l1MaxBytes: size });
      const rd = mkReader(c);
      const rndCold = await random4k(via(rd, fh++), size, ops);
      log(
        'randomCold',
        rndCold,
        `random 4 KiB cold via cache    ${rndCold.opsPerSec} ops/s p99 ${rndCold.p99ms.toFixed(3)} ms`,
      );
      rd.close();
      await c.close();
    }
    const rndRfs = await random4k((o, l) => r.read(name, o, l, st.version), size, ops);
    log(
      'randomRemoteFs',
      rndRfs,
      `random 4 KiB RemoteFs.read     ${rndRfs.opsPerSec} ops/s p99 ${rndRfs.p99ms.toFixed(3)} ms`,
    );

    const ch = (ch1 + ch2) / 2;
    const ratios = {
      coldVsChannel: cold / ch,
      coldVsRemoteFs8m: cold / rfs8m,
      coldVsRemoteFs256k: cold / rfs256,
      warmL1VsLocalWarm: warmL1 / localWarm,
      warmL1VsLocalCold: warmL1 / localCold,
      warmL2VsLocalWarm: l2Warm / localWarm,
      ...(warmCopy === undefined ? {} : { warmCopyVsLocalWarm: warmCopy / localWarm }),
      warmL2DroppedVsLocalCold: l2Cold / localCold,
    };
    out.load1 = loadavg();
    log(
      'ratios',
      ratios,
      `ratios ${Object.entries(ratios)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    console.log(
      `load average before ${(out.load0 as number[]).map((x) => x.toFixed(2)).join(' ')}, after ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(JSON.stringify(out));
  } finally {
    await remote?.close();
    child?.kill();
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--host') await hostRole(process.argv[3]!);
else {
  await main();
  process.exit(0);
}
