import { SIGNAL_MAX_MESSAGE_BYTES } from '@wormhole/protocol';
import type { Level, Logger } from 'pino';
import { SignalServerError } from './errors.js';
import type { TurnOptions } from './turn.js';

/** Per-connection message rate limit (token bucket). */
export interface RateLimitOptions {
  /** Sustained messages per second per connection. Default 20. */
  messagesPerSec: number;
  /** Bucket size: messages a connection may send in a burst. Default 60. */
  burst: number;
}

/** Options of {@link createSignalServer}. Every field is optional; defaults are listed. */
export interface SignalServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** PEM certificate and key: serve https/wss with TLS 1.3 minimum. Default: plain http/ws. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Rooms that may exist at once (all instances together in Redis mode). Default 10000. */
  maxRooms?: number;
  /** A room with no create/join/relay/leave for this many seconds expires. Default 3600. */
  roomTimeoutSec?: number;
  /** Peers per room (a `create` may ask for fewer). Default 8, max 64. */
  maxPeersPerRoom?: number;
  /** Largest accepted message in bytes of JSON. Default `SIGNAL_MAX_MESSAGE_BYTES` (65536). */
  maxMessageBytes?: number;
  /** Concurrent connections per client IP; 0 = unlimited. Default 256. */
  maxConnectionsPerIp?: number;
  /** Concurrent connections for the whole server; 0 = unlimited. Default 0. */
  maxConnections?: number;
  /** Per-connection message rate limit. Default 20 msg/s, burst 60. */
  rateLimit?: RateLimitOptions;
  /** Interval of WebSocket pings; a client that has not answered the previous ping is terminated. Default 30000. */
  heartbeatMs?: number;
  /** Bound on `drain()`: sockets still open after this are terminated. Default 10000. */
  drainTimeoutMs?: number;
  /** A socket whose unsent output exceeds this many bytes is a slow reader and is terminated. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** `redis://` URL: rooms, membership and delivery go through Redis (horizontal scale). Default: in memory. */
  redisUrl?: string;
  /** Prefix of every Redis key and channel. Default `wormhole:signal:`. */
  redisKeyPrefix?: string;
  /** An instance that has not refreshed its Redis heartbeat for this long is dead; its peers are removed. Default 15000. */
  instanceTtlMs?: number;
  /** A pino logger, or a level for a new JSON logger on stdout. Default `'silent'` (embedders opt in). */
  logger?: Logger | Level | 'silent';
  /** TURN REST API credentials for `turn-credentials`. Default: none (`SIGNAL_TURN_UNAVAILABLE`). */
  turn?: TurnOptions;
  /** Take the client IP from the first `X-Forwarded-For` entry (behind a trusted proxy). Default false. */
  trustProxy?: boolean;
  /** Identifier sent in `hello` and used as the Redis instance id. Default: random. */
  serverId?: string;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  host: string;
  port: number;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  maxRooms: number;
  roomTimeoutSec: number;
  maxPeersPerRoom: number;
  maxMessageBytes: number;
  maxConnectionsPerIp: number;
  maxConnections: number;
  rateLimit: RateLimitOptions;
  heartbeatMs: number;
  drainTimeoutMs: number;
  maxBufferedBytes: number;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  instanceTtlMs: number;
  turn: TurnOptions | undefined;
  trustProxy: boolean;
}

function int(name: string, value: number | undefined, def: number, min: number, max: number): number {
  const v = value ?? def;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw SignalServerError.BAD_OPTIONS(
      `${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return v;
}

function num(name: string, value: number | undefined, def: number, min: number, max: number): number {
  const v = value ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw SignalServerError.BAD_OPTIONS(`${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return v;
}

/** Applies defaults and range checks; throws `SIGNAL_SERVER_BAD_OPTIONS` naming the option. */
export function resolveOptions(o: SignalServerOptions): ResolvedOptions {
  if (o.tls && (!o.tls.cert || !o.tls.key))
    throw SignalServerError.BAD_OPTIONS('tls needs both cert and key');
  if (o.turn) {
    if (!Array.isArray(o.turn.urls) || o.turn.urls.length === 0 || o.turn.urls.length > 16) {
      throw SignalServerError.BAD_OPTIONS('turn.urls must list 1-16 URLs');
    }
    for (const u of o.turn.urls) {
      if (!/^(turns?|stun):/.test(u))
        throw SignalServerError.BAD_OPTIONS(`turn.urls: "${u}" is not a turn:/turns:/stun: URL`);
    }
    if (typeof o.turn.secret !== 'string' || o.turn.secret.length === 0) {
      throw SignalServerError.BAD_OPTIONS('turn.secret must be a non-empty string');
    }
    int('turn.ttlSec', o.turn.ttlSec, 3600, 60, 7 * 24 * 3600);
  }
  if (o.redisUrl !== undefined && !/^rediss?:\/\//.test(o.redisUrl)) {
    throw SignalServerError.BAD_OPTIONS('redisUrl must start with redis:// or rediss://');
  }
  const heartbeatMs = int('heartbeatMs', o.heartbeatMs, 30_000, 50, 3_600_000);
  return {
    host: o.host ?? '127.0.0.1',
    port: int('port', o.port, 0, 0, 65535),
    tls: o.tls,
    maxRooms: int('maxRooms', o.maxRooms, 10_000, 1, 10_000_000),
    roomTimeoutSec: num('roomTimeoutSec', o.roomTimeoutSec, 3600, 0.05, 30 * 24 * 3600),
    maxPeersPerRoom: int('maxPeersPerRoom', o.maxPeersPerRoom, 8, 2, 64),
    maxMessageBytes: int(
      'maxMessageBytes',
      o.maxMessageBytes,
      SIGNAL_MAX_MESSAGE_BYTES,
      256,
      16 * 1024 * 1024,
    ),
    maxConnectionsPerIp: int('maxConnectionsPerIp', o.maxConnectionsPerIp, 256, 0, 10_000_000),
    maxConnections: int('maxConnections', o.maxConnections, 0, 0, 10_000_000),
    rateLimit: {
      messagesPerSec: num('rateLimit.messagesPerSec', o.rateLimit?.messagesPerSec, 20, 0.01, 1_000_000),
      burst: int('rateLimit.burst', o.rateLimit?.burst, 60, 1, 1_000_000),
    },
    heartbeatMs,
    drainTimeoutMs: int('drainTimeoutMs', o.drainTimeoutMs, 10_000, 0, 600_000),
    maxBufferedBytes: int('maxBufferedBytes', o.maxBufferedBytes, 1024 * 1024, 1024, 1024 * 1024 * 1024),
    redisUrl: o.redisUrl,
    redisKeyPrefix: o.redisKeyPrefix ?? 'wormhole:signal:',
    instanceTtlMs: int('instanceTtlMs', o.instanceTtlMs, 15_000, 300, 3_600_000),
    turn: o.turn,
    trustProxy: o.trustProxy ?? false,
  };
}
