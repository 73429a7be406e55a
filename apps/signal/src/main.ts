import { createSignalLogger, createSignalServer, type SignalServer } from '@wormhole/signal-server';
import { ConfigError, helpText, parseConfig } from './config.js';

/**
 * Runs `wormhole-signal`: parses flags and env, starts the server, and on SIGTERM/SIGINT drains
 * (clients get `closing`), closes and exits 0 — or exits 1 if that takes longer than the
 * shutdown bound. Exit 2 on a configuration error, 1 if the server cannot start.
 */
export async function run(argv: readonly string[] = process.argv.slice(2), env = process.env): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`wormhole-signal: ${err.message}\n\n${helpText()}`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    return;
  }
  const log = createSignalLogger(config.logLevel, { app: 'wormhole-signal' });
  let server: SignalServer;
  try {
    server = await createSignalServer({ ...config.server, logger: log });
  } catch (err) {
    log.fatal({ err: (err as Error).message, code: (err as { code?: string }).code }, 'cannot start');
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const hard = setTimeout(() => {
      log.error('shutdown bound exceeded; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    hard.unref();
    server.close().then(
      () => {
        log.info('bye');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
