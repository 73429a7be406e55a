#!/usr/bin/env -S node --single-threaded-gc --initial-old-space-size=128 --no-lazy
// Built entry point (see package.json "bin"). `pnpm run build` must have run.
// --single-threaded-gc: V8's parallel GC helpers (4 threads) cost a cold mount read 1.6-1.8 CPU
// seconds per GiB on a 2-core machine, where they compete with the event loop and the share;
// without them a cold 1 GiB read through the mount ran 171-188 MB/s instead of 135-138 (same
// harness, docs/bench/peer-mounts.md). The heaps stay small, so the longer pauses are a few ms.
// --initial-old-space-size=128: a fresh process starts with a small old-generation limit, and a
// bulk transfer started right away can then run a full GC every 20-100 ms (traced: a 17 MB heap
// under a 46 MB limit, marking driven by the received buffers' external memory): RemoteFs over
// webtransport 410-450 MB/s at 2.2-2.8 client CPU s/GiB, 565-610 MB/s at 1.6 with the flag.
// Peak RSS of a cold mount read unchanged (550-600 MB). docs/bench/remotefs.md, ninth session.
// --no-lazy: every function is compiled as its module loads instead of at its first call, so a
// fresh mount's first open and read (and a share's first requests) run no compiler: `head -c 1`
// on fresh mounts, alternating batches of 12 against sshfs in the same loop: median 5.03 ->
// 4.40 ms (sshfs 3.45); the mount's start time and `wormhole status` unchanged, RSS +7 MB.
// This line is the one place these flags live: `pnpm start` and the mount benchmark read it.
import { runCli } from '../dist/main.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Native handles (FUSE helper pipes, DataChannels) are closed by the commands; a hard exit
// here only guards against a library that forgets, so the shell prompt always comes back.
setTimeout(() => process.exit(code), 2000).unref();
