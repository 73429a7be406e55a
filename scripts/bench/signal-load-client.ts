// The load generator of the signal benchmark (a separate process from the server). It opens N
// WebSockets (spread over several 127.0.0.x source addresses to stay clear of the ephemeral
// port limit), pairs them into rooms (create + join), then runs closed-loop relay ping-pong.
// It prints one JSON line per phase and waits for a line on stdin before the next, so the
// orchestrator can sample the server's RSS and CPU between phases.
//   node ... scripts/bench/signal-load-client.ts '{"url":"ws://...","n":1000,"kind":"signal",...}'
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

interface WsClient extends EventEmitter {
  send(data: string): void;
  terminate(): void;
}
type WsCtor = new (url: string, opts: { localAddress: string; perMessageDeflate: boolean }) => WsClient;
const requireWs = createRequire(new URL('../../packages/signal-server/package.json', import.meta.url));
const { WebSocket } = requireWs('ws') as { WebSocket: WsCtor };

interface Config {
  url: string;
  n: number;
  kind: 'signal' | 'echo';
  sources: string[];
  relaySeconds: number;
  activePairs: number;
  connectConcurrency: number;
  joinConcurrency: number;
}
const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const emit = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const waitNext = async (): Promise<void> => {
  await lines.next();
};

/** One socket: messages are handed to whoever waits for the next one. */
class Peer {
  ws!: WsClient;
  room = '';
  peerId = '';
  private waiter: ((m: { type: string; [k: string]: unknown }) => void) | undefined;
  private queue: { type: string; [k: string]: unknown }[] = [];
  open(source: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(cfg.url, { localAddress: source, perMessageDeflate: false });
      this.ws = ws;
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as { type: string };
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w(m);
        } else this.queue.push(m);
      });
      ws.once('error', reject);
      // The signal server greets with hello; the echo baseline is ready on open.
      if (cfg.kind === 'signal') this.next().then(() => resolve(), reject);
      else ws.once('open', () => resolve());
    });
  }
  next(): Promise<{ type: string; [k: string]: unknown }> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
  async request(msg: Record<string, unknown>): Promise<{ type: string; [k: string]: unknown }> {
    this.ws.send(JSON.stringify(msg));
    return this.next();
  }
}

async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return failures;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const peers = Array.from({ length: cfg.n }, () => new Peer());
let t0 = performance.now();
const connectFailures = await pool(peers, cfg.connectConcurrency, (p, i) =>
  p.open(cfg.sources[i % cfg.sources.length] as string),
);
emit({ phase: 'connected', n: cfg.n, failures: connectFailures, seconds: (performance.now() - t0) / 1000 });
await waitNext();

const pairs: [Peer, Peer][] = [];
for (let i = 0; i + 1 < peers.length; i += 2) pairs.push([peers[i] as Peer, peers[i + 1] as Peer]);
t0 = performance.now();
const createFailures = await pool(pairs, cfg.joinConcurrency, async ([host]) => {
  const r = await host.request({ type: 'create' });
  if (cfg.kind === 'signal') {
    if (r.type !== 'created') throw new Error(JSON.stringify(r));
    host.room = r.room as string;
    host.peerId = r.peerId as string;
  }
});
const createSeconds = (performance.now() - t0) / 1000;
const joinMs: number[] = [];
t0 = performance.now();
const joinFailures = await pool(pairs, cfg.joinConcurrency, async ([host, guest]) => {
  const start = performance.now();
  const r = await guest.request({ type: 'join', room: host.room || '1' });
  joinMs.push(performance.now() - start);
  if (cfg.kind === 'signal') {
    if (r.type !== 'joined') throw new Error(JSON.stringify(r));
    guest.peerId = r.peerId as string;
    await host.next(); // peer-joined
  }
});
joinMs.sort((a, b) => a - b);
emit({
  phase: 'joined',
  rooms: pairs.length,
  failures: createFailures + joinFailures,
  createSeconds,
  joinSeconds: (performance.now() - t0) / 1000,
  joinP50: pct(joinMs, 50),
  joinP99: pct(joinMs, 99),
  joinMs: joinMs.map((x) => Math.round(x * 100) / 100),
});
await waitNext();

// Closed-loop relay: each active pair bounces one message back and forth (guest → host → guest).
const active = pairs.slice(0, Math.min(cfg.activePairs, pairs.length));
let delivered = 0;
let running = true;
const payload = 'x'.repeat(200);
t0 = performance.now();
await Promise.all(
  active.map(async ([host, guest]) => {
    const toHost = JSON.stringify({ type: 'relay', payload });
    const toGuest = JSON.stringify({ type: 'relay', to: guest.peerId, payload });
    while (running) {
      if (cfg.kind === 'signal') {
        guest.ws.send(toHost);
        await host.next();
        delivered++;
        host.ws.send(toGuest);
        await guest.next();
        delivered++;
      } else {
        // Baseline: the same two messages, each echoed by the bare ws server.
        guest.ws.send(toHost);
        await guest.next();
        delivered++;
        host.ws.send(toGuest);
        await host.next();
        delivered++;
      }
      if (performance.now() - t0 > cfg.relaySeconds * 1000) running = false;
    }
  }),
);
const relaySeconds = (performance.now() - t0) / 1000;
emit({
  phase: 'relayed',
  pairs: active.length,
  delivered,
  seconds: relaySeconds,
  rate: delivered / relaySeconds,
});
await waitNext();
for (const p of peers) p.ws?.terminate();
emit({ phase: 'done' });
process.exit(0);
