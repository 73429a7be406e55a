import { promises as fsp, readdirSync, readFileSync, rmSync } from 'node:fs';
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
      l2: z.object({
        entries: z.number(),
        bytes: z.number(),
        hitRate: z.number(),
        evictions: z.number(),
        /** Fills that skipped L2 because its writer was behind (absent in older status files). */
        writesDropped: z.number().optional(),
      }),
      readAheadFetches: z.number(),
      fetches: z.number(),
      /** Whole-file copies: on disk, opens answered with one, their reads that reached the mount (0 with passthrough). */
      copies: z
        .object({ files: z.number(), bytes: z.number(), opens: z.number(), readsHere: z.number() })
        .optional(),
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

interface Publisher {
  /** The newest state not yet written; undefined when written (or removed). */
  next: RunState | undefined;
  running: boolean;
  removed: boolean;
}
const publishers = new Map<string, Publisher>();

/**
 * Writes this process's state; call it whenever something changes. Never blocks the caller:
 * the write and rename run on the thread pool, newer states replace one still waiting. A
 * synchronous rename stalled the mount's event loop for 2.3 s of a 1 GiB cold read (ext4
 * orders the rename's journal commit behind the L2 cache's data writes), and with it every
 * FUSE request.
 */
export function publishRunState(stateDir: string, state: RunState): void {
  const file = join(runDir(stateDir), `${state.pid}.json`);
  let p = publishers.get(file);
  if (p === undefined) {
    p = { next: undefined, running: false, removed: false };
    publishers.set(file, p);
  }
  p.next = state;
  p.removed = false;
  if (!p.running) void drain(runDir(stateDir), file, p);
}

async function drain(dir: string, file: string, p: Publisher): Promise<void> {
  p.running = true;
  try {
    while (p.next !== undefined) {
      const state = p.next;
      p.next = undefined;
      const tmp = `${file}.tmp`;
      try {
        await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        await fsp.writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
        await fsp.rename(tmp, file);
      } catch {
        // Best effort: `wormhole status` shows the previous state until the next write.
      }
      // Removed while this write was in flight: it must not bring the file back.
      if (p.removed) rmSync(file, { force: true });
    }
  } finally {
    p.running = false;
  }
}

/** Removes this process's state (at exit); a write still in flight is dropped after it lands. */
export function removeRunState(stateDir: string, pid = process.pid): void {
  const file = join(runDir(stateDir), `${pid}.json`);
  const p = publishers.get(file);
  if (p !== undefined) {
    p.next = undefined;
    p.removed = true;
  }
  rmSync(file, { force: true });
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
