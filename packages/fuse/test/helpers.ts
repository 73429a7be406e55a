import assert from 'node:assert/strict';
import { type ChildProcess, exec, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFuseMount, type Mount, unmount } from '../src/index.js';

/** Runs a shell command without blocking this process's event loop (it serves the mount). */
export function sh(
  cmd: string,
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    exec(
      cmd,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, shell: '/bin/bash' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Last-resort cleanup for a test's mount point. */
export async function forceUnmount(mountpoint: string): Promise<void> {
  if (findFuseMount(mountpoint) === undefined) return;
  try {
    await unmount(mountpoint, { abort: true });
  } catch {
    await sh(`umount -l '${mountpoint}'`);
  }
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  step = 50,
): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return cond();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts test/fixtures/mount-child.ts and resolves with its first stdout line (pids). */
export function startMountChild(
  root: string,
  mountpoint: string,
  options: Record<string, unknown>,
): Promise<{ child: ChildProcess; pid: number; helperPid: number; lines: string[] }> {
  const file = new URL('./fixtures/mount-child.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--conditions=@wormhole/source', '--import', 'tsx', file, root, mountpoint, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (lines.length === 1) {
          const { pid, helperPid } = JSON.parse(line) as { pid: number; helperPid: number };
          resolve({ child, pid, helperPid, lines });
        }
        i = buf.indexOf('\n');
      }
    });
    child.once('exit', (code) => reject(new Error(`mount child exited early (${code})`)));
  });
}

/** A suite's teardown: unmounts (forcibly if need be), removes its directory, checks nothing stays mounted. */
export async function unmountAndRemove(
  m: Mount | undefined,
  mountpoint: string,
  base: string,
): Promise<void> {
  try {
    await m?.unmount();
  } finally {
    await forceUnmount(mountpoint);
    await rm(base, { recursive: true, force: true });
  }
  assert.equal(findFuseMount(mountpoint), undefined);
}
