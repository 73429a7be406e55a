import type { SignalClient, TurnCredentials } from './signal-client.js';

/** How long a rendezvous waits for TURN credentials before going on without them. */
export const TURN_CREDENTIALS_TIMEOUT_MS = 3000;

/**
 * Turns the signal server's TURN REST credentials into ICE server URLs
 * (`turn:user:pass@host:port[?transport=..]`, credentials percent-encoded: the username
 * carries a `:` and the HMAC may carry `/`, `+`, `=`). `stun:` URLs pass through.
 */
export function turnCredentialsToIceServers(creds: TurnCredentials): string[] {
  const auth = `${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.credential)}@`;
  const out: string[] = [];
  for (const url of creds.urls) {
    if (url.startsWith('stun:')) out.push(url);
    else if (/^turns?:[^@]*$/.test(url)) out.push(url.replace(/^(turns?):/, `$1:${auth}`));
  }
  return out;
}

/**
 * Asks the signal server for short-lived TURN credentials and returns them as ICE server URLs.
 * Never rejects: a server without TURN (`SIGNAL_TURN_UNAVAILABLE`), a timeout or a dropped
 * connection all yield `[]`, and the attempt goes on with the configured ICE servers only.
 */
export async function fetchTurnIceServers(
  client: SignalClient,
  timeoutMs = TURN_CREDENTIALS_TIMEOUT_MS,
): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  try {
    return await Promise.race([
      client.requestTurnCredentials().then(turnCredentialsToIceServers, () => []),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
