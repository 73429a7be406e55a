import type { PeerChannel, Transport, TransportSession } from '@wormhole/transport';

/**
 * Connects a host and a client session with signals passed both ways (the tls transport's
 * relay needs the client's `relay-permit`), each side with its own ICE server list.
 */
export async function connectBothWays(
  hostSide: Transport,
  clientSide: Transport,
  ice: { host?: readonly string[]; client?: readonly string[] },
): Promise<{ host: PeerChannel; client: PeerChannel; signals: string[] }> {
  const ac = new AbortController();
  const signals: string[] = [];
  const host = hostSide.createSession('host', {
    signal: ac.signal,
    ...(ice.host && { iceServers: ice.host }),
  });
  const client = clientSide.createSession('client', {
    signal: ac.signal,
    ...(ice.client && { iceServers: ice.client }),
  });
  const forward = (from: TransportSession, to: TransportSession, name: string): void =>
    from.onSignal((s) => {
      signals.push(`${name}:${String(s.type)}`);
      // Asynchronous like the room channel: a signal never arrives inside the sender's call.
      setImmediate(() => {
        try {
          to.handleSignal(s);
        } catch {}
      });
    });
  forward(host, client, 'host');
  forward(client, host, 'client');
  try {
    const [h, c] = await Promise.all([host.connected, client.connected]);
    return { host: h, client: c, signals };
  } catch (err) {
    host.close();
    client.close();
    throw err;
  }
}
