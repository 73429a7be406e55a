import { AppError } from '@wormhole/protocol';

/**
 * Every way the TURN-over-TCP client can fail. The transports wrap these into a TransportError
 * (`TRANSPORT_CONNECT_FAILED`, with the TurnError as `cause`), so callers outside this folder
 * only ever see TransportError codes.
 */
export type TurnErrorCode =
  /** Bytes from the wire that are not a well-formed STUN/TURN message (header, lengths, attributes). */
  | 'TURN_MALFORMED'
  /** MESSAGE-INTEGRITY or FINGERPRINT did not match. */
  | 'TURN_BAD_INTEGRITY'
  /** A well-formed message that breaks the protocol here (missing attribute, wrong class, unknown transaction). */
  | 'TURN_PROTOCOL'
  /** The server answered a request with an error response (details: `status`, `reason`). */
  | 'TURN_ERROR_RESPONSE'
  /** The server refused the credentials (401 after authenticating). */
  | 'TURN_AUTH_FAILED'
  /** A request got no answer in time. */
  | 'TURN_TIMEOUT'
  /** The TCP connection to the server could not be opened. */
  | 'TURN_UNREACHABLE'
  /** The connection or allocation is closed. */
  | 'TURN_CLOSED'
  /** Cancelled through an AbortSignal. */
  | 'TURN_ABORTED'
  /** A `turn:`/`stun:` URL this client cannot use. */
  | 'TURN_BAD_URL';

type Opts = { cause?: unknown; details?: Record<string, unknown> };

export class TurnError extends AppError<TurnErrorCode> {
  static MALFORMED(msg: string, opts?: Opts): TurnError {
    return new TurnError('TURN_MALFORMED', `STUN: ${msg}`, opts);
  }
  static BAD_INTEGRITY(msg: string): TurnError {
    return new TurnError('TURN_BAD_INTEGRITY', `STUN: ${msg}`);
  }
  static PROTOCOL(msg: string, opts?: Opts): TurnError {
    return new TurnError('TURN_PROTOCOL', `TURN: ${msg}`, opts);
  }
  static ERROR_RESPONSE(method: string, status: number, reason: string): TurnError {
    return new TurnError('TURN_ERROR_RESPONSE', `TURN ${method}: ${status} ${reason}`, {
      details: { method, status, reason },
    });
  }
  static AUTH_FAILED(method: string, status: number, reason: string): TurnError {
    return new TurnError('TURN_AUTH_FAILED', `TURN ${method}: credentials refused (${status} ${reason})`, {
      details: { method, status, reason },
    });
  }
  static TIMEOUT(msg: string): TurnError {
    return new TurnError('TURN_TIMEOUT', `TURN: ${msg}`);
  }
  static UNREACHABLE(msg: string, opts?: Opts): TurnError {
    return new TurnError('TURN_UNREACHABLE', `TURN: ${msg}`, opts);
  }
  static CLOSED(msg = 'connection closed'): TurnError {
    return new TurnError('TURN_CLOSED', `TURN: ${msg}`);
  }
  static ABORTED(msg = 'aborted'): TurnError {
    return new TurnError('TURN_ABORTED', `TURN: ${msg}`);
  }
  static BAD_URL(msg: string): TurnError {
    return new TurnError('TURN_BAD_URL', `TURN URL: ${msg}`);
  }
}

/** True when `err` is a TurnError, optionally with the given code. */
export function isTurnError(err: unknown, code?: TurnErrorCode): err is TurnError {
  return err instanceof TurnError && (code === undefined || err.code === code);
}
