import { AppError } from '@wormhole/protocol';

/** Every way connecting to or talking with a peer can fail. */
export type TransportErrorCode =
  | 'TRANSPORT_CLOSED'
  | 'TRANSPORT_ABORTED'
  | 'TRANSPORT_TIMEOUT'
  | 'TRANSPORT_MESSAGE_TOO_LARGE'
  | 'TRANSPORT_CONNECT_FAILED'
  | 'TRANSPORT_UNAVAILABLE'
  | 'TRANSPORT_BAD_SIGNAL'
  | 'TRANSPORT_AUTH_FAILED'
  | 'TRANSPORT_BINDING_MISMATCH'
  | 'TRANSPORT_PAKE_FAILED'
  | 'TRANSPORT_SIGNAL_ERROR'
  | 'TRANSPORT_SIGNAL_UNREACHABLE'
  | 'TRANSPORT_DECRYPT_FAILED'
  | 'TRANSPORT_OUT_OF_ORDER'
  | 'TRANSPORT_RESUME_REFUSED';

type Opts = { cause?: unknown; details?: Record<string, unknown> };

export class TransportError extends AppError<TransportErrorCode> {
  static CLOSED(msg = 'Connection is closed'): TransportError {
    return new TransportError('TRANSPORT_CLOSED', msg);
  }
  static ABORTED(msg = 'Operation was aborted'): TransportError {
    return new TransportError('TRANSPORT_ABORTED', msg);
  }
  static TIMEOUT(msg = 'Operation timed out'): TransportError {
    return new TransportError('TRANSPORT_TIMEOUT', msg);
  }
  static MESSAGE_TOO_LARGE(size: number, max: number): TransportError {
    return new TransportError('TRANSPORT_MESSAGE_TOO_LARGE', `Message of ${size} bytes exceeds ${max}`, {
      details: { size, max },
    });
  }
  static CONNECT_FAILED(msg = 'Could not connect to the peer', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_CONNECT_FAILED', msg, opts);
  }
  static UNAVAILABLE(msg = 'No usable transport', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_UNAVAILABLE', msg, opts);
  }
  static BAD_SIGNAL(msg = 'Malformed signalling message', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_BAD_SIGNAL', msg, opts);
  }
  static AUTH_FAILED(msg = 'Peer authentication failed', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_AUTH_FAILED', msg, opts);
  }
  static BINDING_MISMATCH(
    msg = 'Channel binding does not match: possible man-in-the-middle',
    opts?: Opts,
  ): TransportError {
    return new TransportError('TRANSPORT_BINDING_MISMATCH', msg, opts);
  }
  static PAKE_FAILED(
    msg = 'Wrong join code (or someone interfered): the code is now burned',
    opts?: Opts,
  ): TransportError {
    return new TransportError('TRANSPORT_PAKE_FAILED', msg, opts);
  }
  static SIGNAL_ERROR(code: string, msg: string, opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_SIGNAL_ERROR', `Signal server: ${msg}`, {
      ...opts,
      details: { ...opts?.details, code },
    });
  }
  static SIGNAL_UNREACHABLE(msg = 'Signal server is unreachable', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_SIGNAL_UNREACHABLE', msg, opts);
  }
  static DECRYPT_FAILED(msg = 'Sealed message failed authentication', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_DECRYPT_FAILED', msg, opts);
  }
  static OUT_OF_ORDER(expected: bigint, got: bigint): TransportError {
    return new TransportError('TRANSPORT_OUT_OF_ORDER', 'Sealed message replayed or reordered', {
      details: { expected: expected.toString(), got: got.toString() },
    });
  }
  static RESUME_REFUSED(msg = 'The host refused the resumption ticket', opts?: Opts): TransportError {
    return new TransportError('TRANSPORT_RESUME_REFUSED', msg, opts);
  }
}

/** True when `err` is a TransportError, optionally with the given code. */
export function isTransportError(err: unknown, code?: TransportErrorCode): err is TransportError {
  return err instanceof TransportError && (code === undefined || err.code === code);
}
