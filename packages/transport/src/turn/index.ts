/**
 * @packageDocumentation
 * A small TURN client for TCP relays (RFC 6062) over a TCP control connection, on a STUN codec
 * of our own (RFC 8489): for peers whose network drops all UDP. libjuice (node-datachannel)
 * gathers nothing from TURN over TCP, and no npm package implements RFC 6062's client side, so
 * the direct `tls` transport carries its authenticated TLS stream over these relayed
 * connections instead. Every byte from the wire is validated; failures are `TurnError`s.
 *
 * @example
 * ```ts
 * import { TcpAllocation, parseTurnTcpUrl, tcpBinding } from '@wormhole/transport/turn';
 * const server = parseTurnTcpUrl('turn:user:pass@turn.example.com:3478?transport=tcp')!;
 * // host side
 * const alloc = await TcpAllocation.allocate(server);
 * alloc.on('connection', ({ socket, rest, peer }) => serve(socket, rest, peer));
 * // the client tells the host (sealed) where it connects from; the host lets that IP in
 * const me = await tcpBinding(server);
 * await alloc.permit([me.address]);
 * // client: net.connect(alloc.relayed.port, alloc.relayed.address) reaches the host
 * await alloc.close(); // Refresh lifetime 0
 * ```
 */
export { type BoundConnection, bindConnection } from './connection-bind.js';
export { LongTermAuth } from './long-term-auth.js';
export {
  decodeXorAddress,
  encodeXorAddress,
  errorCodeAttribute,
  readErrorCode,
  readText,
  readU32,
  requestedTransportTcp,
  type StunAddress,
  type StunErrorCode,
  textAttribute,
  u32Attribute,
} from './stun-attributes.js';
export { tcpBinding } from './stun-binding.js';
export {
  Attr,
  HEADER_BYTES,
  MAGIC_COOKIE,
  MAX_MESSAGE_BYTES,
  Method,
  methodName,
  PROTOCOL_TCP,
  type StunClass,
} from './stun-constants.js';
export { StunFramer } from './stun-framer.js';
export { fingerprint, longTermKey, messageIntegrity } from './stun-integrity.js';
export {
  decodeStunMessage,
  encodeStunMessage,
  getAttribute,
  messageType,
  newTransactionId,
  type StunAttribute,
  type StunMessage,
  type StunMessageInit,
  stunMessageLength,
  verifyIntegrity,
} from './stun-message.js';
export {
  DEFAULT_TURN_TIMEOUT_MS,
  type RequestAttributes,
  StunTcpConnection,
  type StunTcpConnectionEvents,
} from './stun-tcp-connection.js';
export {
  type RelayedConnection,
  TcpAllocation,
  type TcpAllocationEvents,
  type TcpAllocationOptions,
} from './tcp-allocation.js';
export { isTurnError, TurnError, type TurnErrorCode } from './turn-error.js';
export { parseTurnTcpUrl, redact, type TurnTcpServer, turnTcpServers } from './turn-url.js';
