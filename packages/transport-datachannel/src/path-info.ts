import type { CandidateType, PathInfo } from '@wormhole/transport';
import type { NativePeerConnection } from './native.js';

type SelectedPair = NonNullable<ReturnType<NativePeerConnection['getSelectedCandidatePair']>>;
type SelectedCandidate = SelectedPair['local'];

function candidateType(type: string): CandidateType {
  switch (type) {
    case 'host':
    case 'srflx':
    case 'prflx':
    case 'relay':
      return type;
    default:
      // node-datachannel says 'unknown' only for a candidate it could not classify; a selected
      // pair always has typed candidates, so this is unreachable in practice.
      return 'host';
  }
}

function address(c: SelectedCandidate): string {
  return c.address.includes(':') ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`;
}

/** Maps libdatachannel's selected candidate pair onto the transport-neutral PathInfo. */
export function pathInfoFromPair(pair: SelectedPair | null): PathInfo {
  if (pair === null) {
    return {
      transport: 'datachannel',
      localCandidateType: 'host',
      remoteCandidateType: 'host',
      relayed: false,
      remoteAddress: undefined,
      protocol: 'udp',
    };
  }
  const local = candidateType(pair.local.type);
  const remote = candidateType(pair.remote.type);
  return {
    transport: 'datachannel',
    localCandidateType: local,
    remoteCandidateType: remote,
    relayed: local === 'relay' || remote === 'relay',
    remoteAddress: address(pair.remote),
    // 'UDP' | 'TCP_active' | 'TCP_passive' | 'TCP_so' | 'TCP_unknown'. For a relay candidate this
    // is the relayed address's transport (always UDP), not the client-to-TURN leg.
    protocol: pair.local.transportType.toUpperCase().startsWith('TCP') ? 'tcp' : 'udp',
  };
}
