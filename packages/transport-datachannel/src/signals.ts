import type { TransportSignal } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import { z } from 'zod';

/** Upper bound on an SDP we accept; a data-only libdatachannel SDP is well under 2 KiB. */
export const MAX_SDP_BYTES = 16 * 1024;
/** Upper bound on one ICE candidate line. */
export const MAX_CANDIDATE_BYTES = 1024;
/** Restarts a session makes at most (each one a new PeerConnection generation). */
export const MAX_RESTARTS = 1;

// No control characters except the SDP's own CR/LF; no NUL anywhere.
const sdpText = z
  .string()
  .min(1)
  .max(MAX_SDP_BYTES)
  .regex(/^[\x20-\x7e\r\n\t]+$/, 'SDP must be printable ASCII');

/**
 * Which PeerConnection of the session a signal belongs to: 0 (absent) for the first, 1 after the
 * client restarted it once (see DataChannelSession). Signals of an older one are dropped.
 */
const generation = z.number().int().min(1).max(MAX_RESTARTS).optional();

const descriptionSignal = z.strictObject({
  type: z.literal('description'),
  sdp: sdpText,
  sdpType: z.enum(['offer', 'answer']),
  gen: generation,
});

const candidateSignal = z.strictObject({
  type: z.literal('candidate'),
  candidate: z
    .string()
    .max(MAX_CANDIDATE_BYTES)
    .regex(/^(a=)?candidate:[\x21-\x7e][\x20-\x7e]*$/, 'not an ICE candidate line'),
  mid: z
    .string()
    .min(1)
    .max(32)
    .regex(/^[\x21-\x7e]+$/),
  gen: generation,
});

const dataChannelSignal = z.discriminatedUnion('type', [descriptionSignal, candidateSignal]);

/** An SDP offer/answer. The host (answerer) receives offers and sends answers. */
export type DescriptionSignal = z.infer<typeof descriptionSignal>;
/** One trickled ICE candidate. */
export type CandidateSignal = z.infer<typeof candidateSignal>;
/** Every signal a datachannel session emits or accepts. */
export type DataChannelSignal = DescriptionSignal | CandidateSignal;

/** Validates a signal from the peer; throws TransportError TRANSPORT_BAD_SIGNAL. */
export function parseSignal(signal: TransportSignal): DataChannelSignal {
  const result = dataChannelSignal.safeParse(signal);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new TransportError(
      'TRANSPORT_BAD_SIGNAL',
      `datachannel: malformed signal${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (result.data.type === 'description') {
    // The binding is SHA-256 by contract; libdatachannel verifies the peer's certificate with
    // whatever algorithm the SDP names, so refuse anything else up front.
    const fingerprints = result.data.sdp.match(/^a=fingerprint:.*$/gm) ?? [];
    if (
      fingerprints.length !== 1 ||
      !/^a=fingerprint:sha-256 ([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}\r?$/.test(fingerprints[0] ?? '')
    ) {
      throw new TransportError(
        'TRANSPORT_BAD_SIGNAL',
        'datachannel: SDP must carry exactly one a=fingerprint:sha-256 line',
      );
    }
  }
  return result.data;
}
