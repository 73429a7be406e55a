#!/usr/bin/env node
// Enforces the dependency direction of docs/architecture.md: every workspace import must be
// declared in package.json, and declared workspace dependencies must point "down" the layers.
// No package may import an app.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
/** Allowed workspace dependencies per package (the layering). */
const allowed = {
  '@wormhole/protocol': [],
  '@wormhole/transport': ['@wormhole/protocol'],
  '@wormhole/transport-datachannel': ['@wormhole/protocol', '@wormhole/transport'],
  '@wormhole/transport-webtransport': ['@wormhole/protocol', '@wormhole/transport'],
  '@wormhole/transport-tls': ['@wormhole/protocol', '@wormhole/transport'],
  '@wormhole/cache': ['@wormhole/protocol'],
  '@wormhole/fuse': [],
  '@wormhole/signal-server': ['@wormhole/protocol'],
  '@wormhole/engine': [
    '@wormhole/protocol',
    '@wormhole/transport',
    '@wormhole/transport-datachannel',
    '@wormhole/transport-webtransport',
    '@wormhole/transport-tls',
    '@wormhole/cache',
    '@wormhole/fuse',
  ],
  '@wormhole/cli': [
    '@wormhole/protocol',
    '@wormhole/engine',
    '@wormhole/signal-server',
    '@wormhole/fuse',
    '@wormhole/cache',
    '@wormhole/transport',
  ],
  '@wormhole/signal': ['@wormhole/protocol', '@wormhole/signal-server'],
  '@wormhole/integration-tests': [
    '@wormhole/protocol',
    '@wormhole/transport',
    '@wormhole/transport-datachannel',
    '@wormhole/transport-webtransport',
    '@wormhole/transport-tls',
    '@wormhole/engine',
    '@wormhole/cache',
    '@wormhole/fuse',
    '@wormhole/signal-server',
    '@wormhole/cli',
  ],
  '@wormhole/desktop': [
    '@wormhole/protocol',
    '@wormhole/engine',
    '@wormhole/fuse',
    '@wormhole/cache',
    '@wormhole/transport',
    '@wormhole/signal-server',
  ],
};
const problems = [];
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const pkgDir = join(root, group, dir);
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const rule = allowed[pkg.name];
    if (!rule) {
      problems.push(`${pkg.name}: not listed in scripts/check-layering.mjs`);
      continue;
    }
    const declared = new Set(
      Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies }),
    );
    for (const dep of declared) {
      if (dep.startsWith('@wormhole/') && !rule.includes(dep))
        problems.push(`${pkg.name}: may not depend on ${dep}`);
    }
    const walk = (d) => {
      for (const name of readdirSync(d)) {
        const full = join(d, name);
        if (name === 'node_modules' || name === 'dist') continue;
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) {
          const text = readFileSync(full, 'utf8');
          for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](@wormhole\/[a-z-]+)/g)) {
            const dep = m[1];
            if (dep !== pkg.name && !declared.has(dep)) problems.push(`${full}: imports undeclared ${dep}`);
          }
        }
      }
    };
    for (const sub of ['src', 'test', 'bin']) {
      try {
        walk(join(pkgDir, sub));
      } catch {}
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layering ok');
