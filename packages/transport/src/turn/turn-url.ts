import { TurnError } from './turn-error.js';

/** A TURN server reached over TCP, with its (percent-decoded) long-term credentials. */
export interface TurnTcpServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

/**
 * Parses an ICE server URL of the form `turn:user:pass@host[:port]?transport=tcp` (the shape
 * `turnCredentialsToIceServers` makes: user and password percent-encoded). Returns undefined
 * for URLs that are not TURN over plain TCP (`turn:` with UDP, `turns:`, `stun:`), and throws
 * TURN_BAD_URL for a TCP TURN URL that cannot be used.
 */
export function parseTurnTcpUrl(url: string): TurnTcpServer | undefined {
  const m = /^turn:(?:([^@:]*):([^@]*)@)?([^?@]+)(?:\?(.*))?$/.exec(url);
  if (!m) return undefined;
  const query = new URLSearchParams(m[4] ?? '');
  if (query.get('transport')?.toLowerCase() !== 'tcp') return undefined;
  if (m[1] === undefined || m[2] === undefined) throw TurnError.BAD_URL('TURN over TCP needs user:pass@');
  const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(m[3]!);
  if (!hp) throw TurnError.BAD_URL(`bad host in ${redact(url)}`);
  const port = hp[3] === undefined ? 3478 : Number(hp[3]);
  if (port < 1 || port > 65535) throw TurnError.BAD_URL(`bad port in ${redact(url)}`);
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(m[1]);
    password = decodeURIComponent(m[2]);
  } catch {
    throw TurnError.BAD_URL(`bad percent-encoding in ${redact(url)}`);
  }
  return { host: hp[1] ?? hp[2]!, port, username, password };
}

/** The TCP TURN servers in an ICE server list (unusable entries are skipped). */
export function turnTcpServers(iceServers: readonly string[] | undefined): TurnTcpServer[] {
  const out: TurnTcpServer[] = [];
  for (const url of iceServers ?? []) {
    try {
      const s = parseTurnTcpUrl(url);
      if (s) out.push(s);
    } catch {
      // A malformed entry costs that server only.
    }
  }
  return out;
}

/** The URL without its credentials, for messages. */
export function redact(url: string): string {
  return url.replace(/^(turns?:)[^@]*@/, '$1***@');
}
