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
  | 'TRANSPORT_SIGNAL_UNREACHABLE';

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
}
