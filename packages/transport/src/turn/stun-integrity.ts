import { createHash, createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FINGERPRINT_XOR } from './stun-constants.js';

/**
 * Long-term credential key (RFC 8489 §9.2.2): MD5(username ":" realm ":" password). The
 * strings are used as given: the signal server's TURN REST credentials are ASCII, for which
 * OpaqueString (SASLprep's successor) is the identity.
 */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/** HMAC-SHA1 over a message prefix whose length field already covers MESSAGE-INTEGRITY. */
export function messageIntegrity(head: Buffer, key: Uint8Array): Buffer {
  return createHmac('sha1', key).update(head).digest();
}

/** CRC-32 of a message prefix (length field covering FINGERPRINT) XOR 0x5354554e. */
export function fingerprint(head: Buffer): number {
  return (crc32(head) ^ FINGERPRINT_XOR) >>> 0;
}
