import {
  type DirectTransportOptions,
  type ResolvedDirectOptions,
  resolveDirectOptions,
} from '@wormhole/transport/direct';

export { DEFAULT_MAX_MESSAGE_BYTES } from '@wormhole/transport/direct';
/** Options of `webTransportTransport()`: the direct transports' options, plus its race delay. */
export interface WebTransportTransportOptions extends DirectTransportOptions {
  /**
   * How long a race with other transports holds this one back (`Transport.raceDelayMs`).
   * Default 250 ms (RFC 8305's connection attempt delay). In HTTP/2 mode it reaches exactly the
   * hosts tls reaches (TCP to the same addresses), so it starts only if tls has not connected by
   * then; started at once it took ~20 ms of CPU from tls' first connection in a fresh process
   * (library load, a second TLS handshake).
   */
  readonly raceDelayMs?: number;
}
export interface ResolvedWebTransportOptions extends ResolvedDirectOptions {
  readonly raceDelayMs: number;
}

export function resolveWebTransportOptions(
  o: WebTransportTransportOptions = {},
): ResolvedWebTransportOptions {
  return { ...resolveDirectOptions(o), raceDelayMs: o.raceDelayMs ?? 250 };
}
