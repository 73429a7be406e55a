#!/usr/bin/env node
// `pnpm start [args]`: the main job. Today that is the `wormhole` CLI (share / mount); once
// the desktop app exists this starts it where Electron can run, else the headless daemon.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bin = resolve(root, 'packages/cli/bin/wormhole.js');
if (!existsSync(resolve(root, 'packages/cli/dist/main.js'))) {
  console.error('wormhole is not built yet: run `bash scripts/install-deps.sh` (or `pnpm run build`) first');
  process.exit(1);
}
const args = process.argv.slice(2);
if (args.length === 0) {
  console.error(
    [
      'No desktop app in this build yet: starting the command line instead.',
      '  share a folder:   pnpm start share ~/Videos',
      '  mount a share:    pnpm start mount 7-guitar-harbor ~/mnt/videos',
      '',
    ].join('\n'),
  );
  args.push('--help');
}
// The node flags the bin's shebang asks for (`#!/usr/bin/env -S node FLAGS`), so `pnpm start`
// runs the CLI exactly as the installed `wormhole` command does.
const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
const nodeFlags = shebang
  .replace(/^#!.*?\bnode\b\s*/, '')
  .split(/\s+/)
  .filter(Boolean);
const res = spawnSync(process.execPath, [...nodeFlags, bin, ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
