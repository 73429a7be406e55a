import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process speaking JSON lines on stdout. */
export interface ChildHandle {
  readonly child: ChildProcess;
  /** Resolves with the first JSON line whose `event` matches (rejects if the child exits first). */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Every JSON line received so far. */
  readonly lines: Record<string, unknown>[];
  /** SIGKILL, and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns a TS file with the same loader the tests run under, collecting its JSON lines. */
export function spawnTsChild(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildHandle {
  const child = spawn(process.execPath, ['--conditions=@wormhole/source', '--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: Array<{ event: string; resolve: (v: Record<string, unknown>) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(obj);
    for (const w of [...waiters]) {
      if (w.event === obj.event) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(obj);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    waitFor(event, timeoutMs = 30_000) {
      const seen = lines.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for "${event}"; stderr: ${stderr}`)),
          timeoutMs,
        );
        const waiter = {
          event,
          resolve: (v: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(v);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`child exited (${child.exitCode}) before "${event}"; stderr: ${stderr}`));
        });
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
