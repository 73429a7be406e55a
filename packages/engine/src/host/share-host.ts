import { MAX_READ_BYTES } from '@wormhole/protocol';
import type { PeerChannel } from '@wormhole/transport';
import { EngineError } from '../engine-error.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type HostSession,
  HostSessionImpl,
  type HostSessionStats,
  type SessionLimits,
} from './host-session.js';
import { SafeRoot } from './safe-root.js';
import { ShareFs } from './share-fs.js';
import { type ShareWatcher, watchShare } from './share-watcher.js';

/** Options of `createShareHost`. */
export interface ShareHostOptions {
  /** Directory to share. Resolved with realpath once, then pinned by an open fd. */
  readonly root: string;
  /** Refuse every write op with EROFS. Default true (the only mode implemented today). */
  readonly readOnly?: boolean;
  /** Read size the host announces in HELLO (capped to what each channel carries); clients split big reads into it. Default 256 KiB. */
  readonly chunkSize?: number;
  /** Push `invalidate` events when files change. Default true. */
  readonly watch?: boolean;
  /** Coalescing window for watcher events, ms. Default 50. */
  readonly coalesceMs?: number;
  /** Read fds kept open across requests (LRU, all sessions). Default 64. */
  readonly fdCacheSize?: number;
  /** Per-session limits; defaults: 32 in flight, 4096 queued, 16 protocol errors, 60 s idle. */
  readonly limits?: Partial<SessionLimits>;
  readonly logger?: Logger;
}

/** Serves one directory to any number of attached peer channels. */
export interface ShareHost {
  /** Real path of the shared directory. */
  readonly root: string;
  readonly readOnly: boolean;
  readonly chunkSize: number;
  /** Which watcher runs: '@parcel/watcher', 'fs.watch' or 'none'. */
  readonly watcherBackend: string;
  /**
   * Starts serving a connected channel: sends HELLO, then answers requests until the channel
   * or the session closes. Everything the session holds is freed when it closes.
   */
  attach(channel: PeerChannel, peer?: { readonly id: string }): HostSession;
  /** One entry per attached session. */
  clients(): HostSessionStats[];
  /** Open read fds in the shared fd cache (for diagnostics and leak tests). */
  openFileCount(): number;
  /** Closes every session, the watcher and all fds. Idempotent. */
  close(): Promise<void>;
}

/**
 * Read size announced to clients: one request per 256 KiB cache chunk of a mount (halved on
 * channels whose messages are smaller, see `fitChunk`). Measured against 128 KiB: see
 * docs/bench/remotefs.md.
 */
const DEFAULT_HOST_CHUNK = 256 * 1024;

/**
 * Creates a host for one directory. Rejects with EngineError ENGINE_BAD_ROOT when `root` is
 * not an openable directory (or the platform lacks /proc/self/fd).
 */
export async function createShareHost(options: ShareHostOptions): Promise<ShareHost> {
  const readOnly = options.readOnly ?? true;
  if (!readOnly)
    throw EngineError.BAD_ROOT(options.root, new Error('read-write shares are not implemented yet'));
  const chunkSize = options.chunkSize ?? DEFAULT_HOST_CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 4096 || chunkSize > MAX_READ_BYTES)
    throw EngineError.BAD_ROOT(options.root, new Error(`chunkSize must be 4096..${MAX_READ_BYTES}`));
  const logger = options.logger ?? silentLogger;
  const root = await SafeRoot.open(options.root);
  const fs = new ShareFs(root, options.fdCacheSize ?? 64);
  const sessions = new Set<HostSessionImpl>();
  const limits: SessionLimits = {
    maxInflight: options.limits?.maxInflight ?? 32,
    maxQueued: options.limits?.maxQueued ?? 4096,
    maxProtocolErrors: options.limits?.maxProtocolErrors ?? 16,
    idleTimeoutMs: options.limits?.idleTimeoutMs ?? 60_000,
  };
  let watcher: ShareWatcher | undefined;
  if (options.watch ?? true) {
    try {
      watcher = await watchShare(
        root.realRoot,
        {
          onRaw: (paths) => fs.invalidate(paths),
          onBatch: (paths) => {
            fs.invalidate(paths);
            const event =
              paths === null
                ? ({ type: 'invalidate-all' } as const)
                : { type: 'invalidate' as const, paths: [...paths] };
            for (const s of sessions) s.pushEvent(event);
          },
        },
        options.coalesceMs ?? 50,
        logger,
      );
    } catch (err) {
      logger.warn?.('no file watcher; clients rely on attribute TTLs', { error: String(err) });
    }
  }
  let nextId = 1;
  let closed = false;
  return {
    root: root.realRoot,
    readOnly,
    chunkSize,
    watcherBackend: watcher?.backend ?? 'none',
    attach(channel, peer) {
      if (closed) {
        channel.close('host is closed');
        throw EngineError.CLOSED('share host is closed');
      }
      const session = new HostSessionImpl(peer?.id ?? `s${nextId++}`, channel, {
        fs,
        readOnly,
        chunkSize,
        limits,
        logger,
        software: 'wormhole-engine/0.1',
        onClosed: (s) => sessions.delete(s),
      });
      // A channel closed before attach tears the session down on a microtask; only track live ones.
      if (!channel.isClosed) sessions.add(session);
      return session;
    },
    clients: () => [...sessions].map((s) => s.stats()),
    openFileCount: () => fs.fds.size,
    async close() {
      if (closed) return;
      closed = true;
      const all = [...sessions];
      for (const s of all) s.close('host is shutting down');
      await watcher?.close();
      await Promise.all(all.map((s) => s.closed));
      fs.close();
    },
  };
}
