// ≥ 10,000 hostile paths against hostile symlink layouts, with a racer swapping symlinks
// under the host while it serves: no byte from outside the root may ever come back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { parseSharePath, RemoteFsError } from '../src/index.js';
import { type Served, serve, tempDir } from './helpers/fixture.js';

const RACER = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { join } = require('node:path');
const { root, outside, canary } = workerData;
let running = true;
parentPort.on('message', () => { running = false; });
let flip = false;
function step() {
  for (let i = 0; i < 50 && running; i++) {
    try {
      fs.rmSync(join(root, 'race'), { recursive: true, force: true });
      fs.rmSync(join(root, 'racefile'), { force: true });
      if (flip) {
        fs.symlinkSync(outside, join(root, 'race'));
        fs.symlinkSync(canary, join(root, 'racefile'));
      } else {
        fs.mkdirSync(join(root, 'race'));
        fs.writeFileSync(join(root, 'race/outside-secret.txt'), 'harmless');
        fs.writeFileSync(join(root, 'racefile'), 'harmless');
      }
      // The classic TOCTOU move: an atomic rename of a symlink over a directory name.
      fs.renameSync(join(root, flip ? 'race-evil' : 'race-real'), join(root, 'race-tmp'));
      fs.renameSync(join(root, 'race-tmp'), join(root, flip ? 'race-evil' : 'race-real'));
    } catch {}
    flip = !flip;
  }
  if (running) setImmediate(step);
}
step();
`;

const CANARY = `CANARY-${randomBytes(16).toString('hex')}`;

describe('path parsing', () => {
  it('rejects escapes and odd encodings with typed codes', () => {
    const code = (p: string) => {
      try {
        parseSharePath(p);
        return 'ok';
      } catch (e) {
        return e instanceof RemoteFsError ? e.code : 'untyped';
      }
    };
    assert.equal(code('..'), 'EACCES');
    assert.equal(code('a/../../b'), 'EACCES');
    assert.equal(code('/etc/passwd'), 'EACCES');
    assert.equal(code('a\0b'), 'EINVAL');
    assert.equal(code('..\\..\\x'), 'EINVAL');
    assert.equal(code('a/\uD800/b'), 'EINVAL');
    assert.equal(code('x'.repeat(256)), 'ENAMETOOLONG');
    assert.equal(code('a/'.repeat(2100)), 'ENAMETOOLONG');
    assert.deepEqual(parseSharePath('a/./b/../c//'), ['a', 'c']);
    assert.deepEqual(parseSharePath('/'), []);
    assert.deepEqual(parseSharePath('%2e%2e/x'), ['%2e%2e', 'x']); // a literal name, never decoded
  });
});

describe('hostile paths and symlink layouts', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Served;
  let root: string;
  let racerWorker: Worker | undefined;

  before(async () => {
    dir = await tempDir();
    root = join(dir.path, 'share');
    const outside = join(dir.path, 'outside');
    mkdirSync(join(root, 'sub/inner'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(dir.path, 'canary.txt'), CANARY);
    writeFileSync(join(outside, 'outside-secret.txt'), CANARY);
    writeFileSync(join(root, 'ok.txt'), 'fine');
    writeFileSync(join(root, 'sub/inner/deep.txt'), 'deep');
    const links: [string, string][] = [
      ['etc', '/etc'],
      ['passwd', '/etc/passwd'],
      ['up', '..'],
      ['up2', '../..'],
      ['canary', '../canary.txt'],
      ['canary-abs', join(dir.path, 'canary.txt')],
      ['outdir', '../outside'],
      ['outdir-abs', outside],
      ['chain1', 'chain2'],
      ['chain2', 'sub/chain3'],
      ['sub/chain3', '../../canary.txt'],
      ['loop1', 'loop2'],
      ['loop2', 'loop1'],
      ['self', 'self'],
      ['sub/up', '../..'],
      ['sub/in', 'inner'],
      ['in-abs', join(root, 'sub')],
      ['root-abs', root],
      ['dotdot-trick', 'sub/../../outside'],
    ];
    for (const [from, to] of links) symlinkSync(to, join(root, from));
    // The racer's two states: a real directory and a symlink to outside, swapped by rename(2).
    mkdirSync(join(root, 'race-real'));
    writeFileSync(join(root, 'race-real/outside-secret.txt'), 'harmless');
    symlinkSync(outside, join(root, 'race-evil'));
    writeFileSync(join(root, 'racefile-real'), 'harmless');
    symlinkSync(join(dir.path, 'canary.txt'), join(root, 'racefile-evil'));
    mkdirSync(join(root, 'race-real'), { recursive: true });
    s = await serve(root, { watch: false });
    // The racer runs on its own thread so it really races the host's libuv threads.
    racerWorker = new Worker(RACER, {
      eval: true,
      workerData: { root, outside, canary: join(dir.path, 'canary.txt') },
    });
  });

  after(async () => {
    racerWorker?.postMessage('stop');
    await racerWorker?.terminate();
    await s?.close();
    await dir?.remove();
  });

  it('never returns outside bytes for ≥ 10,000 hostile paths (read, stat, readdir, readlink)', async () => {
    const segs = [
      '..',
      '.',
      '',
      'etc',
      'passwd',
      'up',
      'up2',
      'canary',
      'canary-abs',
      'outdir',
      'outdir-abs',
      'chain1',
      'chain2',
      'loop1',
      'self',
      'sub',
      'inner',
      'in',
      'in-abs',
      'root-abs',
      'dotdot-trick',
      'race',
      'racefile',
      'outside-secret.txt',
      'canary.txt',
      'ok.txt',
      '%2e%2e',
      '..%2f',
      '\\..',
      'a\0b',
      '\uDC00',
      'x'.repeat(300),
      'sub/up',
      'shadow',
      'hostname',
      '…',
      '．．',
    ];
    const paths: string[] = [];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    while (paths.length < 10_500) {
      const n = 1 + rnd(6);
      const parts = Array.from({ length: n }, () => segs[rnd(segs.length)]!);
      const lead = rnd(8) === 0 ? '/' : '';
      paths.push(lead + parts.join('/'));
    }
    let reads = 0;
    let okReads = 0;
    const leaks: string[] = [];
    const check = (p: string, what: string, bytes: Uint8Array | string) => {
      if (Buffer.from(bytes).includes(CANARY)) leaks.push(`${what} ${JSON.stringify(p)}`);
    };
    const errorsTyped = (e: unknown) => {
      if (!(e instanceof RemoteFsError)) throw e;
    };
    for (let i = 0; i < paths.length; i += 64) {
      await Promise.all(
        paths.slice(i, i + 64).map(async (p) => {
          reads++;
          await s.fs.read(p, 0, 4096).then((b) => {
            okReads++;
            check(p, 'read', b);
          }, errorsTyped);
          await s.fs.stat(p).catch(errorsTyped);
          await s.fs.readdir(p).then((entries) => {
            for (const e of entries)
              if (e.name === 'outside-secret.txt' && !/race/.test(p))
                leaks.push(`readdir ${JSON.stringify(p)}`);
              else if (e.name === 'passwd' && e.stat.type !== 'symlink')
                leaks.push(`readdir /etc via ${JSON.stringify(p)}`);
          }, errorsTyped);
          await s.fs.readlink(p).catch(errorsTyped);
        }),
      );
    }
    // Under the racer, 'race' listings may show the harmless in-root file; its content proves which one.
    for (let i = 0; i < 2000; i++) {
      const b = await s.fs
        .read(i % 2 ? 'race/outside-secret.txt' : 'racefile', 0, 4096)
        .catch(() => new Uint8Array());
      check('race', 'race-read', b);
      if (b.byteLength > 0) okReads++;
    }
    assert.ok(reads >= 10_000);
    assert.ok(okReads > 100, `the fuzz must also exercise successful reads (${okReads})`);
    assert.deepEqual(leaks, []);
    // The host is still healthy.
    assert.equal(Buffer.from(await s.fs.read('/ok.txt', 0, 10)).toString(), 'fine');
    assert.equal(
      Buffer.from(await s.fs.read('/chain2', 0, 10).catch(() => Buffer.from('refused'))).toString(),
      'refused',
    );
    assert.equal(Buffer.from(await s.fs.read('/sub/in/deep.txt', 0, 10)).toString(), 'deep');
    assert.equal(Buffer.from(await s.fs.read('/in-abs/inner/deep.txt', 0, 10)).toString(), 'deep');
    await assert.rejects(
      s.fs.read('/loop1', 0, 10),
      (e: unknown) => e instanceof RemoteFsError && e.code === 'ELOOP',
    );
  });
});
