import type { DirectTransportOptions, ResolvedDirectOptions } from '@wormhole/transport/direct';
import { resolveDirectOptions } from '@wormhole/transport/direct';

export { DEFAULT_MAX_MESSAGE_BYTES } from '@wormhole/transport/direct';

/** Options of `tlsTransport()`: the direct-transport options plus the TURN-over-TCP relay. */
export interface TlsTransportOptions extends DirectTransportOptions {
  /**
   * Use `turn:...?transport=tcp` servers from a session's ICE servers (the signal server's
   * short-lived TURN credentials) as a fallback path: the host allocates a TCP relay
   * (RFC 6062), the client dials it after the direct addresses had their chance. Default true.
   */
  readonly turnTcp?: boolean;
  /**
   * Configured ICE server URLs (`[network] turn`); their `turn:...?transport=tcp` entries are
   * used for the relay after those a session brings from the signal server.
   */
  readonly iceServers?: readonly string[];
}

/** Options with defaults applied. */
export interface ResolvedTlsOptions extends ResolvedDirectOptions {
  readonly turnTcp: boolean;
  readonly iceServers: readonly string[];
}

export function resolveOptions(o: TlsTransportOptions = {}): ResolvedTlsOptions {
  return { ...resolveDirectOptions(o), turnTcp: o.turnTcp ?? true, iceServers: o.iceServers ?? [] };
}
