import { z } from 'zod';
import { ProtocolError } from './protocol-error.js';

/**
 * Signal messages: JSON text frames over the rendezvous WebSocket. The server only ever sees
 * nameplates and opaque relay payloads (encrypted by the peers under their PAKE key).
 */

/** Default cap on one signal message (bytes of JSON). Payloads carry SDP, which is a few KiB. */
export const SIGNAL_MAX_MESSAGE_BYTES = 64 * 1024;
/** Cap on one opaque relay payload (characters). */
export const SIGNAL_MAX_PAYLOAD_CHARS = 48 * 1024;

const ref = z.string().max(64).optional();
const roomId = z.string().regex(/^[1-9][0-9]{0,7}$/, 'nameplate must be 1-8 digits');
const peerId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const payload = z.string().max(SIGNAL_MAX_PAYLOAD_CHARS);

/** Messages a client may send. `ref` is echoed in the reply or error, for correlation. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('create'),
      ref,
      // A restarted host may reclaim its previous nameplate so paired clients can resume.
      room: roomId.optional(),
      maxPeers: z.number().int().min(2).max(64).optional(),
    })
    .strict(),
  z.object({ type: z.literal('join'), ref, room: roomId }).strict(),
  z.object({ type: z.literal('relay'), ref, to: peerId.optional(), payload }).strict(),
  z.object({ type: z.literal('leave'), ref }).strict(),
  z.object({ type: z.literal('ping'), ref }).strict(),
  z.object({ type: z.literal('turn-credentials'), ref }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

/** Stable error codes the signal server answers with (`{ type: 'error', code }`). */
export const SIGNAL_ERROR_CODES = [
  'SIGNAL_BAD_MESSAGE',
  'SIGNAL_MESSAGE_TOO_LARGE',
  'SIGNAL_ROOM_NOT_FOUND',
  'SIGNAL_ROOM_FULL',
  'SIGNAL_ROOM_EXISTS',
  'SIGNAL_TOO_MANY_ROOMS',
  'SIGNAL_NOT_IN_ROOM',
  'SIGNAL_ALREADY_IN_ROOM',
  'SIGNAL_PEER_NOT_FOUND',
  'SIGNAL_RATE_LIMITED',
  'SIGNAL_TOO_MANY_CONNECTIONS',
  'SIGNAL_ROOM_EXPIRED',
  'SIGNAL_SHUTTING_DOWN',
  'SIGNAL_UNAVAILABLE',
  'SIGNAL_TURN_UNAVAILABLE',
  'SIGNAL_TIMEOUT',
  'SIGNAL_INTERNAL',
] as const;
export type SignalErrorCode = (typeof SIGNAL_ERROR_CODES)[number];

/** Messages the server sends. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    v: z.number().int(),
    serverId: z.string().max(128),
    maxMessageBytes: z.number().int().positive(),
    heartbeatMs: z.number().int().positive(),
  }),
  z.object({ type: z.literal('created'), ref, room: roomId, peerId, expiresAt: z.number() }),
  z.object({ type: z.literal('joined'), ref, room: roomId, peerId, peers: z.array(peerId).max(64) }),
  z.object({ type: z.literal('peer-joined'), room: roomId, peerId }),
  z.object({ type: z.literal('peer-left'), room: roomId, peerId }),
  z.object({ type: z.literal('relay'), from: peerId, payload }),
  z.object({ type: z.literal('left'), ref }),
  z.object({ type: z.literal('pong'), ref }),
  z.object({
    type: z.literal('turn-credentials'),
    ref,
    urls: z.array(z.string().max(512)).max(16),
    username: z.string().max(256),
    credential: z.string().max(256),
    ttlSeconds: z.number().int().positive(),
  }),
  z.object({ type: z.literal('room-expired'), room: roomId }),
  z.object({ type: z.literal('closing'), reason: z.enum(['shutdown', 'idle', 'replaced']) }),
  z.object({
    type: z.literal('error'),
    ref,
    code: z.enum(SIGNAL_ERROR_CODES),
    message: z.string().max(1024),
  }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ServerMessageType = ServerMessage['type'];

function parseJson(text: string | Uint8Array, maxBytes: number): unknown {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
  if (size > maxBytes) throw ProtocolError.MESSAGE_TOO_LARGE(size, maxBytes);
  const str =
    typeof text === 'string'
      ? text
      : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
  try {
    return JSON.parse(str);
  } catch (err) {
    throw ProtocolError.BAD_MESSAGE('message is not valid JSON', err);
  }
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid message';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'message';
  return `${where}: ${issue.message}`;
}

/** Decodes a message from a client. Throws only ProtocolError. */
export function parseClientMessage(
  text: string | Uint8Array,
  maxBytes = SIGNAL_MAX_MESSAGE_BYTES,
): ClientMessage {
  const value = parseJson(text, maxBytes);
  const res = ClientMessageSchema.safeParse(value);
  if (!res.success) throw ProtocolError.BAD_MESSAGE(describe(res.error));
  return res.data;
}

/** Decodes a message from the server. Throws only ProtocolError. */
export function parseServerMessage(
  text: string | Uint8Array,
  maxBytes = SIGNAL_MAX_MESSAGE_BYTES,
): ServerMessage {
  const value = parseJson(text, maxBytes);
  const res = ServerMessageSchema.safeParse(value);
  if (!res.success) throw ProtocolError.BAD_MESSAGE(describe(res.error));
  return res.data;
}

/** Serialises a signal message. Symmetric with the parsers above. */
export function encodeSignalMessage(msg: ClientMessage | ServerMessage): string {
  return JSON.stringify(msg);
}
