import { AppError } from '@wormhole/protocol';

export type CliErrorCode =
  | 'CLI_USAGE'
  | 'CLI_CONFIG_UNREADABLE'
  | 'CLI_CONFIG_PARSE'
  | 'CLI_CONFIG_INVALID'
  | 'CLI_PATH_NOT_ALLOWED'
  | 'CLI_PATH_NOT_FOUND'
  | 'CLI_NOT_MOUNTED'
  | 'CLI_FUSE_UNAVAILABLE'
  | 'CLI_INTERRUPTED'
  | 'CLI_CHECKS_FAILED'
  /** The share listed something `get` will not write (a name twice in one folder). */
  | 'CLI_BAD_LISTING';

/** Exit codes are part of the CLI's contract (documented in the package README). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONFIG: 3,
  CONNECT: 4,
  FUSE: 5,
  INTERRUPTED: 130,
} as const;

const EXIT_BY_CODE: Partial<Record<string, number>> = {
  CLI_USAGE: EXIT.USAGE,
  CLI_CONFIG_UNREADABLE: EXIT.CONFIG,
  CLI_CONFIG_PARSE: EXIT.CONFIG,
  CLI_CONFIG_INVALID: EXIT.CONFIG,
  CLI_PATH_NOT_ALLOWED: EXIT.CONFIG,
  CLI_FUSE_UNAVAILABLE: EXIT.FUSE,
  CLI_INTERRUPTED: EXIT.INTERRUPTED,
  PROTOCOL_BAD_JOIN_CODE: EXIT.USAGE,
};

export class CliError extends AppError<CliErrorCode> {
  static USAGE(msg: string): CliError {
    return new CliError('CLI_USAGE', msg);
  }
  static BAD_LISTING(msg: string): CliError {
    return new CliError('CLI_BAD_LISTING', msg);
  }
}

/** Maps any error to the process exit code the README documents. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof AppError) {
    const byCode = EXIT_BY_CODE[err.code];
    if (byCode !== undefined) return byCode;
    if (err.code.startsWith('TRANSPORT_') || err.code.startsWith('SESSION_')) return EXIT.CONNECT;
    if (err.code.startsWith('FUSE_')) return EXIT.FUSE;
  }
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('FUSE_')) {
    return EXIT.FUSE;
  }
  return EXIT.FAILURE;
}
