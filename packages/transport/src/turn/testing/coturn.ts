import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A coturn (`turnserver`) started for one test, on 127.0.0.1 only. */
export interface TestCoturn {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly realm: string;
  /** coturn's log lines so far (tests assert on them, e.g. the release of an allocation). */
  readonly log: string[];
  /** TURN REST credentials (`use-auth-secret`), as the signal server makes them. */
  credentials(ttlSeconds?: number): { username: string; password: string };
  /** `turn:user:pass@127.0.0.1:PORT?transport=tcp`, credentials percent-encoded. */
  iceServer(ttlSeconds?: number): string;
  /** Waits until a log line matches (bounded). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Kills coturn and removes its files. */
  stop(): Promise<void>;
}

/** Why coturn cannot be started here, or undefined when it can. */
export function coturnUnavailableReason(): string | undefined {
  const r = spawnSync('turnserver', ['--help'], { stdio: 'ignore' });
  return r.error ? `turnserver is not installed (${(r.error as NodeJS.ErrnoException).code})` : undefined;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitAccepting(port: number, deadline: number, proc: ChildProcess): Promise<void> {
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`turnserver exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`turnserver did not accept TCP on 127.0.0.1:${port}`);
}

/**
 * Starts coturn with TURN REST credentials (`use-auth-secret` + `static-auth-secret`), TCP
 * only, loopback only (`--allow-loopback-peers`, since peers are on 127.0.0.1), no CLI, and
 * relay ports from a random 200-port range. Resolves once it accepts TCP connections.
 */
export async function startCoturn(): Promise<TestCoturn> {
  const dir = mkdtempSync(join(tmpdir(), 'wormhole-coturn-'));
  const secret = randomBytes(24).toString('hex');
  const realm = 'wormhole.test';
  const port = await freePort();
  const minPort = 20_000 + randomInt(0, 200) * 200;
  const proc = spawn(
    'turnserver',
    [
      '-n',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--no-udp',
      '--no-udp-relay',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      `--realm=${realm}`,
      '--fingerprint',
      '--allow-loopback-peers',
      `--min-port=${minPort}`,
      `--max-port=${minPort + 199}`,
      `--db=${join(dir, 'turndb')}`,
      `--pidfile=${join(dir, 'turn.pid')}`,
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  const watchers = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  let partial = '';
  const onData = (d: Buffer): void => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      log.push(line);
      for (const w of watchers) if (w.re.test(line)) w.resolve(line);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitAccepting(port, Date.now() + 10_000, proc);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log.slice(-20).join('\n')}`);
  }
  const credentials = (ttl = 600): { username: string; password: string } => {
    const username = `${Math.floor(Date.now() / 1000) + ttl}:wormhole`;
    return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
  };
  return {
    host: '127.0.0.1',
    port,
    realm,
    log,
    credentials,
    iceServer(ttl = 600) {
      const c = credentials(ttl);
      return `turn:${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@127.0.0.1:${port}?transport=tcp`;
    },
    waitForLog(re, timeoutMs = 5000) {
      const have = log.find((l) => re.test(l));
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            watchers.delete(w);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          watchers.delete(w);
          reject(new Error(`coturn logged nothing matching ${re} within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(w);
      });
    },
    stop,
  };
}
