import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { openChunkCache } from '../src/index.js';
import { chunk, tempDir } from './helpers.js';

const CS = 64 * 1024;

test('two processes share one L2 file: both write, each reads the other, totals and bound hold', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'shared.db');
  const COUNT = 96;
  const max = 1024 * CS; // large enough to keep everything
  const cache = await openChunkCache({ l2Path: path, l2MaxBytes: max, l1MaxBytes: 0 });
  t.after(() => cache.close());
  const child = spawn(
    process.execPath,
    [
      '--conditions=@wormhole/source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'l2-child.ts'),
      path,
      String(COUNT),
      String(max),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  for (let i = 0; i < COUNT; i++) {
    cache.put({ file: 'parent', version: 'v1', index: i }, chunk(CS, 8, i));
    if (i % 16 === 15) await cache.flush();
  }
  await cache.flush();
  cache.put({ file: 'parent', version: 'done', index: 0 }, new Uint8Array(1));
  await cache.flush();

  assert.equal(await exited, 0, err);
  const res = JSON.parse(out.trim().split('\n').pop()!);
  assert.deepEqual(res, { parentOk: COUNT, corrupt: 0, writeErrors: 0 });
  let childOk = 0;
  for (let i = 0; i < COUNT; i++) {
    const got = cache.get({ file: 'child', version: 'v1', index: i });
    if (got !== undefined && Buffer.from(got).equals(chunk(CS, 9, i))) childOk++;
  }
  assert.equal(childOk, COUNT);
  const s = cache.stats();
  assert.equal(s.l2.entries, 2 * COUNT + 1);
  assert.equal(s.l2.bytes, 2 * COUNT * CS + 1);
  assert.equal(s.l2.writeErrors, 0);
  assert.equal((await cache.verify()).corrupt, 0);
});

test('two processes overfilling a shared L2 never exceed its bound', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'shared.db');
  const COUNT = 64;
  const max = 48 * CS; // the two together write 128 chunks: 2.7x the bound
  const cache = await openChunkCache({ l2Path: path, l2MaxBytes: max, l1MaxBytes: 0 });
  t.after(() => cache.close());
  const child = spawn(
    process.execPath,
    [
      '--conditions=@wormhole/source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'l2-child.ts'),
      path,
      String(COUNT),
      String(max),
      'nowait',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let peak = 0;
  for (let i = 0; i < COUNT; i++) {
    cache.put({ file: 'parent', version: 'v1', index: i }, chunk(CS, 8, i));
    if (i % 8 === 7) {
      await cache.flush();
      peak = Math.max(peak, cache.stats().l2.bytes);
    }
  }
  cache.put({ file: 'parent', version: 'done', index: 0 }, new Uint8Array(1));
  await cache.flush();
  assert.equal(await exited, 0, err);
  const s = cache.stats();
  assert.ok(peak <= max && s.l2.bytes <= max, `peak ${peak}, final ${s.l2.bytes}, bound ${max}`);
  assert.ok(s.l2.bytes > max - 2 * CS, 'filled up to the bound');
  assert.equal((await cache.verify()).corrupt, 0);
});
