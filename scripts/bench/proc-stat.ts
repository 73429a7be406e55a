// Reading /proc/<pid>/stat for the benchmarks (Linux only).
import { readFileSync } from 'node:fs';

/**
 * The fields of a `/proc/.../stat` file after the command name, so index 0 is the state, 7 minor
 * faults, 11 utime and 12 stime (clock ticks). The name is skipped by its closing parenthesis,
 * because it may itself contain spaces and parentheses.
 */
export function procStatFields(path = '/proc/self/stat'): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Minor page faults of this process so far (first touches of fresh memory), or NaN off Linux. */
export function minorFaults(): number {
  try {
    return Number(procStatFields()[7]);
  } catch {
    return Number.NaN;
  }
}
