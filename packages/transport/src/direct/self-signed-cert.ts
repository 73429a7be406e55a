import { createHash, X509Certificate } from 'node:crypto';

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
 */
export async function createSelfSignedCertificate(validDays = 13): Promise<SelfSignedCertificate> {
  // Loaded on first use: selfsigned pulls in an X.509 library that costs ~100 ms to import,
  // which every CLI start paid before its first connection needed a certificate.
  const { generate } = await import('selfsigned');
  const now = Date.now();
  const notAfter = new Date(now + validDays * DAY_MS);
  const pems = await generate([{ name: 'commonName', value: 'wormhole' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: notAfter,
  });
  const der = new X509Certificate(pems.cert).raw;
  return { certPem: pems.cert, keyPem: pems.private, der, sha256: sha256Hex(der), notAfter };
}

/** Lower-case hex SHA-256 of some bytes (certificate DER, token). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
