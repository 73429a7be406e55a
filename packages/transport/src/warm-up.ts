import { warmUpCPace } from './cpace.js';

/**
 * Does the process' one-time rendezvous work (a throw-away PAKE exchange: node:crypto's X25519
 * path and the generator's BigInt map, ~1-2 ms cold) so that the first code entered does not
 * pay it. Once per process; cheap after.
 */
export function warmUpRendezvous(): void {
  warmUpCPace();
}
