/** Options of the direct transports (`tlsTransport()`, `webTransportTransport()`). */
export interface DirectTransportOptions {
  /** Address the host listener binds. Default '0.0.0.0' (all IPv4 interfaces; '::' for both families). */
  readonly listenHost?: string;
  /** Port the host listener binds. Default 0 (any free port). */
  readonly listenPort?: number;
  /**
   * What host sessions advertise: 'ip' (the listener's port is added) or 'ip:port' entries.
   * Default: the machine's non-internal interface addresses plus 127.0.0.1.
   */
  readonly advertiseAddresses?: readonly string[];
  /** Largest message a channel sends or accepts. Default 1 MiB + 64. */
  readonly maxMessageBytes?: number;
  /** A session that is not connected after this long fails with TRANSPORT_TIMEOUT. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Delay between starting dials to successive advertised addresses. Default 250. */
  readonly dialStaggerMs?: number;
}

/** Options with defaults applied. */
export interface ResolvedDirectOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly advertiseAddresses: readonly string[] | undefined;
  readonly maxMessageBytes: number;
  readonly connectTimeoutMs: number;
  readonly dialStaggerMs: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 64;

export function resolveDirectOptions(o: DirectTransportOptions = {}): ResolvedDirectOptions {
  return {
    listenHost: o.listenHost ?? '0.0.0.0',
    listenPort: o.listenPort ?? 0,
    advertiseAddresses: o.advertiseAddresses,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    dialStaggerMs: o.dialStaggerMs ?? 250,
  };
}
