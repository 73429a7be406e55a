/** Minimal structured logger the engine writes to; pino and console both fit. */
export interface Logger {
  debug?(msg: string, details?: Record<string, unknown>): void;
  info?(msg: string, details?: Record<string, unknown>): void;
  warn?(msg: string, details?: Record<string, unknown>): void;
  error?(msg: string, details?: Record<string, unknown>): void;
}

/** Drops everything. */
export const silentLogger: Logger = {};
