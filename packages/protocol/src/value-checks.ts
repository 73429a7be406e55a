// Small value checks shared by the hand-written body checks (stat-check.ts, fs-messages.ts).
// Internal to the package: not exported from its index.

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-negative safe integer. */
export function isU53(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A safe integer in `[0, max]`. */
export function isIntIn(v: unknown, max: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}
