import { AppError, type FsErrorCode, isFsErrorCode } from '@wormhole/protocol';

/**
 * A file-system answer: the POSIX errno name the host (or the client, for ENOTCONN/ETIMEDOUT)
 * reports for one call. FUSE maps `code` straight onto the errno of the same name.
 */
export class RemoteFsError extends AppError<FsErrorCode> {
  static of(code: FsErrorCode, message: string, cause?: unknown): RemoteFsError {
    return new RemoteFsError(code, message, cause === undefined ? undefined : { cause });
  }
  static ENOENT(path: string): RemoteFsError {
    return new RemoteFsError('ENOENT', `No such file or directory: ${path}`);
  }
  static EACCES(msg: string): RemoteFsError {
    return new RemoteFsError('EACCES', msg);
  }
  static EINVAL(msg: string): RemoteFsError {
    return new RemoteFsError('EINVAL', msg);
  }
  static ENAMETOOLONG(msg: string): RemoteFsError {
    return new RemoteFsError('ENAMETOOLONG', msg);
  }
  static EROFS(msg = 'The share is read-only'): RemoteFsError {
    return new RemoteFsError('EROFS', msg);
  }
  static ESTALE(path: string): RemoteFsError {
    return new RemoteFsError('ESTALE', `File changed since the version the caller holds: ${path}`);
  }
  static ELOOP(path: string): RemoteFsError {
    return new RemoteFsError('ELOOP', `Too many levels of symbolic links: ${path}`);
  }
  static ENOTCONN(msg = 'Not connected to the host'): RemoteFsError {
    return new RemoteFsError('ENOTCONN', msg);
  }
  static ETIMEDOUT(ms: number): RemoteFsError {
    return new RemoteFsError('ETIMEDOUT', `The host did not answer within ${ms} ms`);
  }
  static EIO(msg: string, cause?: unknown): RemoteFsError {
    return new RemoteFsError('EIO', msg, cause === undefined ? undefined : { cause });
  }

  /** Maps a node:fs error (errno name in `code`) onto a wire code; anything unknown is EIO. */
  static fromNode(err: unknown): RemoteFsError {
    if (err instanceof RemoteFsError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (isFsErrorCode(code)) return new RemoteFsError(code, code);
    if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return new RemoteFsError('EINVAL', String(code));
    if (code === 'EBADF') return new RemoteFsError('ESTALE', 'EBADF');
    return new RemoteFsError('EIO', 'I/O error on the host', { cause: err });
  }
}
