import { raceDelay, type Transport, type TransportKind, warmUpRendezvous } from '@wormhole/transport';
import { dataChannelTransport } from '@wormhole/transport-datachannel';
import { tlsTransport } from '@wormhole/transport-tls';
import { webTransportTransport } from '@wormhole/transport-webtransport';

/** How to build the transports a share or mount offers. */
export interface TransportConfig {
  /** Which transports, in preference order. Default: tls, webtransport, datachannel. */
  readonly kinds?: readonly TransportKind[];
  /** `stun:` / `turn:user:pass@host:port` URLs: ICE (datachannel); `?transport=tcp` TURN also relays tls. */
  readonly iceServers?: readonly string[];
  /** 'relay' forces TURN (tests, locked-down networks). Default 'all'. */
  readonly iceTransportPolicy?: 'all' | 'relay';
  /** Address the direct listeners (tls, webtransport) bind on a host. Default all interfaces. */
  readonly listenHost?: string;
  /** What direct listeners advertise ('ip' or 'ip:port'); default every interface address. */
  readonly advertiseAddresses?: readonly string[];
}

export const DEFAULT_TRANSPORT_KINDS: readonly TransportKind[] = ['tls', 'webtransport', 'datachannel'];

/**
 * Builds the configured transports, dropping any whose native part is missing on this machine
 * (reported by `isAvailable()`), so a share still works with what is there.
 */
export function createTransports(config: TransportConfig = {}): Transport[] {
  const out: Transport[] = [];
  // Whoever builds transports is about to connect: do the process' one-time connection work
  // now, off the caller's stack, instead of after a code was entered — a throw-away PAKE
  // exchange (~1-2 ms cold with CPace) and each transport's module loads and certificate
  // (`prepare`; webtransport's library alone is ~20-40 ms the first time). An app or daemon pays
  // it at start: a fresh process' first race connected in 92-142 ms right after this call and
  // in 62-81 ms a second later (docs/bench/first-byte.md). Both roles need what 'client'
  // prepares (library, certificate); a host's listeners start when it shares. A transport a
  // race holds back (raceDelayMs) is left alone: it rarely starts, and loading it would compete
  // with the connection of a process that connects right away (the CLI).
  setTimeout(() => {
    warmUpRendezvous();
    for (const t of out) if (raceDelay(t, out.length) === 0) t.prepare?.('client');
  }, 0).unref();
  for (const kind of config.kinds ?? DEFAULT_TRANSPORT_KINDS) {
    let t: Transport;
    switch (kind) {
      case 'tls':
        t = tlsTransport({
          ...(config.iceServers !== undefined && { iceServers: config.iceServers }),
          ...(config.listenHost !== undefined && { listenHost: config.listenHost }),
          ...(config.advertiseAddresses !== undefined && { advertiseAddresses: config.advertiseAddresses }),
        });
        break;
      case 'webtransport':
        t = webTransportTransport({
          ...(config.listenHost !== undefined && { listenHost: config.listenHost }),
          ...(config.advertiseAddresses !== undefined && { advertiseAddresses: config.advertiseAddresses }),
        });
        break;
      case 'datachannel':
        t = dataChannelTransport({
          iceServers: config.iceServers ?? [],
          iceTransportPolicy: config.iceTransportPolicy ?? 'all',
        });
        break;
    }
    if (t.isAvailable()) out.push(t);
    else void t.close();
  }
  return out;
}

/** Closes every transport (listeners, native state); safe to call twice. */
export async function closeTransports(transports: readonly Transport[]): Promise<void> {
  await Promise.allSettled(transports.map((t) => t.close()));
}
