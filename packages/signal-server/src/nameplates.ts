import { randomInt } from 'node:crypto';

/** Longest nameplate the protocol allows (`^[1-9][0-9]{0,7}$`). */
export const MAX_NAMEPLATE_DIGITS = 8;

/**
 * How many digits nameplates get while `roomCount` rooms exist: the smallest k whose space
 * [1, 10^k) is at most half used, so codes stay short while the server is quiet and random
 * draws rarely collide.
 */
export function nameplateDigits(roomCount: number): number {
  let k = 1;
  while (k < MAX_NAMEPLATE_DIGITS && roomCount > (10 ** k - 1) / 2) k++;
  return k;
}

/** A random nameplate drawn uniformly from [1, 10^digits). */
export function randomNameplate(digits: number): string {
  const d = Math.max(1, Math.min(MAX_NAMEPLATE_DIGITS, digits));
  return String(randomInt(1, 10 ** d));
}

/**
 * Picks a free nameplate. `isTaken` may be a local lookup; a shared store re-checks atomically
 * when it claims the name. After a few collisions the space grows by one digit.
 */
export function pickNameplate(roomCount: number, isTaken: (room: string) => boolean): string | undefined {
  for (let digits = nameplateDigits(roomCount); digits <= MAX_NAMEPLATE_DIGITS; digits++) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const room = randomNameplate(digits);
      if (!isTaken(room)) return room;
    }
  }
  return undefined;
}
