import { TransportError } from '@wormhole/transport';

/** `AB:CD:…` (or any case) → `abcd…`; throws unless it is a SHA-256 fingerprint (32 bytes). */
export function normaliseFingerprint(value: string): string {
  const hex = value.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TransportError('TRANSPORT_AUTH_FAILED', 'datachannel: not a SHA-256 certificate fingerprint');
  }
  return hex;
}

/** The `a=fingerprint:sha-256` value of an SDP, normalised; throws when absent. */
export function sdpFingerprint(sdp: string): string {
  const m = /^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)\r?$/m.exec(sdp);
  if (m?.[1] === undefined) {
    throw new TransportError('TRANSPORT_AUTH_FAILED', 'datachannel: SDP has no SHA-256 fingerprint');
  }
  return normaliseFingerprint(m[1]);
}
