import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Each running `share` / `mount` process publishes its state as `<stateDir>/run/<pid>.json`
 * (atomic rename), and `wormhole status` reads them. Files of dead processes are removed on
 * read, so a crash never leaves a ghost entry.
 */
export const RunStateSchema = z.object({
  pid: z.number().int().positive(),
  kind: z.enum(['share', 'mount']),
  startedAt: z.number(),
  updatedAt: z.number(),
  path: z.string(),
  code: z.string().optional(),
  signalUrl: z.string().optional(),
  readOnly: z.boolean().optional(),
  peers: z
    .array(
      z.object({
        id: z.string(),
        transport: z.string(),
        localCandidate: z.string(),
        remoteCandidate: z.string(),
        relayed: z.boolean(),
        /** What carries the channel, e.g. `tcp/tls`, `udp/dtls/sctp`, `tls/turn-tcp`. */
        protocol: z.string().optional(),
        remoteAddress: z.string().optional(),
        bytesSent: z.number(),
        bytesReceived: z.number(),
      }),
    )
    .default([]),
  connected: z.boolean().optional(),
  throughput: z.object({ sendBps: z.number(), receiveBps: z.number() }).optional(),
  /** Chunk-cache counters of a mount (hit rates are per process). */
  cache: z
    .object({
      l1: z.object({ entries: z.number(), bytes: z.number(), hitRate: z.number(), evictions: z.number() }),
      l2: z.object({ entries: z.number(), bytes: z.number(), hitRate: z.number(), evictions: z.number() }),
      readAheadFetches: z.number(),
      fetches: z.number(),
    })
    .optional(),
});
export type RunState = z.infer<typeof RunStateSchema>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function runDir(stateDir: string): string {
  return join(stateDir, 'run');
}

/** Writes this process's state; call it whenever something changes (cheap). */
export function publishRunState(stateDir: string, state: RunState): void {
  const dir = runDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${state.pid}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeRunState(stateDir: string, pid = process.pid): void {
  rmSync(join(runDir(stateDir), `${pid}.json`), { force: true });
}

/** Every live share/mount on this machine for this user. */
export function listRunStates(stateDir: string): RunState[] {
  let names: string[];
  try {
    names = readdirSync(runDir(stateDir));
  } catch {
    return [];
  }
  const out: RunState[] = [];
  for (const name of names) {
    if (!/^[0-9]+\.json$/.test(name)) continue;
    const file = join(runDir(stateDir), name);
    try {
      const state = RunStateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      if (alive(state.pid)) out.push(state);
      else rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}
