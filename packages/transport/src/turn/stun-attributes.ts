import { isIP } from 'node:net';
import { Attr, MAGIC_COOKIE, PROTOCOL_TCP } from './stun-constants.js';
import { getAttribute, type StunAttribute, type StunMessage } from './stun-message.js';
import { TurnError } from './turn-error.js';

/** A transport address as carried by the (XOR-)address attributes. */
export interface StunAddress {
  /** Dotted IPv4 or canonical lower-case IPv6 text. */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Longest text attribute (USERNAME, REALM, NONCE are capped below this by the RFCs). */
const MAX_TEXT_BYTES = 763;

/** Encodes an XOR-*-ADDRESS value (RFC 8489 §14.2); `transactionId` is needed for IPv6. */
export function encodeXorAddress(addr: { address: string; port: number }, transactionId: Buffer): Buffer {
  const family = isIP(addr.address);
  if (family === 0) throw new TypeError(`not an IP address: ${addr.address}`);
  const raw = family === 4 ? ipv4Bytes(addr.address) : ipv6Bytes(addr.address);
  const out = Buffer.alloc(4 + raw.byteLength);
  out[1] = family === 4 ? 0x01 : 0x02;
  out.writeUInt16BE((addr.port ^ (MAGIC_COOKIE >>> 16)) & 0xffff, 2);
  xorInto(raw, transactionId).copy(out, 4);
  return out;
}

/** Decodes an XOR-*-ADDRESS value. Throws TURN_MALFORMED on a bad family or length. */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): StunAddress {
  if (value.byteLength < 4) throw TurnError.MALFORMED('address attribute shorter than 4 bytes');
  const fam = value[1];
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (fam === 0x01) {
    if (value.byteLength !== 8) throw TurnError.MALFORMED('IPv4 address attribute must be 8 bytes');
    const ip = xorInto(value.subarray(4, 8), transactionId);
    return { address: [...ip].join('.'), port, family: 4 };
  }
  if (fam === 0x02) {
    if (value.byteLength !== 20) throw TurnError.MALFORMED('IPv6 address attribute must be 20 bytes');
    return { address: ipv6Text(xorInto(value.subarray(4, 20), transactionId)), port, family: 6 };
  }
  throw TurnError.MALFORMED(`unknown address family 0x${(fam ?? 0).toString(16)}`);
}

function xorInto(raw: Buffer, transactionId: Buffer): Buffer {
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  const out = Buffer.alloc(raw.byteLength);
  for (let i = 0; i < raw.byteLength; i++) out[i] = raw[i]! ^ mask[i]!;
  return out;
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  const tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [l, r] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = l ? l.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const right = r ? r.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const fill = 8 - left.length - right.length - tail.length;
  const groups = [...left, ...(r === undefined ? [] : new Array<number>(fill).fill(0)), ...right, ...tail];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, i * 2);
  return out;
}

function ipv6Text(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** A text attribute (USERNAME, REALM, NONCE, SOFTWARE). */
export function textAttribute(type: number, text: string): StunAttribute {
  const value = Buffer.from(text, 'utf8');
  if (value.byteLength > MAX_TEXT_BYTES)
    throw new RangeError(`STUN text attribute over ${MAX_TEXT_BYTES} bytes`);
  return { type, value };
}

/** Reads a text attribute; validates UTF-8 and length. */
export function readText(msg: StunMessage, type: number): string | undefined {
  const v = getAttribute(msg, type);
  if (v === undefined) return undefined;
  if (v.byteLength > MAX_TEXT_BYTES)
    throw TurnError.MALFORMED(`text attribute 0x${type.toString(16)} too long`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(v);
  if (text.includes('\uFFFD'))
    throw TurnError.MALFORMED(`text attribute 0x${type.toString(16)} is not UTF-8`);
  return text;
}

/** A 32-bit unsigned attribute (LIFETIME, CONNECTION-ID). */
export function u32Attribute(type: number, n: number): StunAttribute {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(n >>> 0, 0);
  return { type, value };
}

/** Reads a 32-bit unsigned attribute. */
export function readU32(msg: StunMessage, type: number): number | undefined {
  const v = getAttribute(msg, type);
  if (v === undefined) return undefined;
  if (v.byteLength !== 4) throw TurnError.MALFORMED(`attribute 0x${type.toString(16)} must be 4 bytes`);
  return v.readUInt32BE(0);
}

/** REQUESTED-TRANSPORT = TCP (RFC 6062 §6.1). */
export function requestedTransportTcp(): StunAttribute {
  return { type: Attr.RequestedTransport, value: Buffer.from([PROTOCOL_TCP, 0, 0, 0]) };
}

/** An error response's ERROR-CODE (RFC 8489 §14.8). */
export interface StunErrorCode {
  readonly status: number;
  readonly reason: string;
}

/** Reads ERROR-CODE. Throws TURN_MALFORMED when it is bad. */
export function readErrorCode(msg: StunMessage): StunErrorCode | undefined {
  const v = getAttribute(msg, Attr.ErrorCode);
  if (v === undefined) return undefined;
  if (v.byteLength < 4) throw TurnError.MALFORMED('ERROR-CODE shorter than 4 bytes');
  if (v.byteLength > 4 + MAX_TEXT_BYTES) throw TurnError.MALFORMED('ERROR-CODE reason too long');
  const cls = v[2]! & 0x07;
  const num = v[3]!;
  if (cls < 3 || cls > 6 || num > 99) throw TurnError.MALFORMED(`ERROR-CODE ${cls}/${num} out of range`);
  const reason = new TextDecoder().decode(v.subarray(4)).replace(/[^\x20-\x7e]/g, '?');
  return { status: cls * 100 + num, reason };
}

/** Encodes ERROR-CODE (used by tests that play the server). */
export function errorCodeAttribute(status: number, reason: string): StunAttribute {
  const text = Buffer.from(reason, 'utf8');
  const value = Buffer.alloc(4 + text.byteLength);
  value[2] = Math.floor(status / 100);
  value[3] = status % 100;
  text.copy(value, 4);
  return { type: Attr.ErrorCode, value };
}
