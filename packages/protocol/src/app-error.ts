/**
 * The root of every error Wormhole throws on purpose. Each package subclasses it once
 * (`ProtocolError`, `TransportError`, `CacheError`, ...) with a string-literal union of
 * stable `UPPER_SNAKE` codes, so callers branch on `err.code` and never on message text.
 */
export class AppError<Code extends string = string> extends Error {
  /** Stable, documented, machine-readable code. Never changes meaning once released. */
  readonly code: Code;
  /** Optional structured detail that is safe to log (never secrets, never payloads). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    // `name` is the concrete class name so both `err.name` and `instanceof` checks work.
    this.name = new.target.name;
  }

  /** A plain object that survives JSON, IPC and worker boundaries. */
  toJSON(): { name: string; code: Code; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` is an AppError (or subclass), optionally with the given code. */
export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
