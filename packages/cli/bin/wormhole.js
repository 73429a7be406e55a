#!/usr/bin/env -S node --single-threaded-gc
// Built entry point (see package.json "bin"). `pnpm run build` must have run.
// --single-threaded-gc: V8's parallel GC helpers (4 threads) cost a cold mount read 1.6-1.8 CPU
// seconds per GiB on a 2-core machine, where they compete with the event loop and the share;
// without them a cold 1 GiB read through the mount ran 171-188 MB/s instead of 135-138 (same
// harness, docs/bench/peer-mounts.md). The heaps stay small, so the longer pauses are a few ms.
// This line is the one place these flags live: `pnpm start` and the mount benchmark read it.
import { runCli } from '../dist/main.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Native handles (FUSE helper pipes, DataChannels) are closed by the commands; a hard exit
// here only guards against a library that forgets, so the shell prompt always comes back.
setTimeout(() => process.exit(code), 2000).unref();
