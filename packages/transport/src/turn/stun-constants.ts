/** The fixed magic cookie of every RFC 8489 STUN message. */
export const MAGIC_COOKIE = 0x2112a442;
/** Size of the STUN header: type, length, cookie, 96-bit transaction id. */
export const HEADER_BYTES = 20;

/** Message classes (the C1/C0 bits of the type). */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

/** STUN (RFC 8489), TURN (RFC 8656) and TURN-TCP (RFC 6062) methods. */
export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;

/** A method's name for messages and errors. */
export function methodName(method: number): string {
  for (const [name, value] of Object.entries(Method)) if (value === method) return name;
  return `0x${method.toString(16).padStart(3, '0')}`;
}

/** Attribute types used here (RFC 8489, RFC 8656, RFC 6062). */
export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  ConnectionId: 0x002a,
  MessageIntegritySha256: 0x001c,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;

/** REQUESTED-TRANSPORT protocol number for TCP allocations (RFC 6062 §6.1). */
export const PROTOCOL_TCP = 6;

/** XOR value of FINGERPRINT (RFC 8489 §14.7). */
export const FINGERPRINT_XOR = 0x5354554e;

/** Largest STUN message accepted from a TCP stream; TURN control messages are far smaller. */
export const MAX_MESSAGE_BYTES = 8192;
/** Most attributes one message may carry. */
export const MAX_ATTRIBUTES = 64;
