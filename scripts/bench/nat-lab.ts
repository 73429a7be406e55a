// Benchmark (not a test): the NAT lab (scripts/nat-lab/lab.ts) with the full read.
//
//   sudo node --conditions=@wormhole/source --import tsx scripts/bench/nat-lab.ts [attempts=20] [readMiB=256] [variants=1,2,3,4,5,6,7]
//
// Variant ids: 1-4 as in docs/bench/nat-lab.md, 5 = UDP blocked + TURN over TCP, 6 = "5b" (host
// TCP-forwarded), 7 = "5c" (datachannel only, evidence). Just variant 5: `... nat-lab.ts 20 256 5`.
// Prints a markdown table (variants × success, path, setup p50/p99, RemoteFs MB/s) and JSON.
import { labUnavailableReason, runVariant, summarize, VARIANTS } from '../nat-lab/lab.js';

const attempts = Number(process.argv[2] ?? 20);
const readMiB = Number(process.argv[3] ?? 256);
const ids = (process.argv[4] ?? '1,2,3,4,5,6,7').split(',').map(Number);
const why = labUnavailableReason();
if (why) {
  console.error(`nat-lab: cannot run: ${why}`);
  process.exit(2);
}
const rows = [];
const raw = [];
for (const v of VARIANTS.filter((x) => ids.includes(x.id))) {
  const r = await runVariant(v, { prefix: 'whlab-bench', attempts, readMiB, onLog: (l) => console.error(l) });
  const s = summarize(r);
  console.error(JSON.stringify(s));
  for (const a of r.attempts.filter((x) => !x.ok).slice(0, 2))
    console.error(`  error: ${a.error?.code} ${a.error?.message}`);
  rows.push(s);
  raw.push({ id: v.id, attempts: r.attempts, hostPaths: r.hostPaths, read: r.read });
}
console.log(
  '| variant | success | candidate pair (client view) | setup p50 | setup p99 | RemoteFs read MB/s |',
);
console.log('|---|---|---|---|---|---|');
for (const s of rows)
  console.log(`| ${s.variant} | ${s.success} | ${s.path} | ${s.p50} | ${s.p99} | ${s.mbps} |`);
console.log(
  `\n<!-- ${JSON.stringify(raw.map((r) => ({ id: r.id, ms: r.attempts.map((a) => Math.round(a.ms)) })))} -->`,
);
