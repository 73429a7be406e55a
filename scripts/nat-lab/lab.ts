// NAT lab: two home networks, each behind its own Linux NAT router, and a "public internet"
// holding the signal server and coturn - all in network namespaces this file creates, joined
// by veth pairs and a bridge. Nothing is attached to the root namespace, and no namespace has
// a route anywhere but the lab's own ranges, so no packet can leave the lab.
//
//   [PREFIX-a] 10.1.0.2 ── 10.1.0.1 [PREFIX-ra] 198.51.100.11 ─┐
//                                                              ├─ br0 [PREFIX-pub] ── [PREFIX-srv]
//   [PREFIX-b] 10.2.0.2 ── 10.2.0.1 [PREFIX-rb] 198.51.100.12 ─┘        198.51.100.2  signal :8080, TURN :3478 udp+tcp
//                                                                       198.51.100.4  STUN-only :3478
//
// Host share runs in -a, clients in -b. Root required (ip netns, iptables, turnserver).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = resolve(import.meta.dirname, '../..');
const PEER = join(import.meta.dirname, 'peer.ts');
const SIGNAL = join(import.meta.dirname, 'signal.ts');

export const SRV_IP = '198.51.100.2';
export const STUN_IP = '198.51.100.4';
export const WAN_A = '198.51.100.11';
export const WAN_B = '198.51.100.12';
const SIGNAL_URL = `ws://${SRV_IP}:8080`;

/** How a router maps ports. */
export type NatMode =
  /** Plain MASQUERADE: keeps the source port, same mapping for every destination (EIM). */
  | 'eim'
  /** MASQUERADE --random-fully: a fresh random port per destination (symmetric NAT). */
  | 'symmetric';

export interface Variant {
  readonly id: number;
  /** Shown in tables; default the id. */
  readonly label?: string;
  /** Attempts for this variant regardless of the run's setting (evidence rows). */
  readonly attempts?: number;
  readonly name: string;
  readonly natA: NatMode;
  readonly natB: NatMode;
  /** coturn TURN service running (STUN-only service always runs). */
  readonly turn: boolean;
  /** Client side's router drops every forwarded UDP packet. */
  readonly udpBlockedB?: boolean;
  /** Host side's router forwards inbound TCP to the host (DMZ / port forward). The host always advertises its WAN address. */
  readonly forwardTcpA?: boolean;
  readonly kinds: readonly ('datachannel' | 'tls')[];
  /** What must happen. */
  readonly expect: 'direct' | 'connect' | 'relay' | 'fail' | 'direct-tls' | 'relay-tls';
}

export const VARIANTS: readonly Variant[] = [
  {
    id: 1,
    name: 'both EIM (port-preserving)',
    natA: 'eim',
    natB: 'eim',
    turn: true,
    kinds: ['datachannel'],
    expect: 'direct',
  },
  {
    id: 2,
    name: 'one side symmetric',
    natA: 'eim',
    natB: 'symmetric',
    turn: true,
    kinds: ['datachannel'],
    expect: 'connect',
  },
  {
    id: 3,
    name: 'both symmetric',
    natA: 'symmetric',
    natB: 'symmetric',
    turn: true,
    kinds: ['datachannel'],
    expect: 'relay',
  },
  {
    id: 4,
    name: 'both symmetric, TURN down',
    natA: 'symmetric',
    natB: 'symmetric',
    turn: false,
    kinds: ['datachannel'],
    expect: 'fail',
  },
  {
    // No port forward anywhere and no UDP on the client side: the only path is the tls
    // transport through coturn's TCP relay (RFC 6062), on the signal server's TURN credentials.
    id: 5,
    name: 'UDP blocked on client side, no port forward on the host side',
    natA: 'eim',
    natB: 'eim',
    turn: true,
    udpBlockedB: true,
    kinds: ['tls', 'datachannel'],
    expect: 'relay-tls',
  },
  {
    id: 6,
    label: '5b',
    name: 'UDP blocked on client side, host TCP-forwarded',
    natA: 'eim',
    natB: 'eim',
    turn: true,
    udpBlockedB: true,
    forwardTcpA: true,
    kinds: ['tls', 'datachannel'],
    expect: 'direct-tls',
  },
  {
    // Evidence for the limit, not a target: with UDP gone the only ICE path left would be TURN
    // over TCP, which the signal server hands out (?transport=tcp) and coturn serves, but
    // libdatachannel's libjuice backend gathers no candidate from it.
    id: 7,
    label: '5c',
    name: 'UDP blocked on client side, datachannel only (TURN/TCP offered)',
    natA: 'eim',
    natB: 'eim',
    turn: true,
    udpBlockedB: true,
    kinds: ['datachannel'],
    expect: 'fail',
    attempts: 3,
  },
];

export interface PathSeen {
  readonly transport: string;
  readonly local: string;
  readonly remote: string;
  readonly relayed: boolean;
  readonly protocol: string;
  readonly remoteAddress?: string;
}
export interface Attempt {
  readonly i: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly path?: PathSeen;
  readonly error?: { name?: string; code?: string; message?: string };
}
export interface VariantResult {
  readonly variant: Variant;
  readonly attempts: Attempt[];
  /** PathInfo the host reported for each connected client (same order as they connected). */
  readonly hostPaths: PathSeen[];
  readonly read?: { bytes: number; seconds: number; mbps: number; sha256ok: boolean; path?: PathSeen };
  readonly log: string[];
}

export interface RunOptions {
  /** Namespace name prefix; runs with different prefixes may coexist. Default 'whlab'. */
  readonly prefix?: string;
  readonly attempts?: number;
  readonly readMiB?: number;
  /** datachannel connect bound (ms); what variant 4 waits before failing. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Bound on the client's whole run (attempts + read); exceeding it fails the variant. */
  readonly budgetMs?: number;
  readonly onLog?: (line: string) => void;
}

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  for (const [bin, args] of [
    ['ip', ['netns', 'list']],
    ['iptables', ['--version']],
    ['turnserver', ['--help']],
  ] as const) {
    const r = spawnSync(bin, args, { stdio: 'ignore' });
    if (r.error) return `${bin} is not installed (${(r.error as NodeJS.ErrnoException).code})`;
  }
  const probe = `whlab-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create a network namespace: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const inNs = (ns: string, cmd: string, ...args: string[]): string =>
  sh('ip', ['netns', 'exec', ns, cmd, ...args]);

/**
 * Removes every namespace with this prefix, after killing the processes inside it (the lab's
 * own: node peers, signal server, coturn). Deleting a namespace deletes its veths, bridge and
 * iptables rules with it. Safe to call when nothing exists (idempotent).
 */
export function teardownLab(prefix = 'whlab'): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const names = list
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
  for (const ns of names) {
    const pids = (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '')
      .split('\n')
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  for (const ns of names) spawnSync('ip', ['netns', 'del', ns]);
}

function setupTopology(p: string, v: Variant): void {
  teardownLab(p);
  const ns = (n: string) => `${p}-${n}`;
  for (const n of ['pub', 'srv', 'ra', 'rb', 'a', 'b']) {
    sh('ip', ['netns', 'add', ns(n)]);
    inNs(ns(n), 'ip', 'link', 'set', 'lo', 'up');
  }
  inNs(ns('pub'), 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  inNs(ns('pub'), 'ip', 'link', 'set', 'br0', 'up');
  // veth pairs are created directly between lab namespaces: nothing ever exists in the root one.
  const link = (a: string, ifA: string, b: string, ifB: string) =>
    sh('ip', ['link', 'add', ifA, 'netns', ns(a), 'type', 'veth', 'peer', 'name', ifB, 'netns', ns(b)]);
  const up = (n: string, dev: string, ...addrs: string[]) => {
    for (const a of addrs) inNs(ns(n), 'ip', 'addr', 'add', a, 'dev', dev);
    inNs(ns(n), 'ip', 'link', 'set', dev, 'up');
  };
  for (const [n, port] of [
    ['srv', 'p-srv'],
    ['ra', 'p-ra'],
    ['rb', 'p-rb'],
  ] as const) {
    link(n, 'wan', 'pub', port);
    inNs(ns('pub'), 'ip', 'link', 'set', port, 'master', 'br0');
    inNs(ns('pub'), 'ip', 'link', 'set', port, 'up');
  }
  up('srv', 'wan', `${SRV_IP}/24`, `${STUN_IP}/24`);
  up('ra', 'wan', `${WAN_A}/24`);
  up('rb', 'wan', `${WAN_B}/24`);
  link('a', 'eth0', 'ra', 'lan');
  link('b', 'eth0', 'rb', 'lan');
  up('ra', 'lan', '10.1.0.1/24');
  up('rb', 'lan', '10.2.0.1/24');
  up('a', 'eth0', '10.1.0.2/24');
  up('b', 'eth0', '10.2.0.2/24');
  inNs(ns('a'), 'ip', 'route', 'add', 'default', 'via', '10.1.0.1');
  inNs(ns('b'), 'ip', 'route', 'add', 'default', 'via', '10.2.0.1');
  // Routers know only their two connected subnets: a packet for the other home LAN (a host
  // candidate) gets "network unreachable" instead of going anywhere.
  for (const [r, mode, lanHost] of [
    ['ra', v.natA, '10.1.0.2'],
    ['rb', v.natB, '10.2.0.2'],
  ] as const) {
    const ipt = (...args: string[]) => inNs(ns(r), 'iptables', ...args);
    inNs(ns(r), 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    ipt(
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      'wan',
      '-j',
      'MASQUERADE',
      ...(mode === 'symmetric' ? ['--random-fully'] : []),
    );
    // A home router's firewall: nothing unsolicited in. Dropping in INPUT also matters for hole
    // punching: an early probe from the peer that reached the router would otherwise be
    // confirmed in conntrack, and its tuple would clash with our own outgoing mapping, making
    // MASQUERADE pick another port (an EIM NAT turning symmetric for that peer).
    ipt('-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    ipt('-A', 'INPUT', '-i', 'wan', '-j', 'DROP');
    if (r === 'ra' && v.forwardTcpA) {
      ipt(
        '-t',
        'nat',
        '-A',
        'PREROUTING',
        '-i',
        'wan',
        '-p',
        'tcp',
        '-j',
        'DNAT',
        '--to-destination',
        lanHost,
      );
    }
    ipt(
      '-A',
      'FORWARD',
      '-i',
      'wan',
      '-m',
      'conntrack',
      '--ctstate',
      'ESTABLISHED,RELATED,DNAT',
      '-j',
      'ACCEPT',
    );
    ipt('-A', 'FORWARD', '-i', 'wan', '-j', 'DROP');
    if (r === 'rb' && v.udpBlockedB) ipt('-I', 'FORWARD', '-p', 'udp', '-j', 'DROP');
  }
}

/** A child process whose stdout is JSON lines. */
class Child {
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  readonly #waiters: {
    pred: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  #exited = false;
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    ns: string,
    cmd: string,
    args: readonly string[],
    log: (line: string) => void,
  ) {
    this.proc = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((res) =>
      this.proc.once('exit', (code) => {
        this.#exited = true;
        res(code);
      }),
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let ev: Record<string, unknown> | undefined;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // coturn's own log is chatty; keep it only when asked.
        if (process.env.NAT_LAB_VERBOSE) log(`${name}: ${line}`);
        return;
      }
      this.events.push(ev);
      for (const w of [...this.#waiters]) {
        if (w.pred(ev)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      }
    });
    createInterface({ input: this.proc.stderr! }).on('line', (line) => {
      if (process.env.NAT_LAB_VERBOSE || !/^(turn|stun)$/.test(name)) {
        if (!/http3 loader|ExperimentalWarning|--trace-warnings/.test(line)) log(`${name}! ${line}`);
      }
    });
  }

  waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const have = this.events.find((e) => e.event === event);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no '${event}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (e: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.#waiters.push({ pred: (e) => e.event === event, resolve: done });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before '${event}'`));
      });
    });
  }

  kill(): void {
    if (!this.#exited) this.proc.kill('SIGKILL');
  }
}

async function waitListening(
  ns: string,
  proto: 'tcp' | 'udp',
  addr: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = inNs(ns, 'ss', proto === 'tcp' ? '-tlnH' : '-ulnH');
    if (out.includes(addr)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${ns}: nothing listening on ${proto} ${addr} after ${timeoutMs} ms`);
}

const nodeArgs = (script: string, ...args: string[]) => [
  '--conditions=@wormhole/source',
  '--import',
  'tsx',
  script,
  ...args,
];

/**
 * Builds the lab for one variant, runs `attempts` connections from the client network to a
 * share in the host network plus one RemoteFs read of `readMiB`, and tears everything down
 * (namespaces, veths, iptables rules, processes, temp files) whatever happens.
 */
export async function runVariant(v: Variant, opts: RunOptions = {}): Promise<VariantResult> {
  const p = opts.prefix ?? 'whlab';
  const attempts = v.attempts ?? opts.attempts ?? 20;
  const readMiB = v.expect === 'fail' ? 0 : (opts.readMiB ?? 32);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    opts.onLog?.(line);
  };
  const dir = mkdtempSync(join(tmpdir(), 'wormhole-natlab-'));
  const children: Child[] = [];
  const start = (name: string, n: string, cmd: string, args: readonly string[]) => {
    const c = new Child(name, `${p}-${n}`, cmd, args, say);
    children.push(c);
    return c;
  };
  try {
    setupTopology(p, v);
    // Shared secret between coturn and the signal server only; clients get HMAC'd, expiring
    // credentials from the signal server (coturn REST API scheme).
    const secret = randomBytes(24).toString('hex');
    const secretFile = join(dir, 'turn-secret');
    writeFileSync(secretFile, secret, { mode: 0o600 });
    const coturnCommon = [
      `--db=${join(dir, 'turndb')}`,
      '-n',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--listening-port=3478',
      '--log-file=stdout',
      '--simple-log',
      '--no-software-attribute',
    ];
    start('stun', 'srv', 'turnserver', [
      ...coturnCommon,
      '--stun-only',
      `--listening-ip=${STUN_IP}`,
      `--pidfile=${join(dir, 'stun.pid')}`,
    ]);
    if (v.turn) {
      start('turn', 'srv', 'turnserver', [
        ...coturnCommon,
        `--listening-ip=${SRV_IP}`,
        `--relay-ip=${SRV_IP}`,
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=wormhole.lab',
        '--fingerprint',
        // Peers' public addresses are in the lab's "public" range; allow relaying to exactly that.
        '--allowed-peer-ip=198.51.100.0-198.51.100.255',
        // Host candidates (10.x) are unreachable from the public side anyway; refusing them
        // keeps coturn from trying.
        '--denied-peer-ip=10.0.0.0-10.255.255.255',
        '--min-port=49152',
        '--max-port=65535',
        `--pidfile=${join(dir, 'turn.pid')}`,
      ]);
    }
    start(
      'signal',
      'srv',
      process.execPath,
      nodeArgs(
        SIGNAL,
        '--bind',
        `${SRV_IP}:8080`,
        '--turn-url',
        `turn:${SRV_IP}:3478?transport=udp`,
        '--turn-url',
        `turn:${SRV_IP}:3478?transport=tcp`,
        '--turn-secret-file',
        secretFile,
        '--turn-ttl',
        '600',
        '--rate-limit',
        '1000',
        '--rate-burst',
        '10000',
        '--log-level',
        'warn',
      ),
    );
    await waitListening(`${p}-srv`, 'udp', `${STUN_IP}:3478`, 10_000);
    if (v.turn) await waitListening(`${p}-srv`, 'udp', `${SRV_IP}:3478`, 10_000);
    await waitListening(`${p}-srv`, 'tcp', `${SRV_IP}:8080`, 30_000);

    // The file the client reads: random bytes, hash known up front.
    const root = join(dir, 'share');
    const file = 'big.bin';
    const size = readMiB * 1024 * 1024;
    execFileSync('mkdir', ['-p', root]);
    const hash = createHash('sha256');
    const fd = openSync(join(root, file), 'w');
    try {
      const buf = Buffer.alloc(8 * 1024 * 1024);
      for (let off = 0; off < size; off += buf.length) {
        const part = buf.subarray(0, Math.min(buf.length, size - off));
        randomFillSync(part);
        hash.update(part);
        writeSync(fd, part);
      }
    } finally {
      closeSync(fd);
    }
    const sha256 = hash.digest('hex');
    const common = {
      signalUrl: SIGNAL_URL,
      kinds: v.kinds,
      stun: [`stun:${STUN_IP}:3478`],
      connectTimeoutMs,
    };
    const host = start(
      'host',
      'a',
      process.execPath,
      nodeArgs(PEER, 'host', JSON.stringify({ ...common, root, advertise: [WAN_A] })),
    );
    const code = String((await host.waitFor('code', 30_000)).code);
    say(`variant ${v.id}: code ${code}`);
    const fail = v.expect === 'fail';
    const client = start(
      'client',
      'b',
      process.execPath,
      nodeArgs(
        PEER,
        'client',
        JSON.stringify({
          ...common,
          code,
          attempts,
          // Failing attempts each wait for the connect bound: run them 7 at a time (a room holds 8 peers).
          parallel: fail ? 7 : 1,
          dialTimeoutMs: connectTimeoutMs + 5000,
          file: `/${file}`,
          readBytes: size,
          sha256,
        }),
      ),
    );
    const budget =
      opts.budgetMs ??
      (fail
        ? Math.ceil(attempts / 7) * (connectTimeoutMs + 10_000)
        : attempts * (connectTimeoutMs + 6000) + 120_000);
    try {
      await client.waitFor('done', budget);
    } catch (err) {
      // A hung peer (see the libdatachannel deadlock in its README) fails the variant, bounded.
      const got = client.events.filter((e) => e.event === 'attempt');
      throw new Error(
        `variant ${v.id}: client did not finish within ${budget} ms (${got.length}/${attempts} attempts reported: ${JSON.stringify(got.slice(-3))})`,
        { cause: err },
      );
    }
    await new Promise((r) => setTimeout(r, 200)); // the host's last peer-connected line
    const read = client.events.find((e) => e.event === 'read') as VariantResult['read'];
    return {
      variant: v,
      attempts: client.events.filter((e) => e.event === 'attempt') as unknown as Attempt[],
      hostPaths: host.events.filter((e) => e.event === 'peer-connected').map((e) => e.path as PathSeen),
      ...(read && { read }),
      log,
    };
  } finally {
    for (const c of children.reverse()) c.kill();
    await Promise.all(children.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, 3000))])));
    teardownLab(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Percentile (nearest rank) of a list of numbers. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** One results-table row for a variant. */
export function summarize(r: VariantResult): {
  variant: string;
  success: string;
  path: string;
  p50: string;
  p99: string;
  mbps: string;
} {
  const ok = r.attempts.filter((a) => a.ok);
  const paths = new Map<string, number>();
  for (const a of ok) {
    const p = a.path;
    // TURN over TCP is named (tls/turn-tcp); ICE relays are UDP here.
    const how = p?.relayed ? ` (relayed${p.protocol.includes('turn') ? `, ${p.protocol}` : ''})` : '';
    const key = p ? `${p.transport} ${p.local}/${p.remote}${how}` : '?';
    paths.set(key, (paths.get(key) ?? 0) + 1);
  }
  const times = (ok.length > 0 ? ok : r.attempts).map((a) => a.ms);
  const fails = r.attempts.filter((a) => !a.ok);
  const failText =
    fails.length > 0 ? `failed: ${[...new Set(fails.map((f) => f.error?.code))].join(', ')}` : '';
  return {
    variant: `${r.variant.label ?? r.variant.id}. ${r.variant.name}`,
    success: `${ok.length}/${r.attempts.length}`,
    path: [...[...paths].map(([k, n]) => `${k} ×${n}`), failText].filter(Boolean).join('; '),
    p50: `${percentile(times, 0.5).toFixed(0)} ms`,
    p99: `${percentile(times, 0.99).toFixed(0)} ms`,
    mbps: r.read
      ? `${r.read.mbps.toFixed(1)} (${(r.read.bytes / 1048576).toFixed(0)} MiB${r.read.sha256ok ? ', sha256 ok' : ', SHA256 MISMATCH'})`
      : '—',
  };
}
