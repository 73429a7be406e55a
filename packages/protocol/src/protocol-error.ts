import { AppError } from './app-error.js';

/** Every way a peer frame, signal message or join code can be malformed. */
export type ProtocolErrorCode =
  | 'PROTOCOL_TRUNCATED'
  | 'PROTOCOL_FRAME_TOO_LARGE'
  | 'PROTOCOL_BAD_VERSION'
  | 'PROTOCOL_UNKNOWN_KIND'
  | 'PROTOCOL_UNKNOWN_OP'
  | 'PROTOCOL_BAD_BODY'
  | 'PROTOCOL_BAD_MESSAGE'
  | 'PROTOCOL_MESSAGE_TOO_LARGE'
  | 'PROTOCOL_BAD_JOIN_CODE';

/** Thrown by every decoder in this package; nothing else ever escapes a decode call. */
export class ProtocolError extends AppError<ProtocolErrorCode> {
  static TRUNCATED(msg = 'Frame is truncated'): ProtocolError {
    return new ProtocolError('PROTOCOL_TRUNCATED', msg);
  }
  static FRAME_TOO_LARGE(size: number, max: number): ProtocolError {
    return new ProtocolError(
      'PROTOCOL_FRAME_TOO_LARGE',
      `Frame of ${size} bytes exceeds the ${max}-byte limit`,
      {
        details: { size, max },
      },
    );
  }
  static BAD_VERSION(version: number): ProtocolError {
    return new ProtocolError('PROTOCOL_BAD_VERSION', `Unsupported protocol version ${version}`, {
      details: { version },
    });
  }
  static UNKNOWN_KIND(kind: number): ProtocolError {
    return new ProtocolError('PROTOCOL_UNKNOWN_KIND', `Unknown frame kind ${kind}`, { details: { kind } });
  }
  static UNKNOWN_OP(op: number): ProtocolError {
    return new ProtocolError('PROTOCOL_UNKNOWN_OP', `Unknown operation ${op}`, { details: { op } });
  }
  static BAD_BODY(msg: string, cause?: unknown): ProtocolError {
    return new ProtocolError('PROTOCOL_BAD_BODY', msg, { cause });
  }
  static BAD_MESSAGE(msg: string, cause?: unknown): ProtocolError {
    return new ProtocolError('PROTOCOL_BAD_MESSAGE', msg, { cause });
  }
  static MESSAGE_TOO_LARGE(size: number, max: number): ProtocolError {
    return new ProtocolError(
      'PROTOCOL_MESSAGE_TOO_LARGE',
      `Message of ${size} bytes exceeds the ${max}-byte limit`,
      {
        details: { size, max },
      },
    );
  }
  static BAD_JOIN_CODE(msg: string): ProtocolError {
    return new ProtocolError('PROTOCOL_BAD_JOIN_CODE', msg);
  }
}
