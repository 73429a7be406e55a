/**
 * @packageDocumentation
 * The `datachannel` transport: one reliable, ordered WebRTC DataChannel per peer, over
 * node-datachannel (libdatachannel), with ICE through STUN/TURN servers from config.
 *
 * @example
 * ```ts
 * import { dataChannelTransport } from '@wormhole/transport-datachannel';
 *
 * const transport = dataChannelTransport({ iceServers: ['stun:stun.example.org:3478'] });
 * const ac = new AbortController();
 * const host = transport.createSession('host', { signal: ac.signal });
 * const client = transport.createSession('client', { signal: ac.signal });
 * // In real use each signal travels through the PAKE-encrypted room to the other peer.
 * host.onSignal((s) => client.handleSignal(s));
 * client.onSignal((s) => host.handleSignal(s));
 * const [h, c] = await Promise.all([host.connected, client.connected]);
 * h.on('message', (m) => console.log('host got', m.byteLength, 'bytes'));
 * await c.send(new Uint8Array([1, 2, 3]));
 * console.log(c.binding(), c.pathInfo());
 * c.close();
 * await transport.close(); // releases libdatachannel so the process can exit
 * ```
 */
export { dataChannelTransport } from './datachannel-transport.js';
export {
  type DataChannelTransportOptions,
  MAX_MESSAGE_BYTES,
  parseIceServer,
  redactIceServer,
} from './options.js';
export type { CandidateSignal, DataChannelSignal, DescriptionSignal } from './signals.js';
export { parseSignal } from './signals.js';
