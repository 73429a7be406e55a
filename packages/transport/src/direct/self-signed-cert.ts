import { createHash, generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * A per-Transport-instance identity: a self-signed ECDSA P-256 certificate and its key.
 */
export interface SelfSignedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** DER bytes of the certificate. */
  readonly der: Buffer;
  /** Lower-case hex SHA-256 of the DER certificate: what peers pin and MAC. */
  readonly sha256: string;
  readonly notAfter: Date;
}

const DAY_MS = 86_400_000;

/**
 * Generates a fresh certificate valid for `validDays` (default 13). WebTransport's
 * `serverCertificateHashes` refuses certificates valid for more than 14 days, so both direct
 * transports stay below that; one minute of back-dating tolerates small clock skew.
 *
 * Built with node:crypto and a few lines of DER (~1-2 ms): the `selfsigned` package took
 * ~220-300 ms to import plus ~40 ms for its first certificate, on the critical path of a
 * process' first connection (the first-byte bench's slowest try, on both sides).
 */
export async function createSelfSignedCertificate(validDays = 13): Promise<SelfSignedCertificate> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const notAfter = new Date(now + validDays * DAY_MS);
  const name = seq(tlv(0x31, seq(OID_COMMON_NAME, tlv(0x0c, Buffer.from('wormhole')))));
  const tbs = seq(
    VERSION_3,
    tlv(0x02, serialNumber()),
    ECDSA_WITH_SHA256,
    name,
    seq(time(new Date(now - 60_000)), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    EXTENSIONS,
  );
  // node:crypto signs ECDSA as a DER Ecdsa-Sig-Value, which is what X.509 carries.
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.of(0), signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  const certPem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // Parsed back once: a malformed certificate fails here, not in a peer's handshake.
  const raw = new X509Certificate(certPem).raw;
  return { certPem, keyPem, der: raw, sha256: sha256Hex(raw), notAfter };
}

/** Lower-case hex SHA-256 of some bytes (certificate DER, token). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** One DER TLV (lengths up to 64 KiB, plenty for a certificate). */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const n = body.byteLength;
  const len = n < 0x80 ? Buffer.of(n) : n < 0x100 ? Buffer.of(0x81, n) : Buffer.of(0x82, n >> 8, n & 0xff);
  return Buffer.concat([Buffer.of(tag), len, body]);
}
const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');

/** X.509 v3: [0] EXPLICIT INTEGER 2. */
const VERSION_3 = hex('a003 020102');
/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters. */
const ECDSA_WITH_SHA256 = seq(hex('0608 2a8648ce3d040302'));
/** id-at-commonName (2.5.4.3). */
const OID_COMMON_NAME = hex('0603 550403');
/**
 * [3] EXPLICIT Extensions, as `selfsigned` wrote them: basicConstraints CA:FALSE (critical),
 * keyUsage digitalSignature (critical), extKeyUsage serverAuth + clientAuth, subjectAltName
 * DNS:wormhole.
 */
const EXTENSIONS = tlv(
  0xa3,
  seq(
    seq(hex('0603 551d13'), hex('0101ff'), tlv(0x04, seq())),
    seq(hex('0603 551d0f'), hex('0101ff'), tlv(0x04, hex('030207 80'))),
    seq(hex('0603 551d25'), tlv(0x04, seq(hex('0608 2b06010505070301'), hex('0608 2b06010505070302')))),
    seq(hex('0603 551d11'), tlv(0x04, seq(tlv(0x82, Buffer.from('wormhole'))))),
  ),
);

/** A positive 16-byte serial (top bit clear, so no leading zero byte is needed; never zero). */
function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits));
}
