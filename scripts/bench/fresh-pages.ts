// Minor page faults per GiB when a process streams 256 KiB buffers the way the transports'
// frame decoder does (allocate, fill, keep the newest KEEP MiB like an L1, drop the rest):
//
//   node [--single-threaded-gc --initial-old-space-size=128] --import tsx scripts/bench/fresh-pages.ts [keepMiB,...]
//
// Each pass moves 1 GiB. A page faulted in is a page the kernel had to zero first, so a pass
// that faults ~100k times per GiB spends ~0.2 s of CPU on it (docs/bench/cache-e2e.md).
import { minorFaults } from './proc-stat.js';

const FRAME = 256 * 1024 + 12;
const PASSES = (process.argv[2] ?? '0,16,256,256,0').split(',').map(Number);
const source = Buffer.alloc(16 * 1024, 7);

async function pass(keepMiB: number): Promise<void> {
  const frames = Math.ceil(2 ** 30 / FRAME);
  const maxKept = Math.floor((keepMiB * 2 ** 20) / FRAME);
  const kept: Buffer[] = [];
  const faults0 = minorFaults();
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const frame = Buffer.allocUnsafe(FRAME);
    // Filled in 16 KiB pieces, as TLS records arrive.
    for (let at = 0; at < FRAME; at += source.byteLength)
      source.copy(frame, at, 0, Math.min(source.byteLength, FRAME - at));
    kept.push(frame);
    if (kept.length > maxKept) kept.shift();
    // Yield now and then, as a transfer does, so the GC runs at its usual points.
    if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = performance.now() - t0;
  console.log(
    `keep ${String(keepMiB).padStart(4)} MiB: ${minorFaults() - faults0} minor faults/GiB, ${ms.toFixed(0)} ms`,
  );
}

for (const keep of PASSES) await pass(keep);
