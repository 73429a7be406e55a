import { AppError, type SignalErrorCode } from '@wormhole/protocol';

/**
 * Codes a {@link SignalServerError} carries: every wire code of `SIGNAL_ERROR_CODES` (a request
 * rejected for a client) plus the server's own lifecycle failures.
 */
export type SignalServerErrorCode =
  | SignalErrorCode
  | 'SIGNAL_SERVER_BAD_OPTIONS'
  | 'SIGNAL_SERVER_LISTEN_FAILED'
  | 'SIGNAL_SERVER_TLS_FAILED';

/** The one error class of `@wormhole/signal-server`. */
export class SignalServerError extends AppError<SignalServerErrorCode> {
  /** A request a client made was refused with wire code `code` (sent back as `{type:'error'}`). */
  static reject(code: SignalErrorCode, message: string): SignalServerError {
    const err = new SignalServerError(code, message);
    Error.captureStackTrace?.(err, SignalServerError.reject);
    return err;
  }
  /** An option passed to `createSignalServer` is out of range; the message names it. */
  static BAD_OPTIONS(message: string): SignalServerError {
    return new SignalServerError('SIGNAL_SERVER_BAD_OPTIONS', message);
  }
  /** The HTTP(S) listener could not bind. */
  static LISTEN_FAILED(host: string, port: number, cause: unknown): SignalServerError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new SignalServerError(
      'SIGNAL_SERVER_LISTEN_FAILED',
      `cannot listen on ${host}:${port}: ${detail}`,
      {
        cause,
        details: { host, port },
      },
    );
  }
  /** The TLS certificate or key was rejected. */
  static TLS_FAILED(cause: unknown): SignalServerError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new SignalServerError('SIGNAL_SERVER_TLS_FAILED', `TLS setup failed: ${detail}`, { cause });
  }
}
