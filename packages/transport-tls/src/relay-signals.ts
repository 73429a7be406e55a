import { isIP } from 'node:net';
import type { TransportSignal } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import { parseHostPort } from '@wormhole/transport/direct';
import { z } from 'zod';

/** Most public addresses a client may ask the host to let in. */
export const MAX_PERMIT_ADDRESSES = 4;

const RelayPermitSchema = z
  .object({
    type: z.literal('relay-permit'),
    /** The client's public IPs as the TURN server sees its TCP connections (STUN Binding over TCP). */
    addresses: z
      .array(
        z
          .string()
          .max(45)
          .refine((a) => isIP(a) !== 0, 'not an IP address'),
      )
      .min(1)
      .max(MAX_PERMIT_ADDRESSES),
  })
  .strict();

const RelaySchema = z
  .object({
    type: z.literal('relay'),
    /** The host's TURN-relayed TCP address ('ip:port'); the client's IP has a permission on it. */
    address: z
      .string()
      .max(64)
      .refine((a) => parseHostPort(a) !== undefined, 'not an ip:port address'),
  })
  .strict();

const RelayUnavailableSchema = z
  .object({ type: z.literal('relay-unavailable'), reason: z.string().max(300) })
  .strict();

/** Client → host: let these IPs connect to your relayed address. */
export type RelayPermitSignal = z.infer<typeof RelayPermitSchema>;
/** Host → client: the relayed address to dial after the direct ones. */
export type RelaySignal = z.infer<typeof RelaySchema>;
/** Host → client: no relay this time (no TURN-over-TCP server, or allocating failed). */
export type RelayUnavailableSignal = z.infer<typeof RelayUnavailableSchema>;

/** The relay signals of the tls transport, besides the direct transports' `listen` signal. */
export type RelaySignalMessage = RelayPermitSignal | RelaySignal | RelayUnavailableSignal;

const schemas = {
  'relay-permit': RelayPermitSchema,
  relay: RelaySchema,
  'relay-unavailable': RelayUnavailableSchema,
} as const;

/** True when `signal` claims to be one of the relay signals (it still has to parse). */
export function isRelaySignal(signal: TransportSignal): boolean {
  return typeof signal.type === 'string' && Object.hasOwn(schemas, signal.type);
}

/** Validates a relay signal. Throws TransportError TRANSPORT_BAD_SIGNAL on anything malformed. */
export function parseRelaySignal(signal: TransportSignal): RelaySignalMessage {
  const schema = schemas[signal.type as keyof typeof schemas];
  const res = schema?.safeParse(signal);
  if (!res?.success) {
    throw new TransportError(
      'TRANSPORT_BAD_SIGNAL',
      `bad relay signal: ${res ? z.prettifyError(res.error) : 'unknown type'}`,
      { ...(res && { cause: res.error }) },
    );
  }
  return res.data;
}
