/** Every code a {@link FuseError} can carry; each is documented in the package README. */
export type FuseErrorCode =
  | 'FUSE_UNAVAILABLE'
  | 'FUSE_MOUNTPOINT_NOT_EMPTY'
  | 'FUSE_MOUNTPOINT_NOT_DIRECTORY'
  | 'FUSE_MOUNTPOINT_IN_USE'
  | 'FUSE_MOUNT_FAILED'
  | 'FUSE_MOUNT_TIMEOUT'
  | 'FUSE_UNMOUNT_FAILED'
  | 'FUSE_HELPER_EXITED'
  | 'FUSE_PROTOCOL';

/**
 * The one error class of `@wormhole/fuse`. It mirrors `AppError` of `@wormhole/protocol`
 * (code, details, name, toJSON) without importing it: fuse sits beside the transports in the
 * layering and depends on no other Wormhole package.
 */
export class FuseError extends Error {
  /** Stable machine-readable code. */
  readonly code: FuseErrorCode;
  /** Structured detail that is safe to log. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: FuseErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    this.name = new.target.name;
  }

  /** A plain object that survives JSON and IPC. */
  toJSON(): {
    name: string;
    code: FuseErrorCode;
    message: string;
    details?: Readonly<Record<string, unknown>>;
  } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details };
  }

  /** fuse-native, libfuse or /dev/fuse is missing; `checkFuse()` says which. */
  static UNAVAILABLE(reason: string, cause?: unknown): FuseError {
    return new FuseError('FUSE_UNAVAILABLE', `FUSE is not available: ${reason}`, { cause });
  }

  /** The mount point has entries; mounting over them would hide them. */
  static MOUNTPOINT_NOT_EMPTY(mountpoint: string): FuseError {
    return new FuseError('FUSE_MOUNTPOINT_NOT_EMPTY', `Mount point is not empty: ${mountpoint}`, {
      details: { mountpoint },
    });
  }

  /** The mount point exists and is not a directory. */
  static MOUNTPOINT_NOT_DIRECTORY(mountpoint: string): FuseError {
    return new FuseError('FUSE_MOUNTPOINT_NOT_DIRECTORY', `Mount point is not a directory: ${mountpoint}`, {
      details: { mountpoint },
    });
  }

  /** A live file system is already mounted there. */
  static MOUNTPOINT_IN_USE(mountpoint: string): FuseError {
    return new FuseError('FUSE_MOUNTPOINT_IN_USE', `Something is already mounted on ${mountpoint}`, {
      details: { mountpoint },
    });
  }

  /** libfuse refused the mount (options, permissions, fusermount). */
  static MOUNT_FAILED(mountpoint: string, reason: string, cause?: unknown): FuseError {
    return new FuseError('FUSE_MOUNT_FAILED', `Mounting ${mountpoint} failed: ${reason}`, {
      cause,
      details: { mountpoint },
    });
  }

  /** The mount did not come up within the allowed time. */
  static MOUNT_TIMEOUT(mountpoint: string, ms: number): FuseError {
    return new FuseError('FUSE_MOUNT_TIMEOUT', `Mounting ${mountpoint} did not finish within ${ms} ms`, {
      details: { mountpoint, ms },
    });
  }

  /** Neither a clean nor a lazy unmount removed the mount. */
  static UNMOUNT_FAILED(mountpoint: string, reason: string, cause?: unknown): FuseError {
    return new FuseError('FUSE_UNMOUNT_FAILED', `Unmounting ${mountpoint} failed: ${reason}`, {
      cause,
      details: { mountpoint },
    });
  }

  /** The helper process that owns the mount exited unexpectedly. */
  static HELPER_EXITED(code: number | null, signal: string | null): FuseError {
    return new FuseError('FUSE_HELPER_EXITED', `FUSE helper exited (code ${code}, signal ${signal})`, {
      details: { code, signal },
    });
  }

  /** A malformed frame on the helper pipe (a bug, never user input). */
  static PROTOCOL(reason: string): FuseError {
    return new FuseError('FUSE_PROTOCOL', `FUSE helper protocol error: ${reason}`);
  }
}
