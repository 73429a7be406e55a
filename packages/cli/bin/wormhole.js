#!/usr/bin/env node
// Built entry point (see package.json "bin"). `pnpm run build` must have run.
import { runCli } from '../dist/main.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Native handles (FUSE helper pipes, DataChannels) are closed by the commands; a hard exit
// here only guards against a library that forgets, so the shell prompt always comes back.
setTimeout(() => process.exit(code), 2000).unref();
