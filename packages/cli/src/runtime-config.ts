import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { TransportConfig } from '@wormhole/engine';
import type { TransportKind } from '@wormhole/transport';
import { CliError } from './cli-error.js';
import { defaultPaths } from './config/config-paths.js';
import type { WormholeConfig } from './config/config-schema.js';

/** Transport settings from config, overridable per command with `--transports a,b`. */
export function transportConfig(
  config: WormholeConfig,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): TransportConfig {
  let kinds: TransportKind[] = config.network.transports;
  if (flag !== undefined) {
    const wanted = flag.split(',').map((s) => s.trim());
    for (const k of wanted) {
      if (k !== 'tls' && k !== 'webtransport' && k !== 'datachannel') {
        throw CliError.USAGE(`--transports: "${k}" is not one of tls, webtransport, datachannel`);
      }
    }
    kinds = wanted as TransportKind[];
  }
  const advertise = env.WORMHOLE_ADVERTISE_HOST;
  return {
    kinds,
    iceServers: [...config.network.stun, ...config.network.turn],
    ...(env.WORMHOLE_ICE_POLICY === 'relay' && { iceTransportPolicy: 'relay' as const }),
    ...(env.WORMHOLE_LISTEN_HOST !== undefined && { listenHost: env.WORMHOLE_LISTEN_HOST }),
    ...(advertise !== undefined && { advertiseAddresses: advertise.split(',') }),
  };
}

/** The address peers on the LAN can reach this machine at (first non-internal IPv4). */
export function lanAddress(env: NodeJS.ProcessEnv): string {
  const forced = env.WORMHOLE_ADVERTISE_HOST?.split(',')[0];
  if (forced) return forced;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Where a share keeps its nameplate and issued tickets (one file per shared folder). */
export function shareStateFile(env: NodeJS.ProcessEnv, realRoot: string): string {
  const id = createHash('sha256').update(realRoot).digest('hex').slice(0, 16);
  return join(defaultPaths(env).stateDir, 'shares', `${id}.json`);
}
