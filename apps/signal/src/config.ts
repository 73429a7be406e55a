import { readFileSync } from 'node:fs';
import type { LogLevel, SignalServerOptions } from '@wormhole/signal-server';
import { Command, Option } from 'commander';
import { z } from 'zod';

/** A bad flag, environment variable or file; the message names it. Exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Everything `wormhole-signal` needs to start. */
export interface SignalConfig {
  /** Options for `createSignalServer` (the logger is added by `run`). */
  server: Omit<SignalServerOptions, 'logger'>;
  logLevel: LogLevel;
  /** Hard bound on shutdown after SIGTERM/SIGINT, in ms. */
  shutdownTimeoutMs: number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const numIn = (min: number, max: number) => z.coerce.number().min(min).max(max);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'yes'].includes(v));

/** Settings that can come from a flag or an environment variable (the flag wins). */
const SETTINGS = {
  bind: { flag: '--bind', env: 'SIGNAL_BIND', schema: z.string().min(1) },
  maxRooms: { flag: '--max-rooms', env: 'SIGNAL_MAX_ROOMS', schema: intIn(1, 10_000_000) },
  roomTimeout: { flag: '--room-timeout', env: 'SIGNAL_ROOM_TIMEOUT', schema: numIn(1, 30 * 24 * 3600) },
  maxPeers: { flag: '--max-peers-per-room', env: 'SIGNAL_MAX_PEERS_PER_ROOM', schema: intIn(2, 64) },
  maxMessageBytes: {
    flag: '--max-message-bytes',
    env: 'SIGNAL_MAX_MESSAGE_BYTES',
    schema: intIn(256, 16 << 20),
  },
  maxConnsPerIp: {
    flag: '--max-connections-per-ip',
    env: 'SIGNAL_MAX_CONNECTIONS_PER_IP',
    schema: intIn(0, 1e7),
  },
  maxConns: { flag: '--max-connections', env: 'SIGNAL_MAX_CONNECTIONS', schema: intIn(0, 1e7) },
  rateLimit: { flag: '--rate-limit', env: 'SIGNAL_RATE_LIMIT', schema: numIn(0.01, 1e6) },
  rateBurst: { flag: '--rate-burst', env: 'SIGNAL_RATE_BURST', schema: intIn(1, 1e6) },
  heartbeat: { flag: '--heartbeat', env: 'SIGNAL_HEARTBEAT', schema: numIn(1, 3600) },
  shutdownTimeout: { flag: '--shutdown-timeout', env: 'SIGNAL_SHUTDOWN_TIMEOUT', schema: numIn(1, 600) },
  redisUrl: {
    flag: '--redis-url',
    env: 'REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL'),
  },
  logLevel: { flag: '--log-level', env: 'LOG_LEVEL', schema: z.enum(LEVELS) },
  trustProxy: { flag: '--trust-proxy', env: 'SIGNAL_TRUST_PROXY', schema: bool },
  turnTtl: { flag: '--turn-ttl', env: 'SIGNAL_TURN_TTL', schema: intIn(60, 7 * 24 * 3600) },
} as const;
type Key = keyof typeof SETTINGS;

function program(): Command {
  const p = new Command('wormhole-signal')
    .description('Wormhole signal (rendezvous) server: rooms, relay, /health /ready /metrics')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .option('--bind <host:port>', 'address to listen on, e.g. 0.0.0.0:8080 or [::]:8080 (env SIGNAL_BIND)')
    .option('--tls-cert <file>', 'PEM certificate: serve https/wss with TLS 1.3 minimum')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .addOption(
      new Option('--turn-url <url>', 'TURN/STUN URL handed out by turn-credentials (repeatable)').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .option('--turn-secret-file <file>', "file holding coturn's static-auth-secret")
    .option('--turn-ttl <seconds>', 'TURN credential lifetime (env SIGNAL_TURN_TTL, default 3600)')
    .option('--max-rooms <n>', 'rooms at once (env SIGNAL_MAX_ROOMS, default 10000)')
    .option('--room-timeout <seconds>', 'idle room expiry (env SIGNAL_ROOM_TIMEOUT, default 3600)')
    .option('--max-peers-per-room <n>', 'peers per room (env SIGNAL_MAX_PEERS_PER_ROOM, default 8)')
    .option('--max-message-bytes <n>', 'largest message (env SIGNAL_MAX_MESSAGE_BYTES, default 65536)')
    .option('--max-connections-per-ip <n>', '0 = unlimited (env SIGNAL_MAX_CONNECTIONS_PER_IP, default 256)')
    .option('--max-connections <n>', '0 = unlimited (env SIGNAL_MAX_CONNECTIONS, default 0)')
    .option('--rate-limit <msgs-per-sec>', 'per-connection message rate (env SIGNAL_RATE_LIMIT, default 20)')
    .option('--rate-burst <n>', 'per-connection burst (env SIGNAL_RATE_BURST, default 60)')
    .option('--heartbeat <seconds>', 'WebSocket ping interval (env SIGNAL_HEARTBEAT, default 30)')
    .option(
      '--shutdown-timeout <seconds>',
      'exit bound after SIGTERM (env SIGNAL_SHUTDOWN_TIMEOUT, default 10)',
    )
    .option('--redis-url <url>', 'share rooms through Redis (env REDIS_URL)')
    .option('--log-level <level>', `one of ${LEVELS.join(', ')} (env LOG_LEVEL, default info)`)
    .option('--trust-proxy', 'take the client IP from X-Forwarded-For (env SIGNAL_TRUST_PROXY)');
  return p;
}

/** The command's help text. */
export function helpText(): string {
  return program().helpInformation();
}

function readFile(what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Parses `HOST:PORT` (IPv6 hosts in brackets). */
export function parseBind(value: string, source: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new ConfigError(`${source}: expected HOST:PORT (e.g. 0.0.0.0:8080), got "${value}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * Reads flags (`argv` without node and script) and the environment; flags override env.
 * Throws ConfigError naming the flag or variable at fault. Returns 'help' for --help.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SignalConfig | 'help' {
  const cmd = program();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') return 'help';
    throw new ConfigError((e.message ?? String(err)).replace(/^error: /, ''));
  }
  if (cmd.args.length > 0) throw new ConfigError(`unexpected argument "${cmd.args[0]}"`);
  const flags = cmd.opts<Record<string, unknown>>();

  const get = <K extends Key>(key: K): z.infer<(typeof SETTINGS)[K]['schema']> | undefined => {
    const s = SETTINGS[key];
    const flagName = s.flag.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const fromFlag = flags[flagName];
    const raw = fromFlag !== undefined ? (fromFlag === true ? 'true' : String(fromFlag)) : env[s.env];
    if (raw === undefined || raw === '') return undefined;
    const res = s.schema.safeParse(raw);
    if (!res.success) {
      const source = fromFlag !== undefined ? s.flag : s.env;
      throw new ConfigError(`${source}: ${res.error.issues[0]?.message ?? 'invalid value'} (got "${raw}")`);
    }
    return res.data as z.infer<(typeof SETTINGS)[K]['schema']>;
  };

  const bindRaw = get('bind');
  if (bindRaw === undefined) throw new ConfigError('--bind HOST:PORT is required (or set SIGNAL_BIND)');
  const { host, port } = parseBind(bindRaw, flags.bind !== undefined ? '--bind' : 'SIGNAL_BIND');

  const server: Omit<SignalServerOptions, 'logger'> = { host, port };
  const certFile = flags.tlsCert as string | undefined;
  const keyFile = flags.tlsKey as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  }
  if (certFile && keyFile) {
    server.tls = { cert: readFile('--tls-cert', certFile), key: readFile('--tls-key', keyFile) };
  }
  const turnUrls = (flags.turnUrl as string[] | undefined) ?? [];
  const secretFile = flags.turnSecretFile as string | undefined;
  if (turnUrls.length > 0 || secretFile !== undefined) {
    if (turnUrls.length === 0) throw new ConfigError('--turn-secret-file needs at least one --turn-url');
    if (secretFile === undefined) throw new ConfigError('--turn-url needs --turn-secret-file');
    for (const u of turnUrls) {
      if (!/^(turns?|stun):/.test(u))
        throw new ConfigError(`--turn-url: "${u}" is not a turn:, turns: or stun: URL`);
    }
    const secret = readFile('--turn-secret-file', secretFile).trim();
    if (secret.length === 0) throw new ConfigError(`--turn-secret-file: ${secretFile} is empty`);
    server.turn = { urls: turnUrls, secret, ttlSec: get('turnTtl') ?? 3600 };
  }
  const set = <K extends keyof typeof server>(k: K, v: (typeof server)[K] | undefined): void => {
    if (v !== undefined) server[k] = v;
  };
  set('maxRooms', get('maxRooms'));
  set('roomTimeoutSec', get('roomTimeout'));
  set('maxPeersPerRoom', get('maxPeers'));
  set('maxMessageBytes', get('maxMessageBytes'));
  set('maxConnectionsPerIp', get('maxConnsPerIp'));
  set('maxConnections', get('maxConns'));
  const hb = get('heartbeat');
  set('heartbeatMs', hb === undefined ? undefined : Math.round(hb * 1000));
  set('redisUrl', get('redisUrl'));
  set('trustProxy', get('trustProxy'));
  const rate = get('rateLimit');
  const burst = get('rateBurst');
  if (rate !== undefined || burst !== undefined)
    server.rateLimit = { messagesPerSec: rate ?? 20, burst: burst ?? 60 };
  const shutdownTimeoutMs = Math.round((get('shutdownTimeout') ?? 10) * 1000);
  // Drain must finish before the hard bound, leaving time to close Redis and the listener.
  server.drainTimeoutMs = Math.max(0, shutdownTimeoutMs - 1500);
  return { server, logLevel: get('logLevel') ?? 'info', shutdownTimeoutMs };
}
