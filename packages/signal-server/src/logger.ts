import { type Level, type Logger, pino } from 'pino';

/** Logger levels accepted by {@link createSignalLogger} and the `logger` option. */
export type LogLevel = Level | 'silent';

/**
 * A JSON-lines pino logger on stdout in the server's format: `time` ISO-8601, `level` as a word,
 * `msg`, and secrets/payload fields redacted should they ever be passed.
 */
export function createSignalLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Defence in depth: the server never passes these, but a future log call must not leak them.
    redact: {
      paths: ['payload', 'secret', 'credential', '*.payload', '*.secret', '*.credential'],
      censor: '[redacted]',
    },
  });
}

/**
 * The server's logger: the caller's pino instance (as a child), or a new one writing JSON lines
 * (`time` ISO-8601, `level` as a word, `msg`) to stdout at the given level.
 */
export function createLogger(logger: Logger | Level | 'silent' | undefined, serverId: string): Logger {
  if (typeof logger === 'object' && logger !== null) return logger.child({ serverId });
  return createSignalLogger(logger ?? 'silent', { serverId });
}
