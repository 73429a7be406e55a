// Signal server load benchmark (not a test). For each socket count it starts a server process
// (@wormhole/signal-server, then a bare `ws` echo server as the same-run baseline) and a
// separate load-generator process, then reports the server's RSS and CPU, join latency and
// relayed messages/s, with ratios against the baseline. Both children run under a raised
// `ulimit -n` (to the hard limit: raising that needs CAP_SYS_RESOURCE); sockets are spread over
// several 127.0.0.x source addresses and, above 15k, over several load-generator processes.
//
//   node --conditions=@wormhole/source --import tsx scripts/bench/signal-load.ts [sizes] [relaySeconds]
//   sizes: comma-separated socket counts, default 1000,10000,max (max = what the fd limit allows)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { procStatFields } from './proc-stat.js';

const hardLimit = Number(
  (await import('node:child_process'))
    .execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' })
    .trim(),
);
// The server process needs one fd per socket plus a few dozen of its own.
const maxSockets = Number.isFinite(hardLimit) ? Math.floor((hardLimit - 200) / 100) * 100 : 50_000;
const sizes = (process.argv[2] ?? '1000,10000,max')
  .split(',')
  .map((s) => (s === 'max' ? maxSockets : Number(s)));
const relaySeconds = Number(process.argv[3] ?? 8);
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const TICK = 100; // USER_HZ on Linux

/** Spawns a TS script under a raised fd limit; `exec` keeps the pid that of node itself. */
function spawnTs(file: string, args: string[]): ChildProcess {
  const quoted = [process.execPath, '--conditions=@wormhole/source', '--import', 'tsx', file, ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" && exec ${quoted}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

function procStats(pid: number): { rssMb: number; cpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = procStatFields(`/proc/${pid}/stat`);
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
  return { rssMb: rssKb / 1024, cpuSec: cpu };
}

async function firstLine(child: ChildProcess): Promise<string> {
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of rl) return line;
  throw new Error('child exited without output');
}

interface Result {
  n: number;
  connected: number;
  idleRssMb: number;
  rssMb: number;
  connectCpuSec: number;
  joinP50: number;
  joinP99: number;
  relayRate: number;
  relayCpuPct: number;
  failures: number;
}

async function runOne(kind: 'signal' | 'echo', n: number): Promise<Result> {
  const server = spawnTs(here('./signal-load-server.ts'), [kind]);
  try {
    const { url } = JSON.parse(await firstLine(server)) as { url: string };
    const pid = server.pid as number;
    const idle = procStats(pid);
    const sources = Array.from({ length: Math.max(1, Math.ceil(n / 20_000)) }, (_, i) => `127.0.0.${i + 1}`);
    const cfg = {
      url,
      n,
      kind,
      sources,
      relaySeconds,
      activePairs: Math.min(500, n / 2),
      connectConcurrency: 256,
      joinConcurrency: 16,
    };
    // Whole pairs per generator; each generator stays well under its own fd limit.
    const gens = Math.max(1, Math.ceil(n / 12_000));
    const share = Math.ceil(n / gens / 2) * 2;
    const clients = Array.from({ length: gens }, (_, g) => {
      const count = Math.min(share, n - g * share);
      const c = spawnTs(here('./signal-load-client.ts'), [
        JSON.stringify({ ...cfg, n: count, activePairs: Math.ceil(cfg.activePairs / gens) }),
      ]);
      const rl = createInterface({ input: c.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
      return { c, rl };
    });
    type Line = Record<string, number> & { joinMs?: number[] };
    const readAll = async (): Promise<Line[]> =>
      Promise.all(
        clients.map(async ({ rl }) => {
          const r = await rl.next();
          if (r.done) throw new Error('load generator exited');
          return JSON.parse(r.value) as Line;
        }),
      );
    const go = (): void => {
      for (const { c } of clients) c.stdin?.write('next\n');
    };
    const sum = (ls: Line[], k: string): number => ls.reduce((a, l) => a + (l[k] ?? 0), 0);
    const connectedL = await readAll();
    const afterConnect = procStats(pid);
    go();
    const joinedL = await readAll();
    const afterJoin = procStats(pid);
    go();
    const relayedL = await readAll();
    const afterRelay = procStats(pid);
    go();
    await readAll();
    const joinMs = joinedL.flatMap((l) => l.joinMs ?? []).sort((a, b) => a - b);
    const pct = (p: number): number =>
      joinMs[Math.min(joinMs.length - 1, Math.floor((p / 100) * joinMs.length))] ?? Number.NaN;
    const relaySecondsSeen = Math.max(...relayedL.map((l) => l.seconds ?? 0));
    const connected = { failures: sum(connectedL, 'failures') };
    const joined = { joinP50: pct(50), joinP99: pct(99), failures: sum(joinedL, 'failures') };
    const relayed = { rate: sum(relayedL, 'delivered') / relaySecondsSeen, seconds: relaySecondsSeen };
    return {
      n,
      connected: n - (connected.failures ?? 0),
      idleRssMb: idle.rssMb,
      rssMb: Math.max(afterJoin.rssMb, afterConnect.rssMb),
      connectCpuSec: afterConnect.cpuSec - idle.cpuSec,
      joinP50: joined.joinP50 ?? Number.NaN,
      joinP99: joined.joinP99 ?? Number.NaN,
      relayRate: relayed.rate ?? 0,
      relayCpuPct: (100 * (afterRelay.cpuSec - afterJoin.cpuSec)) / (relayed.seconds ?? 1),
      failures: (connected.failures ?? 0) + (joined.failures ?? 0),
    };
  } finally {
    server.kill('SIGKILL');
  }
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
console.log(`signal load benchmark — relay ${relaySeconds}s per size, node ${process.version}`);
console.log(
  '| sockets | server | connected | RSS MB | RSS/socket KB | connect CPU s | join p50 ms | join p99 ms | relayed msg/s | relay CPU % |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const base = await runOne('echo', n);
  const sig = await runOne('signal', n);
  for (const [name, r] of [
    ['ws echo (baseline)', base],
    ['signal', sig],
  ] as const) {
    const perSocket = ((r.rssMb - r.idleRssMb) * 1024) / Math.max(1, r.connected);
    console.log(
      `| ${n} | ${name} | ${r.connected} | ${f1(r.rssMb)} | ${f1(perSocket)} | ${f1(r.connectCpuSec)} | ${r.joinP50.toFixed(2)} | ${r.joinP99.toFixed(2)} | ${Math.round(r.relayRate)} | ${f1(r.relayCpuPct)} |`,
    );
  }
  console.log(
    `| ${n} | signal / baseline | | ${ratio(sig.rssMb, base.rssMb)} | | ${ratio(sig.connectCpuSec, base.connectCpuSec)} | ${ratio(sig.joinP50, base.joinP50)} | ${ratio(sig.joinP99, base.joinP99)} | ${ratio(sig.relayRate, base.relayRate)} | |`,
  );
}
