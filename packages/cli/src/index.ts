/**
 * @packageDocumentation
 * The `wormhole` command line: share, mount, unmount, get, status, cache, doctor, signal, config.
 *
 * @example
 * ```ts
 * import { runCli } from '@wormhole/cli';
 * const code = await runCli(['status', '--json']);
 * ```
 */
export { CliError, type CliErrorCode, EXIT, exitCodeFor } from './cli-error.js';
export type { WormholeConfig } from './config/config-schema.js';
export { loadConfig, readConfigFile } from './config/load-config.js';
export { runCli } from './main.js';
