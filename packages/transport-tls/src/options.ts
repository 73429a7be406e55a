import type { DirectTransportOptions, ResolvedDirectOptions } from '@wormhole/transport/direct';

export {
  DEFAULT_MAX_MESSAGE_BYTES,
  resolveDirectOptions as resolveOptions,
} from '@wormhole/transport/direct';
/** Options of `tlsTransport()` (shared with the other direct transport). */
export type TlsTransportOptions = DirectTransportOptions;
export type ResolvedTlsOptions = ResolvedDirectOptions;
