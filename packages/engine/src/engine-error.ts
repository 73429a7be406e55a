import { AppError } from '@wormhole/protocol';

/** Engine-level failures: things that are not a file-system answer from the host. */
export type EngineErrorCode =
  | 'ENGINE_CLOSED'
  | 'ENGINE_ABORTED'
  | 'ENGINE_CONNECT_FAILED'
  | 'ENGINE_HELLO_TIMEOUT'
  | 'ENGINE_VERSION_MISMATCH'
  | 'ENGINE_PROTOCOL_VIOLATION'
  | 'ENGINE_BAD_ROOT';

/** Thrown by the host and client for lifecycle and protocol failures (never for a POSIX answer). */
export class EngineError extends AppError<EngineErrorCode> {
  static CLOSED(msg = 'The engine object is closed'): EngineError {
    return new EngineError('ENGINE_CLOSED', msg);
  }
  static ABORTED(msg = 'The call was aborted by its AbortSignal'): EngineError {
    return new EngineError('ENGINE_ABORTED', msg);
  }
  static CONNECT_FAILED(msg: string, cause?: unknown): EngineError {
    return new EngineError('ENGINE_CONNECT_FAILED', msg, { cause });
  }
  static HELLO_TIMEOUT(ms: number): EngineError {
    return new EngineError('ENGINE_HELLO_TIMEOUT', `The peer sent no HELLO within ${ms} ms`, {
      details: { ms },
    });
  }
  static VERSION_MISMATCH(ours: number, theirs: number): EngineError {
    return new EngineError(
      'ENGINE_VERSION_MISMATCH',
      `Peer speaks protocol version ${theirs}, this side speaks ${ours}`,
      { details: { ours, theirs } },
    );
  }
  static PROTOCOL_VIOLATION(msg: string, cause?: unknown): EngineError {
    return new EngineError('ENGINE_PROTOCOL_VIOLATION', msg, { cause });
  }
  static BAD_ROOT(root: string, cause?: unknown): EngineError {
    return new EngineError('ENGINE_BAD_ROOT', `Share root ${root} is not a readable directory`, {
      cause,
      details: { root },
    });
  }
}
