/**
 * @packageDocumentation
 * The transport interface every Wormhole transport implements (`Transport`, `TransportSession`,
 * `PeerChannel`), plus what is common to all of them.
 */
export * from './peer-channel.js';
export * from './transport.js';
export * from './transport-error.js';
