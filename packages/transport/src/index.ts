/**
 * @packageDocumentation
 * The transport interface every Wormhole transport implements (`Transport`, `TransportSession`,
 * `PeerChannel`), plus the trust layer on top: the signal-server client, CPace (X25519), the
 * sealed room channel, channel binding, and the rendezvous that turns a join
 * code into one authenticated channel.
 *
 * @example
 * ```ts
 * import { hostRendezvous, dialRendezvous } from '@wormhole/transport';
 * const share = await hostRendezvous({
 *   signalUrl: 'ws://127.0.0.1:4455',
 *   transports: [datachannel(), webtransport()],
 *   onChannel: (channel, peer) => engine.serve(channel, peer),
 * });
 * console.log('join code:', share.code);
 * share.on('code', ({ code }) => console.log('new join code:', code));
 *
 * // elsewhere
 * const { channel, path, resume } = await dialRendezvous({
 *   code: '7-guitar-harbor', signalUrl: 'ws://127.0.0.1:4455', transports: [datachannel()],
 * });
 * ```
 */

export {
  AuthenticatedChannel,
  type AuthenticateOptions,
  authenticateChannel,
  bindingMac,
  type PeerRole,
} from './channel-binding.js';
export {
  CPace,
  type CPaceOptions,
  type CPaceRole,
  type PakeResult,
} from './cpace.js';
export { type DialRendezvousOptions, type DialResult, dialRendezvous } from './dial-rendezvous.js';
export { EarlyMessages } from './early-messages.js';
export {
  type CodeEvent,
  type HostRendezvous,
  type HostRendezvousEvents,
  type HostRendezvousOptions,
  hostRendezvous,
  type PeerInfo,
} from './host-rendezvous.js';
export { deriveSessionKeys, type SessionKeys, transcriptSalt } from './key-schedule.js';
export * from './peer-channel.js';
export {
  decodeHandshake,
  decodeRoomMessage,
  type HandshakeMessage,
  type RoomMessage,
} from './rendezvous-messages.js';
export {
  createMemoryTicketStore,
  type HostTicket,
  parseResumeTicket,
  type ResumeTicket,
  type TicketStore,
} from './resume.js';
export { SEALED_MAX_PLAINTEXT, SealedChannel } from './sealed-channel.js';
export {
  type RoomInfo,
  SignalClient,
  type SignalClientEvents,
  type SignalConnectOptions,
  type TurnCredentials,
} from './signal-client.js';
export * from './transport.js';
export * from './transport-error.js';
export {
  fetchTurnIceServers,
  TURN_CREDENTIALS_TIMEOUT_MS,
  turnCredentialsToIceServers,
} from './turn-ice-servers.js';
export { warmUpRendezvous } from './warm-up.js';
