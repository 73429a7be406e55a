import { realpathSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { CliError } from '../cli-error.js';

function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/**
 * Refuses a share outside `[security] allowed_paths`. Compares real paths, so a symlink inside
 * an allowed folder cannot smuggle in a path outside it.
 */
export function assertShareAllowed(path: string, allowedPaths: string[] | undefined): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    throw new CliError('CLI_PATH_NOT_FOUND', `${path}: no such folder`, { cause: err });
  }
  if (allowedPaths === undefined) return real;
  for (const allowed of allowedPaths) {
    let allowedReal: string;
    try {
      allowedReal = realpathSync(allowed);
    } catch {
      continue;
    }
    if (within(real, allowedReal)) return real;
  }
  throw new CliError(
    'CLI_PATH_NOT_ALLOWED',
    `${real} is outside [security] allowed_paths (${allowedPaths.join(', ') || 'none'}); ask your administrator or share a folder inside them`,
    { details: { path: real } },
  );
}
