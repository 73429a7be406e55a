#!/usr/bin/env node
// Builds the host's file-system helper (wormhole_hostfs.node) with the system C compiler and the
// Node-API headers from node-api-headers (no node-gyp, no header download). Without a compiler,
// or off Linux, the host uses node:fs instead (src/host/native-fs.ts): a warning, not a failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'wormhole_hostfs.c');
const out = join(here, 'build', 'wormhole_hostfs.node');

function skip(reason) {
  console.warn(`engine: host file-system helper not built (${reason}); the host uses node:fs`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`not built on ${process.platform}`);
try {
  if (statSync(out).mtimeMs >= statSync(source).mtimeMs && process.env.WORMHOLE_NATIVE_REBUILD !== '1')
    process.exit(0);
} catch {}
const include = createRequire(import.meta.url)('node-api-headers').include_dir;
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC ?? 'cc';
const r = spawnSync(
  cc,
  [
    '-O2',
    '-g',
    '-shared',
    '-fPIC',
    '-fvisibility=hidden',
    '-Wall',
    '-Wextra',
    '-DNAPI_VERSION=8',
    '-DNODE_GYP_MODULE_NAME=wormhole_hostfs',
    `-I${include}`,
    source,
    '-o',
    out,
  ],
  { stdio: 'inherit' },
);
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) {
  console.error('engine: compiling the host file-system helper failed');
  process.exit(1);
}
