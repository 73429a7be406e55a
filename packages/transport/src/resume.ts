import { createHmac } from 'node:crypto';
import { concatBytes, fromBase64, toBase64, utf8 } from './bytes.js';
import type { SessionKeys } from './key-schedule.js';
import { TransportError } from './transport-error.js';

/**
 * What a client keeps to reconnect without a join code. JSON-safe, so the CLI can store it.
 * Contains a secret: store it like a password (file mode 0600).
 */
export interface ResumeTicket {
  readonly v: 1;
  /** Room to join to find the host. */
  readonly nameplate: string;
  /** Public handle of the secret (hex). */
  readonly id: string;
  /** 256-bit resumption secret, base64url. */
  readonly secret: string;
  /** Signal server the host used, when known. */
  readonly signalUrl?: string | undefined;
}

/** What a host keeps per issued ticket. */
export interface HostTicket {
  readonly id: string;
  /** base64url secret. */
  readonly secret: string;
  /** ms since epoch. */
  readonly issuedAt: number;
}

/**
 * Where a host keeps the tickets it issued. Sync or async; the default is in memory. The CLI
 * passes a persistent one so clients can resume across host restarts.
 */
export interface TicketStore {
  get(id: string): HostTicket | undefined | Promise<HostTicket | undefined>;
  set(ticket: HostTicket): void | Promise<void>;
  delete(id: string): void | Promise<void>;
}

/** In-memory {@link TicketStore}. */
export function createMemoryTicketStore(): TicketStore {
  const map = new Map<string, HostTicket>();
  return {
    get: (id) => map.get(id),
    set: (t) => {
      map.set(t.id, t);
    },
    delete: (id) => {
      map.delete(id);
    },
  };
}

/** Builds the client's ticket from freshly derived keys. */
export function ticketFromKeys(
  keys: SessionKeys,
  nameplate: string,
  signalUrl: string | undefined,
): ResumeTicket {
  return { v: 1, nameplate, id: keys.resumeId, secret: toBase64(keys.resumeSecret), signalUrl };
}

/** Validates a ticket read from storage; throws TRANSPORT_RESUME_REFUSED when it is malformed. */
export function parseResumeTicket(v: unknown): ResumeTicket & { secretBytes: Uint8Array } {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const secretBytes = fromBase64(o.secret, 64);
  if (
    o.v !== 1 ||
    typeof o.nameplate !== 'string' ||
    !/^[1-9][0-9]{0,7}$/.test(o.nameplate) ||
    typeof o.id !== 'string' ||
    !/^[0-9a-f]{32}$/.test(o.id) ||
    !secretBytes ||
    secretBytes.length !== 32 ||
    (o.signalUrl !== undefined && typeof o.signalUrl !== 'string')
  ) {
    throw TransportError.RESUME_REFUSED('Malformed resumption ticket');
  }
  return {
    v: 1,
    nameplate: o.nameplate,
    id: o.id,
    secret: o.secret as string,
    signalUrl: o.signalUrl as string | undefined,
    secretBytes,
  };
}

/**
 * Resumption handshake MAC: HMAC-SHA256(secret, label ‖ role ‖ id ‖ nonceA ‖ nonceB). Fresh
 * nonces from both sides make every MAC single-use; the role label stops reflection.
 */
export function resumeMac(
  secret: Uint8Array,
  role: 'host' | 'client',
  id: string,
  nonceA: Uint8Array,
  nonceB: Uint8Array,
): Uint8Array {
  return new Uint8Array(
    createHmac('sha256', secret)
      .update(concatBytes(utf8(`wormhole-v1 resume\0${role}\0${id}\0`), nonceA, nonceB))
      .digest(),
  );
}
