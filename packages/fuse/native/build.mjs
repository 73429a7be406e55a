#!/usr/bin/env node
// Builds the libfuse3 binding (wormhole_fuse3.node) with the system C compiler. Node-API headers
// come from the node-api-headers package, so no Node source download is needed (node-gyp would
// fetch one). A machine without libfuse3-dev or a compiler gets a warning, not a failed build:
// mounts then run on fuse-native (see src/native.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'wormhole_fuse3.c');
const out = join(here, 'build', 'wormhole_fuse3.node');

function skip(reason) {
  console.warn(`fuse: libfuse3 binding not built (${reason}); mounts will use fuse-native`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`${process.platform} uses its own FUSE layer`);
try {
  if (statSync(out).mtimeMs >= statSync(source).mtimeMs && process.env.WORMHOLE_FUSE3_REBUILD !== '1')
    process.exit(0);
} catch {}
const pkg = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
if (pkg.status !== 0) skip('pkg-config finds no fuse3: apt-get install libfuse3-dev');
const include = createRequire(import.meta.url)('node-api-headers').include_dir;
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC ?? 'cc';
// libuv's header (shipped with Node's own headers) lets the binding read FUSE requests on the JS
// thread; without it the binding falls back to its thread loop.
const uvDir = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => {
  try {
    return statSync(join(d, 'uv.h')).isFile();
  } catch {
    return false;
  }
});
if (uvDir === undefined)
  console.warn('fuse: no uv.h next to node; the libfuse3 binding uses its thread loop');
const args = [
  '-O2',
  '-g',
  '-shared',
  '-fPIC',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-DNAPI_VERSION=8',
  '-DNODE_GYP_MODULE_NAME=wormhole_fuse3',
  `-I${include}`,
  ...(uvDir === undefined ? [] : ['-DWH_HAVE_UV', `-idirafter${uvDir}`]),
  ...pkg.stdout
    .trim()
    .split(/\s+/)
    .filter((f) => f.startsWith('-I') || f.startsWith('-D')),
  source,
  '-o',
  out,
  ...pkg.stdout
    .trim()
    .split(/\s+/)
    .filter((f) => f.startsWith('-l') || f.startsWith('-L')),
  '-lpthread',
];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) {
  console.error('fuse: compiling the libfuse3 binding failed');
  process.exit(1);
}
