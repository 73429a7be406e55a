import { fromBase64 } from './bytes.js';
import type { TransportKind } from './peer-channel.js';
import type { TransportSignal } from './transport.js';
import { TransportError } from './transport-error.js';

/**
 * Messages peers exchange through the signal room. Handshake messages travel in the clear
 * (they are PAKE / MAC material, safe to expose); everything after is a {@link RoomMessage}
 * inside the sealed channel. All decoders throw only TransportError TRANSPORT_BAD_SIGNAL.
 */
export type HandshakeMessage =
  | { t: 'pake-a'; share: Uint8Array }
  | { t: 'pake-b'; share: Uint8Array }
  | { t: 'confirm-a'; mac: Uint8Array }
  | { t: 'confirm-b'; mac: Uint8Array }
  | { t: 'pake-fail' }
  | { t: 'resume-a'; id: string; nonce: Uint8Array }
  | { t: 'resume-b'; nonce: Uint8Array; mac: Uint8Array }
  | { t: 'resume-c'; mac: Uint8Array }
  | { t: 'resume-fail' };

/** Sealed messages after the handshake. */
export type RoomMessage =
  | { t: 'hello'; kinds: TransportKind[] }
  | { t: 'start'; kinds: TransportKind[] }
  | { t: 'signal'; kind: TransportKind; signal: TransportSignal }
  | { t: 'abort'; reason: string };

const KINDS: readonly TransportKind[] = ['datachannel', 'webtransport', 'tls'];
const HANDSHAKE_PREFIX = 'H1.';
const MAX_HANDSHAKE_CHARS = 1024;

function b64(v: unknown, min: number, max: number, what: string): Uint8Array {
  const b = fromBase64(v, 4 * max);
  if (!b || b.length < min || b.length > max) throw TransportError.BAD_SIGNAL(`bad ${what}`);
  return b;
}

/** Encodes a handshake message as a relay payload. */
export function encodeHandshake(m: HandshakeMessage): string {
  const out: Record<string, unknown> = { t: m.t };
  for (const [k, v] of Object.entries(m)) {
    if (k === 't') continue;
    out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v;
  }
  return HANDSHAKE_PREFIX + JSON.stringify(out);
}

/** True if a relay payload is a handshake message (else it should be sealed). */
export function isHandshakePayload(payload: string): boolean {
  return payload.startsWith(HANDSHAKE_PREFIX);
}

/** Decodes and validates a handshake relay payload. */
export function decodeHandshake(payload: string): HandshakeMessage {
  if (
    typeof payload !== 'string' ||
    !payload.startsWith(HANDSHAKE_PREFIX) ||
    payload.length > MAX_HANDSHAKE_CHARS
  ) {
    throw TransportError.BAD_SIGNAL('not a handshake message');
  }
  let v: unknown;
  try {
    v = JSON.parse(payload.slice(HANDSHAKE_PREFIX.length));
  } catch (err) {
    throw TransportError.BAD_SIGNAL('handshake message is not JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw TransportError.BAD_SIGNAL('handshake message is not an object');
  const o = v as Record<string, unknown>;
  switch (o.t) {
    case 'pake-a':
    case 'pake-b':
      return { t: o.t, share: b64(o.share, 32, 32, 'PAKE share') };
    case 'confirm-a':
    case 'confirm-b':
      return { t: o.t, mac: b64(o.mac, 32, 32, 'confirmation MAC') };
    case 'pake-fail':
    case 'resume-fail':
      return { t: o.t };
    case 'resume-a':
      if (typeof o.id !== 'string' || !/^[0-9a-f]{32}$/.test(o.id))
        throw TransportError.BAD_SIGNAL('bad resumption id');
      return { t: 'resume-a', id: o.id, nonce: b64(o.nonce, 32, 32, 'nonce') };
    case 'resume-b':
      return {
        t: 'resume-b',
        nonce: b64(o.nonce, 32, 32, 'nonce'),
        mac: b64(o.mac, 32, 32, 'resumption MAC'),
      };
    case 'resume-c':
      return { t: 'resume-c', mac: b64(o.mac, 32, 32, 'resumption MAC') };
    default:
      throw TransportError.BAD_SIGNAL('unknown handshake message type');
  }
}

function kinds(v: unknown): TransportKind[] {
  if (!Array.isArray(v) || v.length > KINDS.length) throw TransportError.BAD_SIGNAL('bad transport list');
  const out: TransportKind[] = [];
  for (const k of v) {
    if (!KINDS.includes(k as TransportKind) || out.includes(k as TransportKind))
      throw TransportError.BAD_SIGNAL('bad transport kind');
    out.push(k as TransportKind);
  }
  return out;
}

/** Encodes a room message (the sealed channel's plaintext). */
export function encodeRoomMessage(m: RoomMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

/** Decodes and validates a room message. A transport signal is only checked to be a plain object here; the transport validates its content. */
export function decodeRoomMessage(bytes: Uint8Array): RoomMessage {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw TransportError.BAD_SIGNAL('room message is not JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw TransportError.BAD_SIGNAL('room message is not an object');
  const o = v as Record<string, unknown>;
  switch (o.t) {
    case 'hello':
    case 'start':
      return { t: o.t, kinds: kinds(o.kinds) };
    case 'signal': {
      const [kind] = kinds([o.kind]);
      const s = o.signal;
      if (typeof s !== 'object' || s === null || Array.isArray(s))
        throw TransportError.BAD_SIGNAL('transport signal is not an object');
      return { t: 'signal', kind: kind!, signal: s as TransportSignal };
    }
    case 'abort':
      return { t: 'abort', reason: typeof o.reason === 'string' ? o.reason.slice(0, 200) : 'aborted' };
    default:
      throw TransportError.BAD_SIGNAL('unknown room message type');
  }
}
