// One Wormhole peer inside a NAT-lab namespace (started by lab.ts through `ip netns exec`).
// Prints one JSON object per line on stdout; the lab parses them.
//
//   peer.ts host   '{"signalUrl":..,"root":..,"kinds":[..],"stun":[..],"advertise":[..]}'
//   peer.ts client '{"signalUrl":..,"code":..,"kinds":[..],"stun":[..],"attempts":20,...}'
//
// Host: shares `root` and reports every connected peer's PathInfo. Client: connects `attempts`
// times by join code (closing each connection), reporting setup time and PathInfo per attempt,
// then connects once more and reads `readBytes` of `file` through RemoteFs (sha256 checked).
import { createHash } from 'node:crypto';
import { closeTransports, connectShare, startShare } from '../../packages/engine/src/index.js';
import type { PathInfo, Transport, TransportKind } from '../../packages/transport/src/index.js';
import { dataChannelTransport } from '../../packages/transport-datachannel/src/index.js';
import { tlsTransport } from '../../packages/transport-tls/src/index.js';

interface CommonArgs {
  readonly signalUrl: string;
  readonly kinds: readonly TransportKind[];
  /** Configured ICE servers (`[network] stun/turn`); TURN credentials come from the signal server. */
  readonly stun: readonly string[];
  /** datachannel connect bound, ms. */
  readonly connectTimeoutMs: number;
}
interface HostArgs extends CommonArgs {
  readonly root: string;
  /** What the tls listener advertises ('ip' gets the listener's port), e.g. a router's WAN address. */
  readonly advertise: readonly string[];
}
interface ClientArgs extends CommonArgs {
  readonly code: string;
  readonly attempts: number;
  /** Attempts run this many at a time (1 = sequential, for setup times). */
  readonly parallel: number;
  readonly dialTimeoutMs: number;
  readonly file: string;
  readonly readBytes: number;
  readonly sha256: string;
}

const print = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function makeTransports(a: CommonArgs, advertise?: readonly string[]): Transport[] {
  return a.kinds.map((kind) => {
    if (kind === 'datachannel')
      return dataChannelTransport({ iceServers: a.stun, connectTimeoutMs: a.connectTimeoutMs });
    if (kind === 'tls')
      return tlsTransport({ listenHost: '0.0.0.0', ...(advertise && { advertiseAddresses: advertise }) });
    throw new Error(`nat-lab peer: transport ${kind} is not used in the lab`);
  });
}

const pathOf = (p: PathInfo) => ({
  transport: p.transport,
  local: p.localCandidateType,
  remote: p.remoteCandidateType,
  relayed: p.relayed,
  protocol: p.protocol,
  remoteAddress: p.remoteAddress,
});

async function host(a: HostArgs): Promise<void> {
  const transports = makeTransports(a, a.advertise);
  const share = await startShare({ root: a.root, signalUrl: a.signalUrl, transports });
  print({ event: 'code', code: share.code });
  share.on('peer-connected', (p) => print({ event: 'peer-connected', path: pathOf(p.path) }));
  share.on('peer-failed', (e) =>
    print({ event: 'peer-failed', code: e.error.code, message: e.error.message }),
  );
  const stop = async (): Promise<void> => {
    await share.close();
    await closeTransports(transports);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

async function attempt(a: ClientArgs, transports: Transport[], i: number): Promise<void> {
  const t0 = performance.now();
  let path: PathInfo | undefined;
  try {
    const fs = await connectShare({
      code: a.code,
      signalUrl: a.signalUrl,
      transports,
      timeoutMs: a.dialTimeoutMs,
      onPath: (p) => {
        path = p;
      },
    });
    const ms = performance.now() - t0;
    await fs.close();
    print({ event: 'attempt', i, ok: true, ms, path: path && pathOf(path) });
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    print({
      event: 'attempt',
      i,
      ok: false,
      ms: performance.now() - t0,
      error: { name: e.name, code: e.code, message: e.message },
    });
  }
}

async function client(a: ClientArgs): Promise<void> {
  const transports = makeTransports(a);
  try {
    for (let i = 0; i < a.attempts; i += a.parallel) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(a.attempts, i + a.parallel); j++) batch.push(attempt(a, transports, j));
      await Promise.all(batch);
    }
    if (a.readBytes > 0) {
      let path: PathInfo | undefined;
      const fs = await connectShare({
        code: a.code,
        signalUrl: a.signalUrl,
        transports,
        timeoutMs: a.dialTimeoutMs,
        onPath: (p) => {
          path = p;
        },
      });
      try {
        const h = createHash('sha256');
        const step = 8 * 1024 * 1024;
        const t0 = performance.now();
        for (let off = 0; off < a.readBytes; off += step)
          h.update(await fs.read(a.file, off, Math.min(step, a.readBytes - off)));
        const s = (performance.now() - t0) / 1000;
        print({
          event: 'read',
          bytes: a.readBytes,
          seconds: s,
          mbps: a.readBytes / 1e6 / s,
          sha256ok: h.digest('hex') === a.sha256,
          path: path && pathOf(path),
        });
      } finally {
        await fs.close();
      }
    }
  } finally {
    await closeTransports(transports);
  }
  print({ event: 'done' });
  process.exit(0);
}

const [mode, json] = process.argv.slice(2);
if (mode === 'host') await host(JSON.parse(json ?? '{}') as HostArgs);
else if (mode === 'client') await client(JSON.parse(json ?? '{}') as ClientArgs);
else throw new Error('usage: peer.ts host|client JSON');
