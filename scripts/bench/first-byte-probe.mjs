// One connection from a fresh process, for first-byte.ts' `fresh` row: the built engine (what
// the CLI runs, no tsx), createTransports() and connectShare() at once, a 1-byte read. Prints
// {"connectMs","firstByteMs","importMs","transport"} on stdout.
//   node scripts/bench/first-byte-probe.mjs CODE SIGNAL_URL
const t0 = performance.now();
const { closeTransports, connectShare, createTransports } = await import(
  new URL('../../packages/engine/dist/index.js', import.meta.url).href
);
const t1 = performance.now();
const [code, signalUrl] = process.argv.slice(2);
const transports = createTransports();
let transport = '';
const t2 = performance.now();
const fs = await connectShare({ code, signalUrl, transports, onPath: (p) => (transport = p.transport) });
const t3 = performance.now();
await fs.read('/a.txt', 0, 1);
const t4 = performance.now();
process.stdout.write(
  `${JSON.stringify({ importMs: t1 - t0, connectMs: t3 - t2, firstByteMs: t4 - t2, transport })}\n`,
);
await fs.close();
await closeTransports(transports);
process.exit(0);
