import { constants } from 'node:os';

/**
 * The POSIX errno names a {@link FileSystem} may throw (as `err.code`). Any other code, or an
 * error without one, reaches FUSE as EIO.
 */
export type ErrnoName =
  | 'EPERM'
  | 'ENOENT'
  | 'EIO'
  | 'EBADF'
  | 'EAGAIN'
  | 'ENOMEM'
  | 'EACCES'
  | 'EBUSY'
  | 'EEXIST'
  | 'EXDEV'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EINVAL'
  | 'EMFILE'
  | 'EFBIG'
  | 'ENOSPC'
  | 'EROFS'
  | 'EMLINK'
  | 'ENAMETOOLONG'
  | 'ENOSYS'
  | 'ENOTEMPTY'
  | 'ELOOP'
  | 'ENODATA'
  | 'EOVERFLOW'
  | 'EOPNOTSUPP'
  | 'ECONNRESET'
  | 'ENOTCONN'
  | 'ETIMEDOUT'
  | 'ECONNREFUSED'
  | 'EHOSTUNREACH'
  | 'ESTALE'
  | 'EDQUOT';

const NAMES: readonly ErrnoName[] = [
  'EPERM',
  'ENOENT',
  'EIO',
  'EBADF',
  'EAGAIN',
  'ENOMEM',
  'EACCES',
  'EBUSY',
  'EEXIST',
  'EXDEV',
  'ENOTDIR',
  'EISDIR',
  'EINVAL',
  'EMFILE',
  'EFBIG',
  'ENOSPC',
  'EROFS',
  'EMLINK',
  'ENAMETOOLONG',
  'ENOSYS',
  'ENOTEMPTY',
  'ELOOP',
  'ENODATA',
  'EOVERFLOW',
  'EOPNOTSUPP',
  'ECONNRESET',
  'ENOTCONN',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ESTALE',
  'EDQUOT',
];

// The numbers come from the running OS (os.constants.errno) rather than a hard-coded Linux
// table, so the same table is right on macOS (ETIMEDOUT is 60 there, 110 on Linux).
const osErrno = constants.errno as Readonly<Record<string, number | undefined>>;
const BY_NAME = new Map<string, number>();
const BY_NUMBER = new Map<number, ErrnoName>();
for (const name of NAMES) {
  const n = osErrno[name];
  if (n === undefined) continue;
  BY_NAME.set(name, -n);
  if (!BY_NUMBER.has(-n)) BY_NUMBER.set(-n, name);
}
const EIO = BY_NAME.get('EIO') ?? -5;

/** The errno table: name → negative errno of this OS (what `errnoOf` returns, before the EIO mapping of transport failures). */
export const ERRNO: Readonly<Record<ErrnoName, number>> = Object.freeze(
  Object.fromEntries(NAMES.map((n) => [n, BY_NAME.get(n) ?? EIO])) as Record<ErrnoName, number>,
);

// Transport-level failures of a remote FileSystem reach applications as EIO: ENOTCONN in
// particular means "stale mount" to every tool (and to prepareMountpoint), and ETIMEDOUT /
// ECONNRESET from a file read would puzzle users. The table still names them for FileSystems.
const AS_EIO: ReadonlySet<string> = new Set([
  'ENOTCONN',
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EHOSTUNREACH',
]);

/** Negative errno that FUSE gets for an errno name: unknown names and transport failures map to -EIO. */
export function errnoOf(name: string | undefined): number {
  if (name === undefined || AS_EIO.has(name)) return EIO;
  return BY_NAME.get(name) ?? EIO;
}

/** Negative errno for anything thrown by a FileSystem: its `code` if it is an errno name, else -EIO. */
export function errnoFromError(err: unknown): number {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return errnoOf(code);
  }
  return EIO;
}

/** The name of a negative (or positive) errno, `EIO` when not in the table. */
export function errnoName(errno: number): ErrnoName {
  return BY_NUMBER.get(-Math.abs(errno)) ?? 'EIO';
}

/** An Error whose `code` is an errno name: what a FileSystem throws to fail one operation. */
export function errnoError(code: ErrnoName, message?: string): Error & { code: ErrnoName } {
  const err = new Error(message ?? code) as Error & { code: ErrnoName };
  err.code = code;
  return err;
}
