import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HostTicket, TicketStore } from '@wormhole/transport';

/** What a host persists so a restart keeps its nameplate and the tickets it issued. */
interface ShareStateFile {
  v: 1;
  nameplate?: string;
  tickets: HostTicket[];
}

function isTicket(t: unknown): t is HostTicket {
  const o = t as Record<string, unknown>;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    /^[0-9a-f]{32}$/.test(o.id) &&
    typeof o.secret === 'string' &&
    o.secret.length <= 64 &&
    typeof o.issuedAt === 'number'
  );
}

/**
 * A ticket store backed by one JSON file (mode 0600: tickets are secrets), written atomically.
 * Tickets older than `maxAgeMs` are dropped on load. A corrupt file is treated as empty: the
 * worst case is that paired clients need the code again.
 */
export interface FileTicketStore extends TicketStore {
  /** Nameplate recorded by the last run, to reclaim on restart. */
  nameplate(): string | undefined;
  setNameplate(nameplate: string): void;
}

export function createFileTicketStore(file: string, maxAgeMs = 30 * 24 * 3600 * 1000): FileTicketStore {
  let state: ShareStateFile = { v: 1, tickets: [] };
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<ShareStateFile>;
    const now = Date.now();
    state = {
      v: 1,
      ...(typeof raw.nameplate === 'string' &&
        /^[1-9][0-9]{0,7}$/.test(raw.nameplate) && { nameplate: raw.nameplate }),
      tickets: Array.isArray(raw.tickets)
        ? raw.tickets
            .filter(isTicket)
            .filter((t) => now - t.issuedAt < maxAgeMs)
            .slice(-1000)
        : [],
    };
  } catch {
    // Missing or unreadable: start empty.
  }
  const save = () => {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    renameSync(tmp, file);
  };
  return {
    get: (id) => state.tickets.find((t) => t.id === id),
    set: (ticket) => {
      state.tickets = [...state.tickets.filter((t) => t.id !== ticket.id), ticket];
      save();
    },
    delete: (id) => {
      state.tickets = state.tickets.filter((t) => t.id !== id);
      save();
    },
    nameplate: () => state.nameplate,
    setNameplate: (nameplate) => {
      if (state.nameplate === nameplate) return;
      state.nameplate = nameplate;
      save();
    },
  };
}
