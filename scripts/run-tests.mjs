#!/usr/bin/env node
// Runs every `test/**/*.test.ts` of the workspace with node's own test runner, straight from
// TypeScript source (tsx + the `@wormhole/source` export condition), so a test never runs
// against a stale build. Usage: node scripts/run-tests.mjs [folder-or-file ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['packages', 'apps'];

/** @param {string} dir @param {string[]} out */
function collect(dir, out) {
  const st = statSync(dir);
  if (st.isFile()) {
    if (dir.endsWith('.test.ts')) out.push(dir);
    return out;
  }
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.test.ts') && full.includes(`${join('', 'test')}/`)) out.push(full);
  }
  return out;
}

const files = roots.flatMap((r) => collect(resolve(root, r), [])).sort();
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const args = [
  '--conditions=@wormhole/source',
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  ...files.map((f) => relative(root, f)),
];
const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(res.status ?? 1);
