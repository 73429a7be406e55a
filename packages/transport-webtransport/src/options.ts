import type { DirectTransportOptions, ResolvedDirectOptions } from '@wormhole/transport/direct';

export {
  DEFAULT_MAX_MESSAGE_BYTES,
  resolveDirectOptions as resolveOptions,
} from '@wormhole/transport/direct';
/** Options of `webTransportTransport()` (shared with the other direct transport). */
export type WebTransportTransportOptions = DirectTransportOptions;
export type ResolvedWebTransportOptions = ResolvedDirectOptions;
