import { AppError } from '@wormhole/protocol';

/** Every way the chunk cache can fail. Listed with their meaning in the package README. */
export type CacheErrorCode =
  | 'CACHE_L2_UNAVAILABLE'
  | 'CACHE_L2_OPEN_FAILED'
  | 'CACHE_L2_IO'
  | 'CACHE_CLOSED'
  | 'CACHE_BAD_CHUNK'
  | 'CACHE_INVALID_ARGUMENT'
  | 'CACHE_ABORTED';

type Opts = { cause?: unknown; details?: Record<string, unknown> };

/** The one error class of `@wormhole/cache`. */
export class CacheError extends AppError<CacheErrorCode> {
  static L2_UNAVAILABLE(msg = 'The SQLite cache (better-sqlite3) is not available', opts?: Opts): CacheError {
    return new CacheError('CACHE_L2_UNAVAILABLE', msg, opts);
  }
  static L2_OPEN_FAILED(path: string, opts?: Opts): CacheError {
    return new CacheError('CACHE_L2_OPEN_FAILED', `Could not open the chunk cache at ${path}`, {
      ...opts,
      details: { ...opts?.details, path },
    });
  }
  static L2_IO(msg: string, opts?: Opts): CacheError {
    return new CacheError('CACHE_L2_IO', msg, opts);
  }
  static CLOSED(msg = 'The chunk cache is closed'): CacheError {
    return new CacheError('CACHE_CLOSED', msg);
  }
  static BAD_CHUNK(msg: string, details?: Record<string, unknown>): CacheError {
    return new CacheError('CACHE_BAD_CHUNK', msg, details === undefined ? undefined : { details });
  }
  static INVALID_ARGUMENT(msg: string): CacheError {
    return new CacheError('CACHE_INVALID_ARGUMENT', msg);
  }
  static ABORTED(msg = 'The chunk fetch was cancelled'): CacheError {
    return new CacheError('CACHE_ABORTED', msg);
  }
}

/** True when `err` is a CacheError, optionally with the given code. */
export function isCacheError(err: unknown, code?: CacheErrorCode): err is CacheError {
  return err instanceof CacheError && (code === undefined || err.code === code);
}
