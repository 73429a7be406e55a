import { type Level, type Logger, pino } from 'pino';

/**
 * The server's logger: the caller's pino instance (as a child), or a new one writing JSON lines
 * (`time` ISO-8601, `level` as a word, `msg`) to stdout at the given level.
 */
export function createLogger(logger: Logger | Level | 'silent' | undefined, serverId: string): Logger {
  if (typeof logger === 'object' && logger !== null) return logger.child({ serverId });
  return pino({
    level: logger ?? 'silent',
    base: { serverId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Defence in depth: the server never passes these, but a future log call must not leak them.
    redact: {
      paths: ['payload', 'secret', 'credential', '*.payload', '*.secret', '*.credential'],
      censor: '[redacted]',
    },
  });
}
