// Shared test helpers: wiring two sessions together in one process, and a real coturn.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { PeerChannel, Transport, TransportSession, TransportSignal } from '@wormhole/transport';

export interface Pair {
  host: PeerChannel;
  client: PeerChannel;
  hostSession: TransportSession;
  clientSession: TransportSession;
}

/** Optional hook to rewrite (or drop, by returning undefined) signals in flight. */
export type SignalFilter = (from: 'host' | 'client', signal: TransportSignal) => TransportSignal | undefined;

/** Creates both sessions and passes signals straight across. */
export function startPair(
  hostTransport: Transport,
  clientTransport: Transport,
  options: { signal?: AbortSignal; filter?: SignalFilter } = {},
): { hostSession: TransportSession; clientSession: TransportSession } {
  const signal = options.signal ?? new AbortController().signal;
  const hostSession = hostTransport.createSession('host', { signal });
  const clientSession = clientTransport.createSession('client', { signal });
  const relay = (from: 'host' | 'client', to: TransportSession) => (s: TransportSignal) => {
    const out = options.filter === undefined ? s : options.filter(from, s);
    if (out !== undefined) to.handleSignal(out);
  };
  hostSession.onSignal(relay('host', clientSession));
  clientSession.onSignal(relay('client', hostSession));
  return { hostSession, clientSession };
}

/** Connects a host and a client session and waits for both channels. */
export async function connectPair(
  hostTransport: Transport,
  clientTransport: Transport = hostTransport,
  options: { signal?: AbortSignal; filter?: SignalFilter } = {},
): Promise<Pair> {
  // libjuice occasionally fails a loopback ICE check when the CPU is saturated (ICE "closed"
  // within a second, seen ~1 in 50 connects at load average 6+; see README "Limits"). The
  // engine's transport race and reconnect absorb that in the product; these tests are about
  // what happens once connected, so one failed attempt is retried (and counted).
  for (let attempt = 1; ; attempt++) {
    const { hostSession, clientSession } = startPair(hostTransport, clientTransport, options);
    try {
      const [host, client] = await Promise.all([hostSession.connected, clientSession.connected]);
      return { host, client, hostSession, clientSession };
    } catch (err) {
      hostSession.close();
      clientSession.close();
      const code = (err as { code?: string }).code;
      if (attempt >= 2 || code !== 'TRANSPORT_CONNECT_FAILED' || options.filter || options.signal) throw err;
      connectRetries++;
    }
  }
}

/** Connect attempts `connectPair` had to repeat (see the comment there). */
export let connectRetries = 0;

/** A port that is free for both UDP and TCP on 127.0.0.1 right now (coturn listens on both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    server.close();
    if (ok) return port;
  }
  throw new Error('no free port');
}

export interface Coturn {
  readonly port: number;
  readonly user: string;
  readonly pass: string;
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export const TURNSERVER = '/usr/bin/turnserver';

/** Starts Debian's coturn on loopback with long-term credentials u:p; UDP and TCP on `port`. */
export async function startCoturn(): Promise<Coturn> {
  const port = await freePort();
  const relayBase = 40000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    TURNSERVER,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      // A relay address distinct from the peers' host address: TURN permissions are per IP, so
      // with everything on 127.0.0.1 a peer's host socket would pass the other's permission and
      // ICE would pick a host→relay pair instead of relay↔relay.
      '--relay-ip=127.0.0.2',
      `--listening-port=${port}`,
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 200}`,
      '--lt-cred-mech',
      '--user=u:p',
      '--realm=wormhole',
      '--no-tls',
      '--no-dtls',
      '--allow-loopback-peers',
      '--cli-password=x',
      '--no-cli',
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = once(child, 'exit');
  // Ready when it logs that its listener is up (or give it 2 s).
  const started = Date.now();
  while (!/listener opened on|Total (UDP|General) servers/i.test(output) && Date.now() - started < 2000) {
    if (child.exitCode !== null) throw new Error(`turnserver exited: ${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    user: 'u',
    pass: 'p',
    process: child,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Open file descriptors of this process (Linux). */
export async function openFds(): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir('/proc/self/fd')).length;
}

/** The `typ` of every candidate signal, in order ('?' when unreadable). */
export function candidateTypes(signals: readonly TransportSignal[]): string[] {
  return signals
    .filter((s) => s.type === 'candidate')
    .map((s) => /typ (\w+)/.exec(String(s.candidate))?.[1] ?? '?');
}
