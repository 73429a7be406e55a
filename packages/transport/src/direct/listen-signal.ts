import { isIP } from 'node:net';
import { z } from 'zod';
import type { TransportSignal } from '../transport.js';
import { TransportError } from '../transport-error.js';

/** Most addresses one signal may carry; more is refused as hostile. */
export const MAX_ADVERTISED_ADDRESSES = 16;

/** A parsed dial target. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses 'ip:port' or '[ipv6]:port'. Returns undefined for anything else (no host names). */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (isIP(host) === 0 || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Formats a host and port the way `parseHostPort` reads it. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

const ListenSignalSchema = z
  .object({
    type: z.literal('listen'),
    addresses: z
      .array(
        z
          .string()
          .max(64)
          .refine((a) => parseHostPort(a) !== undefined, 'not an ip:port address'),
      )
      .min(1)
      .max(MAX_ADVERTISED_ADDRESSES),
    certHash: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256'),
    token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url'),
  })
  .strict();

/** The one signal a host session emits: where to dial, which certificate to pin, what to present. */
export type ListenSignal = z.infer<typeof ListenSignalSchema>;

/** Validates a peer's signal. Throws TransportError TRANSPORT_BAD_SIGNAL on anything malformed. */
export function parseListenSignal(signal: TransportSignal): ListenSignal {
  const res = ListenSignalSchema.safeParse(signal);
  if (!res.success) {
    throw new TransportError('TRANSPORT_BAD_SIGNAL', `bad listen signal: ${z.prettifyError(res.error)}`, {
      cause: res.error,
    });
  }
  return res.data;
}
