import { ProtocolError } from './protocol-error.js';
import { PROTOCOL_VERSION } from './version.js';

/**
 * Peer frames: what the engine's host and client exchange over a transport.
 *
 * One frame (the unit a message transport such as a DataChannel carries):
 *
 *   byte 0     version (PROTOCOL_VERSION)
 *   byte 1     kind (FrameKind)
 *   bytes 2-5  request id, u32 big-endian (0 for frames that answer nothing)
 *   bytes 6-   body: kind-specific (msgpack for structured bodies, raw bytes for DATA)
 *
 * Byte-stream transports (TLS, WebTransport streams) prefix each frame with its length as a
 * u32 big-endian; see `FrameDecoder`.
 */
export const FRAME_HEADER_BYTES = 6;
/** Largest frame accepted from a peer. A read chunk (<= 256 KiB) plus header fits. */
export const MAX_FRAME_BYTES = 1024 * 1024 + FRAME_HEADER_BYTES;

export const FrameKind = {
  /** Both sides, first frame: versions and features (msgpack). */
  HELLO: 1,
  /** Client -> host: body = op byte + msgpack params. */
  REQUEST: 2,
  /** Host -> client: structured result (msgpack). */
  RESPONSE: 3,
  /** Host -> client: raw bytes answering a READ. */
  DATA: 4,
  /** Host -> client: a request failed (msgpack `{ code, message }`). */
  ERROR: 5,
  /** Either way, unsolicited: invalidations, goodbye (msgpack). */
  EVENT: 6,
  /** Client -> host: the request with this id is no longer wanted. */
  CANCEL: 7,
  PING: 8,
  PONG: 9,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];
const KINDS = new Set<number>(Object.values(FrameKind));

export interface Frame {
  readonly kind: FrameKind;
  readonly id: number;
  /** Body bytes; a view into the decoded buffer (copy it if you keep it past the next read). */
  readonly body: Uint8Array;
}

/** Encodes a frame into one contiguous buffer (header + body). */
export function encodeFrame(kind: FrameKind, id: number, body: Uint8Array = EMPTY): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
    throw ProtocolError.BAD_BODY(`bad request id ${id}`);
  const size = FRAME_HEADER_BYTES + body.byteLength;
  if (size > MAX_FRAME_BYTES) throw ProtocolError.FRAME_TOO_LARGE(size, MAX_FRAME_BYTES);
  const out = Buffer.allocUnsafe(size);
  out[0] = PROTOCOL_VERSION;
  out[1] = kind;
  out.writeUInt32BE(id, 2);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** Encodes a frame with its u32 length prefix, for byte-stream transports. */
export function encodeLengthPrefixedFrame(kind: FrameKind, id: number, body: Uint8Array = EMPTY): Uint8Array {
  const size = FRAME_HEADER_BYTES + body.byteLength;
  if (size > MAX_FRAME_BYTES) throw ProtocolError.FRAME_TOO_LARGE(size, MAX_FRAME_BYTES);
  const out = Buffer.allocUnsafe(4 + size);
  out.writeUInt32BE(size, 0);
  out[4] = PROTOCOL_VERSION;
  out[5] = kind;
  out.writeUInt32BE(id, 6);
  out.set(body, 4 + FRAME_HEADER_BYTES);
  return out;
}

/** Decodes one frame (no length prefix). Throws only ProtocolError. */
export function decodeFrame(bytes: Uint8Array, maxBytes = MAX_FRAME_BYTES): Frame {
  if (!(bytes instanceof Uint8Array)) throw ProtocolError.BAD_BODY('frame must be bytes');
  if (bytes.byteLength > maxBytes) throw ProtocolError.FRAME_TOO_LARGE(bytes.byteLength, maxBytes);
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw ProtocolError.TRUNCATED();
  const version = bytes[0]!;
  if (version !== PROTOCOL_VERSION) throw ProtocolError.BAD_VERSION(version);
  const kind = bytes[1]!;
  if (!KINDS.has(kind)) throw ProtocolError.UNKNOWN_KIND(kind);
  const id = ((bytes[2]! << 24) >>> 0) + (bytes[3]! << 16) + (bytes[4]! << 8) + bytes[5]!;
  return { kind: kind as FrameKind, id, body: bytes.subarray(FRAME_HEADER_BYTES) };
}

const EMPTY = new Uint8Array(0);
