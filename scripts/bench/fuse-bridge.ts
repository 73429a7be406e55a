// FUSE bridge benchmark: both bindings (the project's libfuse3 binding, fuse-native/libfuse2),
// each in-process and through the helper-process bridge, and the libfuse3 helper with FUSE
// passthrough (each open names its backing file: what a mount does for a whole-file copy), vs
// the backing directory read directly, on the same data in the same run.
//   node --conditions=@wormhole/source --import tsx scripts/bench/fuse-bridge.ts
// Env: SIZE_MB (default 512), FILES (default 10000), FIO_SECONDS (default 5), DIR (default a temp dir).
// Needs root (drop_caches, FUSE), fio, dd. Prints a markdown table with ratios to local disk.
import { exec } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAvailable, LocalFileSystem, type Mount, mount } from '../../packages/fuse/src/index.js';

const SIZE_MB = Number(process.env.SIZE_MB ?? 512);
const FILES = Number(process.env.FILES ?? 10_000);
const FIO_SECONDS = Number(process.env.FIO_SECONDS ?? 5);
const base = process.env.DIR ?? join(tmpdir(), 'wh-fuse-bench');
const data = join(base, 'data');

// The FileSystem is served by this process's event loop: never block it (no execSync).
function sh(cmd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    exec(cmd, { maxBuffer: 64 << 20, shell: '/bin/bash' }, (err, out, errOut) =>
      err ? reject(new Error(`${cmd}: ${errOut}`)) : resolve(String(out) + String(errOut)),
    ),
  );
}

async function prepare(): Promise<void> {
  await fsp.mkdir(join(data, 'small'), { recursive: true });
  const big = join(data, 'big.bin');
  if (!existsSync(big) || (await fsp.stat(big)).size !== SIZE_MB << 20) {
    const fh = await fsp.open(big, 'w');
    for (let i = 0; i < SIZE_MB; i += 8) await fh.write(randomBytes(Math.min(8, SIZE_MB - i) << 20));
    await fh.close();
  }
  const have = (await fsp.readdir(join(data, 'small'))).length;
  for (let i = have; i < FILES; i++) await fsp.writeFile(join(data, 'small', `f${i}`), `${i}\n`);
}

const dropCaches = () => sh('sync; echo 3 > /proc/sys/vm/drop_caches');

async function ddMBs(file: string): Promise<number> {
  const t0 = performance.now();
  await sh(`dd if='${file}' of=/dev/null bs=1M status=none`);
  return SIZE_MB / 1.048576 / ((performance.now() - t0) / 1000);
}

async function fioIops(file: string): Promise<number> {
  await dropCaches();
  const out = await sh(
    `fio --name=r --filename='${file}' --rw=randread --bs=4k --ioengine=psync --runtime=${FIO_SECONDS} --time_based --numjobs=1 --output-format=json`,
  );
  const j = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ read: { iops: number } }> };
  return j.jobs[0]!.read.iops;
}

async function statOps(dir: string): Promise<number> {
  const t0 = performance.now();
  // find -printf %s stats every file.
  await sh(`find '${dir}' -type f -printf '%s\\n' > /dev/null`);
  return FILES / ((performance.now() - t0) / 1000);
}

interface Row {
  cold: number;
  warm: number;
  iops: number;
  statCold: number;
  statWarm: number;
}

async function measure(root: string): Promise<Row> {
  await dropCaches();
  const cold = await ddMBs(join(root, 'big.bin'));
  const warm = await ddMBs(join(root, 'big.bin'));
  const iops = await fioIops(join(root, 'big.bin'));
  await dropCaches();
  const statCold = await statOps(join(root, 'small'));
  const statWarm = await statOps(join(root, 'small'));
  return { cold, warm, iops, statCold, statWarm };
}

type Binding = 'fuse3' | 'fuse-native';

async function viaMount(binding: Binding, inProcess: boolean, passthrough: boolean): Promise<Row> {
  const mnt = join(base, `mnt-${binding}-${inProcess ? 'inproc' : 'helper'}${passthrough ? '-pt' : ''}`);
  const m: Mount = await mount(new LocalFileSystem(data, { passthrough }), mnt, { inProcess, binding });
  try {
    return await measure(mnt);
  } finally {
    await m.unmount();
  }
}

if (!isAvailable()) {
  console.error('FUSE is not available here');
  process.exit(1);
}
await prepare();
const local = await measure(data);
const configs: Array<[string, Binding, boolean, boolean]> = [
  ['fuse-native in-process', 'fuse-native', true, false],
  ['fuse-native helper', 'fuse-native', false, false],
  ['fuse3 in-process', 'fuse3', true, false],
  ['fuse3 helper', 'fuse3', false, false],
  // Needs Linux >= 6.9 and root; elsewhere the kernel declines and this equals `fuse3 helper`.
  ['fuse3 helper + passthrough', 'fuse3', false, true],
];
const rows: Row[] = [];
for (const [, binding, inProcess, passthrough] of configs)
  rows.push(await viaMount(binding, inProcess, passthrough));
const f = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));
const r = (a: number, b: number) => (a / b).toFixed(2);
const lines = [
  `SIZE_MB=${SIZE_MB} FILES=${FILES} FIO_SECONDS=${FIO_SECONDS}, node ${process.version}`,
  '',
  `| metric | local dir | ${configs.map(([name]) => name).join(' | ')} | fuse3 helper / fuse-native helper | fuse3 helper / local | passthrough / local |`,
  `|---|---|${configs.map(() => '---|').join('')}---|---|---|`,
];
for (const [name, key] of [
  ['dd cold MB/s', 'cold'],
  ['dd warm re-read MB/s', 'warm'],
  ['fio randread 4k IOPS (cold cache)', 'iops'],
  ['stat ops/s (cold)', 'statCold'],
  ['stat ops/s (warm)', 'statWarm'],
] as const) {
  const [, nativeHelper, , fuse3Helper, passthrough] = rows.map((row) => row[key]) as number[] as [
    number,
    number,
    number,
    number,
    number,
  ];
  lines.push(
    `| ${name} | ${f(local[key])} | ${rows.map((row) => f(row[key])).join(' | ')} | ${r(fuse3Helper, nativeHelper)} | ${r(fuse3Helper, local[key])} | ${r(passthrough, local[key])} |`,
  );
}
console.log(lines.join('\n'));
if (process.env.DIR === undefined && process.env.KEEP !== '1')
  await fsp.rm(base, { recursive: true, force: true });
