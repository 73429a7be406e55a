/**
 * @packageDocumentation
 * Test doubles across the transport interface, for the layers above it.
 *
 * @example
 * ```ts
 * import { createMemoryTransport } from '@wormhole/transport/testing';
 * const host = createMemoryTransport();
 * const client = createMemoryTransport({ tamperRemoteFingerprint: (fp) => fp.replace(/^./, '0') });
 * ```
 */

export { collect, connectPair as connectSessions, drain, handleCount, pump } from './channel-helpers.js';
export {
  createMemoryChannelPair,
  createMemoryTransport,
  type MemoryChannelPairOptions,
  type MemoryTransportOptions,
} from './memory-transport.js';
