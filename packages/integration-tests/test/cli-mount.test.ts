// Issue 4 end to end through the real `wormhole` CLI: a signal server (`wormhole signal`), a host
// (`wormhole share`) and a FUSE mount (`wormhole mount`), each its own process, then the shell
// tools a user would run on the mount. Every mount is unmounted and every child killed in
// `finally`/`after`, whatever fails.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { checkPassthrough, findFuseMount, isAvailable } from '@wormhole/fuse';
import { type ChildHandle, makeTestTree, spawnTsChild, type TestTree } from '@wormhole/integration-tests';
import { WORDLIST } from '@wormhole/protocol';

const BIG_MIB = Number(process.env.WORMHOLE_CLI_BIG_MIB ?? 256);
const MANY = 10_000;
const cliFixture = join(import.meta.dirname, 'fixtures/wormhole-cli.ts');
const skip = isAvailable()
  ? false
  : 'FUSE is not available here (see `wormhole doctor`): no real mount possible';

const base = mkdtempSync(join(tmpdir(), 'wh-cli-mount-'));
/** Every mount point a test used: all are force-unmounted at the end, mounted or not. */
const mountpoints = new Set<string>();
/** Every CLI child started: all are killed at the end. */
const children = new Set<ChildHandle>();

/** An environment that isolates the CLI from the machine: own HOME, no system policy, loopback. */
function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('XDG_') || k.startsWith('WORMHOLE_')) delete env[k];
  return {
    ...env,
    HOME: home,
    WORMHOLE_POLICY: join(base, 'no-policy.toml'),
    WORMHOLE_ADVERTISE_HOST: '127.0.0.1',
    WORMHOLE_LISTEN_HOST: '127.0.0.1',
    ...extra,
  };
}

interface CliResult {
  code: number | null;
  lines: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

/** Parses `--json` output, failing the test on any line that is not one JSON object. */
function parseJsonLines(stdout: string, what: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        assert.fail(`${what}: --json printed a line that is not JSON: ${JSON.stringify(l)}`);
      }
      assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what}: not an object: ${l}`);
      assert.equal(typeof (v as { event?: unknown }).event, 'string', `${what}: no "event": ${l}`);
      return v as Record<string, unknown>;
    });
}

/** Runs `wormhole --json ARGS` to completion. */
function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', cliFixture, '--json', ...args],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wormhole ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve({ code, lines: parseJsonLines(stdout, `wormhole ${args[0]}`), stdout, stderr });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A long-running `wormhole --json ARGS`; non-JSON stdout lines are collected as failures. */
function startCli(args: string[], env: NodeJS.ProcessEnv): ChildHandle & { badLines: string[] } {
  const h = spawnTsChild(cliFixture, ['--json', ...args], env);
  const badLines: string[] = [];
  createInterface({ input: h.child.stdout! }).on('line', (l) => {
    try {
      const v: unknown = JSON.parse(l);
      if (v === null || typeof v !== 'object' || typeof (v as { event?: unknown }).event !== 'string')
        badLines.push(l);
    } catch {
      badLines.push(l);
    }
  });
  children.add(h);
  return Object.assign(h, { badLines });
}

interface Sh {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a shell command (bounded by `timeout`, so a hung mount fails the test instead of hanging it). */
function sh(cmd: string, timeoutS = 60): Promise<Sh> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child: ChildProcess = spawn('timeout', ['-s', 'KILL', String(timeoutS), 'bash', '-c', cmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code, signal) =>
      resolve({
        code: code ?? (signal === 'SIGKILL' ? 137 : -1),
        stdout: Buffer.concat(out).toString(),
        stderr,
        ms: performance.now() - t0,
      }),
    );
  });
}

async function shOk(cmd: string, timeoutS = 60): Promise<string> {
  const r = await sh(cmd, timeoutS);
  assert.equal(r.code, 0, `${cmd} failed (${r.code}): ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function waitUntil(
  pred: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of `pid` (from /proc, no pgrep). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

function forceUnmount(mnt: string): void {
  for (const cmd of [
    ['fusermount', '-uz', mnt],
    ['umount', '-l', mnt],
  ]) {
    if (!findFuseMount(mnt)) return;
    try {
      execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore', timeout: 5000 });
    } catch {
      // try the next way
    }
  }
}

async function cleanupAll(): Promise<void> {
  for (const c of children) await c.kill('SIGKILL').catch(() => {});
  // The FUSE helpers die with their parent (pipe EOF); any left would be reparented to init.
  for (const m of mountpoints) forceUnmount(m);
  for (const m of mountpoints) assert.equal(findFuseMount(m), undefined, `${m} is still mounted`);
}

/** The mount's helper process and libfuse's auto_unmount watcher (fusermount), by parentage. */
function mountHelpers(mountPid: number): { helper: number[]; fusermount: number[] } {
  const helper = childPids(mountPid);
  return { helper, fusermount: helper.flatMap(childPids) };
}

async function mountCli(code: string, mnt: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  mountpoints.add(mnt);
  const t0 = performance.now();
  const m = startCli(['mount', code, mnt, ...extra], env);
  const ev = await m.waitFor('mounted', 60_000);
  return { m, ev, ms: performance.now() - t0 };
}

describe('wormhole share + wormhole mount over real FUSE (CLI, separate processes)', { skip }, () => {
  const home = join(base, 'home');
  const mnt = join(base, 'mnt');
  let tree: TestTree;
  let env: NodeJS.ProcessEnv;
  let signal: ReturnType<typeof startCli>;
  let signalUrl: string;
  let host: ReturnType<typeof startCli>;
  let mount: ReturnType<typeof startCli>;
  let code: string;
  const timings: Record<string, number> = {};

  const shareArgs = () => ['share', tree.root, '--signal', signalUrl, '--transports', 'tls'];

  before(async () => {
    mkdirSync(home, { recursive: true });
    env = cliEnv(home);
    tree = makeTestTree(join(base, 'share'), { bigMiB: BIG_MIB, manyFiles: MANY });
    // A SQLite database in the share, for `sqlite3 -readonly` through the mount.
    execFileSync('sqlite3', [
      join(tree.root, 'data.sqlite'),
      'CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20000) INSERT INTO t(v) SELECT hex(randomblob(32)) FROM c;',
    ]);
    mkdirSync(join(tree.root, 'dir with space/ünï cödé'), { recursive: true });
    writeFileSync(join(tree.root, 'dir with space/ünï cödé/ß ✓.txt'), 'nested unicode\n');
    // Symlinks inside the share: to a file, to a directory, relative with `..`.
    execFileSync('ln', ['-s', 'a/b', join(tree.root, 'link-to-dir')]);
    execFileSync('ln', ['-s', '../../../with space.txt', join(tree.root, 'a/b/c/link-up')]);

    signal = startCli(['signal', '--bind', '127.0.0.1:0'], env);
    signalUrl = String((await signal.waitFor('listening')).url);
    host = startCli(shareArgs(), env);
    code = String((await host.waitFor('code', 60_000)).code);
    const r = await mountCli(code, mnt, env, ['--signal', signalUrl]);
    mount = r.m;
    timings.mountMs = Math.round(r.ms);
  });

  after(async () => {
    try {
      // Ctrl-C path first (the clean unmount), then the hard cleanup whatever happened.
      if (mount && mount.child.exitCode === null) {
        mount.child.kill('SIGINT');
        await waitUntil(() => mount.child.exitCode !== null, 8000, 50);
      }
      await cleanupAll();
    } finally {
      console.log(`# timings ${JSON.stringify(timings)}`);
    }
  });

  it('mounts over the separate signal server and answers ls -l, find, stat, readlink like the host', async () => {
    assert.equal(findFuseMount(mnt)?.mountpoint ?? mnt, mnt);
    assert.ok(findFuseMount(mnt), 'mount listed in mountinfo');
    // ls -l: same names, modes, sizes, mtimes (the "total" line counts blocks, which differ).
    const ls = (dir: string) =>
      shOk(`cd ${q(dir)} && ls -l --time-style=+%s . a a/b/c many | grep -v '^total'`).then((s) =>
        s.replace(/^(\S+)\s+\d+/gm, '$1'),
      );
    const t0 = performance.now();
    const mountLs = await ls(mnt);
    timings.lsMs = Math.round(performance.now() - t0);
    assert.equal(mountLs, await ls(tree.root));
    // find: every path and its type.
    const find = (dir: string) => shOk(`cd ${q(dir)} && find . -printf '%y %p %s %m %l\\n' | sort`);
    const t1 = performance.now();
    const mountFind = await find(mnt);
    timings.findMs = Math.round(performance.now() - t1);
    assert.equal(mountFind, await find(tree.root));
    assert.equal(mountFind.split('\n').filter((l) => l.startsWith('f ./many/')).length, MANY);
    // stat: size, mtime, mode, type, link count, symlink target; blocks reported (du is not 0).
    const statCmd = (dir: string) =>
      shOk(
        `cd ${q(dir)} && stat -c '%n|%s|%Y|%a|%F|%h|%N' big.bin 'naïve café 日本語.txt' 'with space.txt' empty.txt link-to-deep link-to-dir a/b/c/link-up 'dir with space/ünï cödé/ß ✓.txt' a`,
      );
    assert.equal(await statCmd(mnt), await statCmd(tree.root));
    assert.ok(Number(await shOk(`stat -c %b ${q(join(mnt, 'big.bin'))}`)) >= tree.bigSize / 512);
    assert.equal(await shOk(`readlink ${q(join(mnt, 'a/b/c/link-up'))}`), '../../../with space.txt\n');
    assert.equal(await shOk(`cat ${q(join(mnt, 'link-to-dir/c/link-up'))}`), 'spaces\n');
  });

  it('tar c, rsync -c, sha256sum, cat and cp -a through the mount match the host byte for byte', async () => {
    // Two full passes over the 10,000-file tree (each costs a round trip per file): tar c cold,
    // rsync -c warm; sha256sum and cp -a run on everything but the 10,000 files.
    const sums = (dir: string, filter = '') =>
      shOk(`cd ${q(dir)} && find . ${filter} -type f -print0 | sort -z | xargs -0 sha256sum`, 240);
    // mtimes to the second: tar keeps whole seconds, the mount reports milliseconds.
    const secondsOnly = (text: string) => text.replace(/ (\d{9,11})\.\d+ /g, ' $1 ');
    const meta = (dir: string) =>
      shOk(`cd ${q(dir)} && find . -printf '%y %p %s %m %T@ %l\\n' | sort`).then(secondsOnly);
    const hostSums = await sums(tree.root);
    const hostMeta = await meta(tree.root);

    // tar c of the whole mount, unpacked on local disk: every byte, mode, mtime and symlink.
    const untarred = join(base, 'untarred');
    mkdirSync(untarred);
    const t0 = performance.now();
    await shOk(`tar c --sort=name -C ${q(mnt)} . | tar x -C ${q(untarred)}`, 240);
    timings.tarColdMs = Math.round(performance.now() - t0);
    assert.equal(await sums(untarred), hostSums);
    assert.equal(await meta(untarred), hostMeta);
    rmSync(untarred, { recursive: true, force: true });

    // rsync -c reads and checksums every file on both sides: nothing to change.
    const t1 = performance.now();
    const rs = await shOk(`rsync -a -c -n -i --delete ${q(`${mnt}/`)} ${q(`${tree.root}/`)}`, 240);
    timings.rsyncWarmMs = Math.round(performance.now() - t1);
    assert.equal(rs, '', `rsync -c sees differences:\n${rs.slice(0, 2000)}`);

    const notMany = '-path ./many -prune -o';
    const t2 = performance.now();
    assert.equal(await sums(mnt, notMany), await sums(tree.root, notMany));
    timings.sha256Ms = Math.round(performance.now() - t2);
    assert.equal(await shOk(`cat ${q(join(mnt, 'naïve café 日本語.txt'))}`), 'unicode ✓\n');
    assert.equal(await shOk(`cat ${q(join(mnt, 'dir with space/ünï cödé/ß ✓.txt'))}`), 'nested unicode\n');
    assert.equal(await shOk(`cat ${q(join(mnt, 'many/f09999'))}`), 'file 9999\n');

    // cp -a keeps contents, modes, mtimes and symlinks.
    const copy = join(base, 'copy');
    mkdirSync(copy);
    const top = readdirSync(tree.root).filter((n) => n !== 'many');
    const t3 = performance.now();
    await shOk(`cd ${q(mnt)} && cp -a ${top.map(q).join(' ')} ${q(copy)}/`, 240);
    timings.cpAMs = Math.round(performance.now() - t3);
    const metaNotMany = (dir: string) =>
      shOk(`cd ${q(dir)} && find . ${notMany} -printf '%y %p %s %m %T@ %l\\n' | sort`).then(secondsOnly);
    assert.equal(await sums(copy, notMany), await sums(tree.root, notMany));
    assert.equal(
      (await metaNotMany(copy)).replace(/^d \. .*\n/m, ''),
      (await metaNotMany(tree.root)).replace(/^d \. .*\n/m, ''),
    );
    rmSync(copy, { recursive: true, force: true });
  });

  it('wormhole get copies folders (nested, unicode, symlinks) and the big file byte for byte', async () => {
    const listing = (dir: string) => shOk(`cd ${q(dir)} && find . -printf '%y %p %s %l\\n' | sort`);
    const sums = (dir: string) =>
      shOk(`cd ${q(dir)} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`);
    const got = join(base, 'got');
    mkdirSync(got);
    try {
      for (const folder of ['a', 'dir with space']) {
        const dest = join(got, folder);
        const r = await cli(['get', code, `/${folder}`, dest, '--signal', signalUrl], env, 120_000);
        assert.equal(r.code, 0, `get /${folder}: ${r.stdout}${r.stderr}`);
        const done = r.lines.find((l) => l.event === 'done');
        assert.ok(done, `get /${folder} printed no done event: ${r.stdout}`);
        assert.equal(await listing(dest), await listing(join(tree.root, folder)));
        assert.equal(await sums(dest), await sums(join(tree.root, folder)));
      }
      const t0 = performance.now();
      const big = await cli(
        ['get', code, `/${tree.bigFile}`, join(got, 'big copy.bin'), '--signal', signalUrl],
        env,
        240_000,
      );
      timings.getBigMs = Math.round(performance.now() - t0);
      assert.equal(big.code, 0, `get big: ${big.stdout}${big.stderr}`);
      assert.equal(big.lines.find((l) => l.event === 'done')?.bytes, tree.bigSize);
      const sha = (await shOk(`sha256sum ${q(join(got, 'big copy.bin'))}`)).split(' ')[0];
      assert.equal(sha, tree.hashes.get(tree.bigFile));
      // Every file went through a temporary name that was renamed at the end.
      assert.equal(await shOk(`find ${q(got)} -name '*.wormhole-part'`), '');
    } finally {
      rmSync(got, { recursive: true, force: true });
    }
  });

  it('in a terminal, wormhole get draws a progress bar with formatted sizes', async () => {
    // script(1) gives the CLI a pseudo-terminal: the bar is drawn only on a TTY (and cli-progress
    // is loaded only then).
    const dest = join(base, 'tty-get.txt');
    const cmd = [
      process.execPath,
      '--conditions=@wormhole/source',
      '--import',
      'tsx',
      cliFixture,
      'get',
      code,
      '/a/b/c/deep.txt',
      dest,
      '--signal',
      signalUrl,
    ]
      .map(q)
      .join(' ');
    try {
      const out = await shOk(`script -qec ${q(cmd)} /dev/null`, 60);
      const frames = stripVTControlCharacters(out);
      assert.match(
        frames,
        /100% \| 195\.3 KiB \/ 195\.3 KiB \|/,
        `no final bar frame in: ${out.slice(-400)}`,
      );
      assert.doesNotMatch(frames, /\/ 200000\b/, 'the bar showed the raw byte count');
      assert.match(frames, /copied 195\.3 KiB/);
      assert.equal((await shOk(`sha256sum ${q(dest)}`)).split(' ')[0], tree.hashes.get('a/b/c/deep.txt'));
    } finally {
      rmSync(dest, { force: true });
    }
  });

  it('fio random reads and sqlite3 -readonly work on the mount', async () => {
    const fio = await shOk(
      `fio --name=rr --filename=${q(join(mnt, 'big.bin'))} --readonly --rw=randread --bs=4k --size=${tree.bigSize} --runtime=2 --time_based --ioengine=psync --output-format=json`,
    );
    const job = (
      JSON.parse(fio.slice(fio.indexOf('{'))) as { jobs: { error: number; read: { iops: number } }[] }
    ).jobs[0]!;
    assert.equal(job.error, 0);
    assert.ok(job.read.iops > 100, `fio randread: ${job.read.iops} IOPS`);
    timings.fioIops = Math.round(job.read.iops);
    const sql =
      'SELECT count(*), sum(length(v)), max(id) FROM t; PRAGMA integrity_check; PRAGMA quick_check;';
    const viaMount = await shOk(`sqlite3 -readonly ${q(join(mnt, 'data.sqlite'))} ${q(sql)}`);
    assert.equal(viaMount, '20000|1280000|20000\nok\nok\n');
    assert.equal(viaMount, await shOk(`sqlite3 -readonly ${q(join(tree.root, 'data.sqlite'))} ${q(sql)}`));
  });

  it('maps errors to errno: ENOENT, EISDIR, ENOTDIR, and EROFS on every kind of write', async () => {
    const { promises: fsp } = await import('node:fs');
    const rejectsWith = (p: Promise<unknown>, errno: string) =>
      assert.rejects(
        p,
        (e: NodeJS.ErrnoException) => e.code === errno || assert.fail(`${errno} expected, got ${e.code}`),
      );
    await rejectsWith(fsp.readFile(join(mnt, 'missing.txt')), 'ENOENT');
    await rejectsWith(fsp.stat(join(mnt, 'a/missing/deeper')), 'ENOENT');
    await rejectsWith(fsp.readFile(join(mnt, 'a')), 'EISDIR');
    await rejectsWith(fsp.stat(join(mnt, 'with space.txt/child')), 'ENOTDIR');
    await rejectsWith(fsp.readdir(join(mnt, 'empty.txt')), 'ENOTDIR');
    await rejectsWith(fsp.writeFile(join(mnt, 'new.txt'), 'x'), 'EROFS');
    await rejectsWith(fsp.writeFile(join(mnt, 'with space.txt'), 'x'), 'EROFS');
    await rejectsWith(fsp.mkdir(join(mnt, 'newdir')), 'EROFS');
    await rejectsWith(fsp.unlink(join(mnt, 'empty.txt')), 'EROFS');
    await rejectsWith(fsp.rename(join(mnt, 'empty.txt'), join(mnt, 'e2.txt')), 'EROFS');
    // The same through the shell tools users type.
    for (const cmd of [
      `touch ${q(join(mnt, 'empty.txt'))}`,
      `touch ${q(join(mnt, 'brand-new'))}`,
      `echo hi > ${q(join(mnt, 'with space.txt'))}`,
      `mkdir ${q(join(mnt, 'newdir'))}`,
      `rm -f ${q(join(mnt, 'empty.txt'))}`,
      `rm -rf ${q(join(mnt, 'a'))}`,
    ]) {
      const r = await sh(cmd);
      assert.notEqual(r.code, 0, `${cmd} succeeded on a read-only share`);
      assert.match(r.stderr, /Read-only file system/, `${cmd}: ${r.stderr}`);
    }
    assert.equal(readFileSync(join(tree.root, 'with space.txt'), 'utf8'), 'spaces\n');
    assert.ok(existsSync(join(tree.root, 'a/b/c/deep.txt')));
  });

  it('wormhole status --json lists the share and the mount with transport and candidate types; cache stats shows L2 entries', async () => {
    // The mount publishes its state every 2 s: wait for a snapshot taken after the reads above.
    let status: Record<string, unknown>[] = [];
    const ok = await waitUntil(
      async () => {
        const r = await cli(['status'], env);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        status = r.lines.filter((l) => l.event === 'status');
        const m = status.find((s) => s.kind === 'mount') as
          | { cache?: { l2?: { entries?: number } } }
          | undefined;
        return (m?.cache?.l2?.entries ?? 0) > 0;
      },
      10_000,
      500,
    );
    assert.ok(ok, `status: ${JSON.stringify(status)}`);
    const share = status.find((s) => s.kind === 'share') as
      | {
          path: string;
          code: string;
          peers: { transport: string; localCandidate: string; remoteCandidate: string; protocol?: string }[];
        }
      | undefined;
    const m = status.find((s) => s.kind === 'mount') as
      | {
          path: string;
          connected: boolean;
          peers: { transport: string; localCandidate: string; remoteCandidate: string; protocol?: string }[];
          cache?: { l2?: { writesDropped?: number } };
        }
      | undefined;
    assert.ok(share && m, JSON.stringify(status));
    assert.equal(typeof m.cache?.l2?.writesDropped, 'number', 'fills that skipped L2 are reported');
    assert.equal(share.path, tree.root);
    assert.equal(share.code, code);
    assert.equal(share.peers.length, 1);
    assert.equal(share.peers[0]!.transport, 'tls');
    assert.equal(m.path, mnt);
    assert.equal(m.connected, true);
    assert.equal(m.peers[0]!.transport, 'tls');
    for (const p of [share.peers[0]!, m.peers[0]!]) {
      assert.equal(typeof p.localCandidate, 'string');
      assert.equal(typeof p.remoteCandidate, 'string');
      assert.match(p.protocol ?? '', /tls/, 'what carries the channel');
    }
    const stats = await cli(['cache', 'stats'], env);
    assert.equal(stats.code, 0, stats.stdout + stats.stderr);
    const cs = stats.lines.find((l) => l.event === 'cache-stats') as {
      l2: { entries: number; bytes: number };
      copies?: { files: number; bytes: number };
    };
    assert.ok(cs.l2.entries > 0, JSON.stringify(cs));
    // A file read whole is kept as a whole-file copy (for FUSE passthrough) instead of as L2 rows.
    assert.ok(
      cs.l2.bytes + (cs.copies?.bytes ?? 0) >= tree.bigSize,
      `L2 and the copies hold the big file: ${JSON.stringify(cs)}`,
    );
    assert.ok((cs.copies?.files ?? 0) >= 1, JSON.stringify(cs));
  });

  it('a file read whole is re-read by the kernel from its local copy (FUSE passthrough): same bytes, no read reaches the mount', async () => {
    type Copies = { files: number; bytes: number; opens: number; readsHere: number };
    const snapshot = async (after: number) => {
      let copies: Copies | undefined;
      let fetches = -1;
      // The mount publishes its state every 2 s: take one written after `after`.
      const ok = await waitUntil(
        async () => {
          const r = await cli(['status'], env);
          const m = r.lines.find((l) => l.event === 'status' && l.kind === 'mount') as
            | { updatedAt: number; cache?: { fetches: number; copies?: Copies } }
            | undefined;
          if (m === undefined || m.updatedAt <= after) return false;
          copies = m.cache?.copies;
          fetches = m.cache?.fetches ?? -1;
          return true;
        },
        10_000,
        200,
      );
      assert.ok(ok && copies !== undefined, 'mount status with copies');
      return { copies: copies!, fetches };
    };
    const before = await snapshot(0);
    // A cache drop: the kernel must read the bytes again, from the copy on local disk.
    await shOk('sync; echo 3 > /proc/sys/vm/drop_caches');
    const sum = (await shOk(`sha256sum ${q(join(mnt, 'big.bin'))}`, 60)).split(' ')[0];
    const fio = await shOk(
      `fio --name=r --filename=${q(join(mnt, 'big.bin'))} --readonly --rw=randread --bs=4k --runtime=1 --time_based --ioengine=psync --output-format=terse --terse-version=3 | cut -d';' -f8`,
    );
    assert.equal(sum, tree.hashes.get('big.bin'));
    assert.ok(Number(fio) > 0, fio);
    // A state published after both commands ended (one published between them would miss fio's open).
    const after = await snapshot(Date.now());
    assert.ok(after.copies.opens >= before.copies.opens + 2, JSON.stringify({ before, after }));
    if (checkPassthrough().ok)
      assert.equal(after.copies.readsHere, before.copies.readsHere, 'reads went to the copy in the kernel');
    // Without passthrough (older kernel), the mount serves the reads from the copy itself.
    else assert.ok(after.copies.readsHere > before.copies.readsHere, JSON.stringify({ before, after }));
    assert.equal(after.fetches, before.fetches, 'nothing fetched from the host');
  });

  it('a host-side rewrite and a new file are visible on the client within 1 s', async () => {
    // Prime the client's caches (kernel attrs, helper attrs, listing) with the old state.
    const target = join(mnt, 'a/b/c/deep.txt');
    readFileSync(target);
    assert.equal(existsSync(join(mnt, 'added.txt')), false);
    await new Promise((r) => setTimeout(r, 200));
    const fresh = randomBytes(1234).toString('hex');
    const t0 = performance.now();
    writeFileSync(join(tree.root, 'a/b/c/deep.txt'), fresh);
    writeFileSync(join(tree.root, 'added.txt'), 'added on the host\n');
    // Only ever stat'd before the host dies, never read: the "uncached file" of the offline test
    // (added now because the tool passes above read every file of the tree).
    writeFileSync(join(tree.root, 'never-read.bin'), randomBytes(3 * 1024 * 1024 + 5));
    let rewrite = Number.NaN;
    let added = Number.NaN;
    await waitUntil(
      () => {
        if (Number.isNaN(rewrite)) {
          try {
            if (readFileSync(target, 'utf8') === fresh) rewrite = performance.now() - t0;
          } catch {
            // a read in the middle of the change: try again
          }
        }
        if (Number.isNaN(added)) {
          try {
            if (readFileSync(join(mnt, 'added.txt'), 'utf8') === 'added on the host\n')
              added = performance.now() - t0;
          } catch {
            // not there yet
          }
        }
        return !Number.isNaN(rewrite) && !Number.isNaN(added);
      },
      5000,
      10,
    );
    timings.editVisibleMs = Math.round(rewrite);
    timings.addVisibleMs = Math.round(added);
    assert.ok(rewrite < 1000, `rewritten file visible after ${rewrite.toFixed(0)} ms`);
    assert.ok(added < 1000, `added file visible after ${added.toFixed(0)} ms`);
    tree.hashes.delete('a/b/c/deep.txt');
  });

  it('host killed (-9): fully read files stay readable from cache, uncached reads fail with EIO within 10 s, ls does not hang', async () => {
    // The uncached file is known (stat'd) but its bytes were never fetched.
    assert.equal(Number(await shOk(`stat -c %s ${q(join(mnt, 'never-read.bin'))}`)), 3 * 1024 * 1024 + 5);
    await host.kill('SIGKILL');
    const t0 = performance.now();
    const r = await sh(`cat ${q(join(mnt, 'never-read.bin'))} > /dev/null`, 20);
    timings.eioMs = Math.round(performance.now() - t0);
    assert.notEqual(r.code, 137, 'cat hung');
    assert.notEqual(r.code, 0, 'an uncached read succeeded with the host dead');
    assert.match(r.stderr, /Input\/output error/);
    assert.ok(timings.eioMs < 10_000, `EIO after ${timings.eioMs} ms`);
    const ls = await sh(`ls -l ${q(mnt)} ${q(join(mnt, 'many'))} > /dev/null`, 20);
    timings.offlineLsMs = Math.round(ls.ms);
    assert.notEqual(ls.code, 137, 'ls hung');
    assert.ok(ls.ms < 12_000, `ls took ${ls.ms} ms`);
    // Drop the kernel's page cache of the big file so its bytes must come from L1/L2.
    await shOk(`dd if=${q(join(mnt, 'big.bin'))} iflag=nocache count=0 status=none`);
    const t1 = performance.now();
    const sum = (await shOk(`sha256sum ${q(join(mnt, 'big.bin'))}`, 60)).split(' ')[0];
    timings.offlineBigReadMs = Math.round(performance.now() - t1);
    assert.equal(sum, tree.hashes.get('big.bin'));
    assert.equal(await shOk(`cat ${q(join(mnt, 'with space.txt'))}`), 'spaces\n');
  });

  it('host restarted with the same HOME: the same mount resumes', async () => {
    const t0 = performance.now();
    host = startCli(shareArgs(), env);
    const ev = await host.waitFor('code', 60_000);
    assert.equal(String(ev.code).split('-')[0], code.split('-')[0], 'the host reclaims its nameplate');
    const resumed = await waitUntil(
      () => mount.lines.some((l) => l.event === 'connection' && l.state === 'reconnected'),
      30_000,
      50,
    );
    assert.ok(resumed, `mount did not reconnect: ${JSON.stringify(mount.lines)}`);
    const data = readFileSync(join(mnt, 'never-read.bin'));
    timings.resumeMs = Math.round(performance.now() - t0);
    assert.equal(data.length, 3 * 1024 * 1024 + 5);
    assert.deepEqual(data, readFileSync(join(tree.root, 'never-read.bin')));
    assert.equal(mount.child.exitCode, null, 'the same mount process');
    assert.ok(findFuseMount(mnt));
    assert.deepEqual(mount.badLines, [], 'mount --json printed non-JSON lines');
    assert.deepEqual(host.badLines, []);
    // `wormhole signal --json` also prints the server's pino log lines: JSON objects without
    // `event` (reported to the lead); every line must still parse.
    for (const l of signal.badLines) assert.doesNotThrow(() => JSON.parse(l), l);
  });
});

describe('wormhole mount lifecycle and bad inputs (embedded signal server)', { skip }, () => {
  const home = join(base, 'home2');
  const root = join(base, 'share2');
  let env: NodeJS.ProcessEnv;
  let host: ReturnType<typeof startCli>;
  let code: string;

  before(async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'hello.txt'), 'hello\n');
    mkdirSync(home, { recursive: true });
    env = cliEnv(home);
    // No signal server configured: share embeds one and the code carries its address.
    host = startCli(['share', root, '--transports', 'tls'], env);
    code = String((await host.waitFor('code', 60_000)).code);
    assert.match(code, /^\d+-[a-z]+-[a-z]+@127\.0\.0\.1:\d+$/);
  });

  after(async () => {
    await cleanupAll();
  });

  it('kill -9 of the mount process (--fuse helper): the mount and the FUSE helper go away and the path mounts again', async () => {
    const mnt = join(base, 'mnt-kill');
    const { m } = await mountCli(code, mnt, env, ['--fuse', 'helper']);
    assert.equal(readFileSync(join(mnt, 'hello.txt'), 'utf8'), 'hello\n');
    const { helper } = mountHelpers(m.child.pid!);
    assert.ok(
      helper.some((p) => /helper\.(js|ts)/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'))),
      'the FUSE helper process runs',
    );
    await m.kill('SIGKILL');
    assert.ok(await waitUntil(() => findFuseMount(mnt) === undefined, 5000), 'mount left behind');
    assert.ok(await waitUntil(() => helper.every((p) => !isAlive(p)), 5000), 'FUSE helper left running');
    const again = await mountCli(code, mnt, env);
    assert.equal(readFileSync(join(mnt, 'hello.txt'), 'utf8'), 'hello\n');
    again.m.child.kill('SIGTERM');
    const bye = await again.m.waitFor('unmounted', 10_000);
    assert.equal(bye.mountpoint, mnt);
    assert.equal(findFuseMount(mnt), undefined);
  });

  it('a stale mount (mount process and its auto_unmount watcher all killed) is recovered by the next mount and cleared by wormhole unmount', async () => {
    const mnt = join(base, 'mnt-stale');
    const makeStale = async () => {
      const { m } = await mountCli(code, mnt, env);
      assert.equal(readFileSync(join(mnt, 'hello.txt'), 'utf8'), 'hello\n');
      const pid = m.child.pid!;
      const { helper, fusermount } = mountHelpers(pid);
      assert.ok(helper.length > 0, 'found the auto_unmount watcher');
      // Freeze the owner so it cannot clean up, then kill everything: what a crash leaves.
      process.kill(pid, 'SIGSTOP');
      for (const p of [...fusermount, ...helper]) process.kill(p, 'SIGKILL');
      await waitUntil(() => [...fusermount, ...helper].every((p) => !isAlive(p)), 3000);
      await m.kill('SIGKILL');
      const st = await sh(`stat ${q(mnt)}`, 10);
      assert.match(st.stderr, /Transport endpoint is not connected/, 'mount is stale');
      assert.ok(findFuseMount(mnt));
    };
    await makeStale();
    const t0 = performance.now();
    const { m } = await mountCli(code, mnt, env);
    assert.ok(performance.now() - t0 < 30_000);
    assert.equal(readFileSync(join(mnt, 'hello.txt'), 'utf8'), 'hello\n');
    await m.kill('SIGTERM');
    assert.ok(await waitUntil(() => findFuseMount(mnt) === undefined, 5000));

    await makeStale();
    const un = await cli(['unmount', mnt], env);
    assert.equal(un.code, 0, un.stdout + un.stderr);
    assert.deepEqual(
      un.lines.map((l) => l.event),
      ['unmounted'],
    );
    assert.equal(findFuseMount(mnt), undefined);
    const nothing = await cli(['unmount', mnt], env);
    assert.notEqual(nothing.code, 0);
    assert.equal(nothing.lines[0]?.code, 'CLI_NOT_MOUNTED');
  });

  it('refuses to mount on a non-empty directory (FUSE_MOUNTPOINT_NOT_EMPTY)', async () => {
    const mnt = join(base, 'not-empty');
    mkdirSync(mnt);
    writeFileSync(join(mnt, 'mine.txt'), 'keep me');
    mountpoints.add(mnt);
    const r = await cli(['mount', code, mnt], env, 60_000);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.equal(r.lines.at(-1)?.event, 'error');
    assert.equal(r.lines.at(-1)?.code, 'FUSE_MOUNTPOINT_NOT_EMPTY');
    assert.equal(findFuseMount(mnt), undefined);
    assert.equal(readFileSync(join(mnt, 'mine.txt'), 'utf8'), 'keep me');
  });

  it('a bad config file exits 3 with a message naming the file and the key; nothing starts', async () => {
    const bad = join(base, 'bad.toml');
    writeFileSync(bad, '[cache]\nl1_size = "lots"\n');
    const broken = join(base, 'broken.toml');
    writeFileSync(broken, '[network\nsignal_url = 1\n');
    const unknownKey = join(base, 'typo.toml');
    writeFileSync(unknownKey, '[network]\nsignal_url = 42\n');
    for (const [file, key] of [
      [bad, 'l1_size'],
      [broken, 'line 1'],
      [unknownKey, 'signal_url'],
    ] as const) {
      // Every command loads the config first; one bad file goes through each command that
      // would start something, the other two through `mount` only (each run is a process start).
      const commands = [['mount', code, join(base, 'never-mounted')]];
      if (file === bad) commands.push(['share', root], ['config', 'show']);
      for (const args of commands) {
        const r = await cli(args, cliEnv(home, { WORMHOLE_CONFIG: file }));
        assert.equal(r.code, 3, `${args[0]} with ${file}: ${r.stdout}${r.stderr}`);
        const err = r.lines.at(-1) as { event: string; code: string; message: string };
        assert.equal(err.event, 'error');
        assert.match(err.code, /^CLI_CONFIG_/);
        assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
        assert.ok(err.message.includes(key), `message names the key: ${err.message}`);
        assert.equal(r.lines.length, 1, `nothing else happened: ${r.stdout}`);
      }
    }
    assert.equal(existsSync(join(base, 'never-mounted')), false);
  });

  it('bad join codes fail with a typed error and exit 2; a wrong secret fails typed without mounting', async () => {
    const mnt = join(base, 'bad-code');
    mountpoints.add(mnt);
    for (const bad of ['not-a-code', '1-zzzz-yyyy', '1-guitar', '99999999999-guitar-harbor']) {
      const r = await cli(['mount', bad, mnt], env);
      assert.equal(r.code, 2, `mount ${JSON.stringify(bad)}: ${r.stdout}${r.stderr}`);
      const err = r.lines.at(-1) as { event: string; code: string };
      assert.equal(err.event, 'error');
      assert.match(err.code, /^(PROTOCOL_BAD_JOIN_CODE|CLI_USAGE)$/, JSON.stringify(err));
    }
    const g = await cli(['get', 'not-a-code', '/hello.txt', join(base, 'got.txt')], env);
    assert.equal(g.code, 2, `get: ${g.stdout}${g.stderr}`);
    assert.equal(g.lines.at(-1)?.code, 'PROTOCOL_BAD_JOIN_CODE');
    // Well-formed, right nameplate and server, wrong words: the PAKE fails (and burns the code).
    const [head, addr] = code.split('@') as [string, string];
    const nameplate = head.split('-')[0];
    const words = WORDLIST.filter((w) => !head.split('-').includes(w)).slice(0, 2);
    const wrong = `${nameplate}-${words.join('-')}@${addr}`;
    const r = await cli(['mount', wrong, mnt], env, 60_000);
    assert.notEqual(r.code, 0);
    const err = r.lines.at(-1) as { event: string; code: string; message: string };
    assert.equal(err.event, 'error');
    assert.match(err.code, /^[A-Z]+_[A-Z_]+$/, `typed error: ${JSON.stringify(err)}`);
    assert.equal(findFuseMount(mnt), undefined);
    assert.deepEqual(host.badLines, []);
  });
});

describe('wormhole doctor', () => {
  it("reports the host's native helper: loaded here, a warning with a fix when disabled", async () => {
    const home = mkdtempSync(join(base, 'doctor-'));
    const find = (r: CliResult) => r.lines.find((l) => l.name === 'share: host helper');
    const on = find(await cli(['doctor'], cliEnv(home)));
    assert.ok(on, 'the check is listed');
    if (process.platform === 'linux') assert.equal(on.ok, true, String(on.detail));
    const off = await cli(['doctor'], cliEnv(home, { WORMHOLE_NATIVE_FS: '0' }));
    const offCheck = find(off);
    assert.equal(offCheck?.ok, false);
    assert.match(String(offCheck?.fix), /pnpm run build/);
    // A warning: it does not fail the run on its own.
    const summary = off.lines.find((l) => l.event === 'doctor');
    assert.ok(Array.isArray(summary?.failed));
    assert.ok(!(summary.failed as string[]).includes('share: host helper'));
  });
});

// Last: both suites' children are gone and nothing is mounted under `base` any more.
after(async () => {
  await cleanupAll();
  rmSync(base, { recursive: true, force: true });
});
