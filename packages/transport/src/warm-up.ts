import { warmUpSpake2 } from './spake2.js';
import { RISTRETTO255_GROUP } from './spake2-groups.js';

/**
 * Does the process' one-time rendezvous work (the first SPAKE2 exchange on the group the
 * rendezvous uses) so that the first code entered does not pay it. Once per process; cheap after.
 */
export function warmUpRendezvous(): void {
  warmUpSpake2(RISTRETTO255_GROUP);
}
