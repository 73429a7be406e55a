/**
 * @packageDocumentation
 * Pieces shared by the transports that dial a host's advertised addresses directly (tls,
 * webtransport): the `listen` signal, address advertising, happy-eyeballs dialling, and the
 * per-instance self-signed certificate that the peer pins by hash.
 */
export { advertisedAddresses, defaultAdvertiseHosts } from './advertise-addresses.js';
export { raceDial } from './happy-eyeballs.js';
export { FramingError, LengthPrefixDecoder, lengthHeader } from './length-prefix.js';
export {
  formatHostPort,
  type HostPort,
  type ListenSignal,
  parseHostPort,
  parseListenSignal,
} from './listen-signal.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  type DirectTransportOptions,
  type ResolvedDirectOptions,
  resolveDirectOptions,
} from './options.js';
export { createSelfSignedCertificate, type SelfSignedCertificate, sha256Hex } from './self-signed-cert.js';
export { ACK, HANDSHAKE_TIMEOUT_MS, TOKEN_BYTES, tokenFrame } from './token-handshake.js';
