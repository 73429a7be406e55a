// Mount-point lifecycle on Linux: preparing a path (create, refuse non-empty, clear a stale
// mount), finding a FUSE mount in /proc/self/mountinfo, and unmounting — including the
// abort through /sys/fs/fuse/connections for a wedged server, where a plain unmount blocks.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FuseError } from './fuse-error.js';

/** One FUSE entry of /proc/self/mountinfo. */
export interface FuseMountInfo {
  mountpoint: string;
  /** The fusectl connection number (the minor device number). */
  connection: number;
  /** `major:minor` of the mount's device; also its backing-device name under /sys/class/bdi. */
  device: string;
  fstype: string;
  source: string;
}

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Parses mountinfo text and returns the FUSE mounts. Exported for tests. */
export function parseFuseMounts(text: string): FuseMountInfo[] {
  const out: FuseMountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const [fstype, source] = right.split(' ');
    if (fstype === undefined || !(fstype === 'fuse' || fstype.startsWith('fuse.'))) continue;
    const dev = f[2] ?? '';
    const minor = Number.parseInt(dev.split(':')[1] ?? '', 10);
    out.push({
      mountpoint: unescapeMountinfo(f[4] ?? ''),
      connection: minor,
      device: dev,
      fstype,
      source: unescapeMountinfo(source ?? ''),
    });
  }
  return out;
}

/** The FUSE mount on `mountpoint`, if any (reads mountinfo; never touches the path itself, which may hang). */
export function findFuseMount(mountpoint: string): FuseMountInfo | undefined {
  const abs = resolve(mountpoint);
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const all = parseFuseMounts(text).filter((m) => m.mountpoint === abs);
  return all.at(-1);
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      done({ ok: err === null, stderr: String(stderr).trim() });
    });
  });
}

/** Stats a path, giving up after `ms` (a stat on a wedged FUSE mount blocks). */
async function statWithin(
  path: string,
  ms: number,
): Promise<{ code?: string; dir?: boolean; hung?: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: boolean }>((r) => {
    timer = setTimeout(() => r({ hung: true }), ms);
  });
  const st = fsp.stat(path).then(
    (s) => ({ dir: s.isDirectory() }),
    (err: NodeJS.ErrnoException) => ({ code: err.code ?? 'EIO' }),
  );
  try {
    return await Promise.race([st, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Aborts the FUSE connection behind `mountpoint` through fusectl, so every request in it fails
 * with ENOTCONN at once. Mounts fusectl if needed. Returns false when there is nothing to abort.
 */
export async function abortConnection(mountpoint: string): Promise<boolean> {
  const m = findFuseMount(mountpoint);
  if (m === undefined) return false;
  return abortFuseConnection(m.connection);
}

/** Aborts FUSE connection number `connection` (see {@link FuseMountInfo.connection}) through fusectl. */
export async function abortFuseConnection(connection: number): Promise<boolean> {
  if (!Number.isFinite(connection)) return false;
  const dir = '/sys/fs/fuse/connections';
  if (!existsSync(`${dir}/${connection}`)) await run('mount', ['-t', 'fusectl', 'none', dir], 3000);
  try {
    await fsp.writeFile(`${dir}/${connection}/abort`, '1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the FUSE mount on `mountpoint`, whoever owns it and whether or not it still
 * answers: `fusermount -uz` (lazy, so open files don't block it), then `umount -l` (root, or
 * when fusermount is missing), then — if requested or nothing else worked — an abort of the
 * connection followed by a lazy unmount. Resolves when mountinfo no longer lists it; no-op when
 * nothing is mounted there.
 */
export async function unmount(mountpoint: string, options: { abort?: boolean } = {}): Promise<void> {
  const abs = resolve(mountpoint);
  if (findFuseMount(abs) === undefined) return;
  if (options.abort === true) await abortConnection(abs);
  const attempts: Array<[string, string[]]> = [
    ['fusermount', ['-uz', abs]],
    ['fusermount3', ['-uz', abs]],
    ['umount', ['-l', abs]],
  ];
  let last = '';
  for (const [cmd, args] of attempts) {
    const r = await run(cmd, args, 5000);
    if (findFuseMount(abs) === undefined) return;
    last = r.stderr || `${cmd} failed`;
  }
  if (options.abort !== true && (await abortConnection(abs))) {
    await run('umount', ['-l', abs], 5000);
    if (findFuseMount(abs) === undefined) return;
  }
  throw FuseError.UNMOUNT_FAILED(abs, last);
}

/**
 * Makes `mountpoint` ready for a mount: clears a stale FUSE mount (a dead server leaves
 * ENOTCONN "Transport endpoint is not connected"), creates the directory if missing, and
 * refuses a non-directory, a live mount or a non-empty directory.
 */
export async function prepareMountpoint(mountpoint: string): Promise<string> {
  const abs = resolve(mountpoint);
  let st = await statWithin(abs, 2000);
  const existing = findFuseMount(abs);
  if (existing !== undefined) {
    const stale =
      st.hung === true || st.code === 'ENOTCONN' || st.code === 'ECONNABORTED' || st.code === 'ENXIO';
    if (!stale) throw FuseError.MOUNTPOINT_IN_USE(abs);
    await unmount(abs, { abort: st.hung === true });
    st = await statWithin(abs, 2000);
  } else if (st.code === 'ENOTCONN' || st.code === 'ECONNABORTED') {
    // Stale but not in our mount namespace's table under this exact path: try anyway.
    await run('fusermount', ['-uz', abs], 5000);
    await run('umount', ['-l', abs], 5000);
    st = await statWithin(abs, 2000);
  }
  if (st.code === 'ENOENT') {
    await fsp.mkdir(abs, { recursive: true });
    return abs;
  }
  if (st.code !== undefined || st.hung === true)
    throw FuseError.MOUNT_FAILED(abs, `cannot use mount point (${st.code ?? 'stat hangs'})`);
  if (st.dir !== true) throw FuseError.MOUNTPOINT_NOT_DIRECTORY(abs);
  const entries = await fsp.readdir(abs);
  if (entries.length > 0) throw FuseError.MOUNTPOINT_NOT_EMPTY(abs);
  return abs;
}
