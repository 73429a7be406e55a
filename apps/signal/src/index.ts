/**
 * @packageDocumentation
 * `wormhole-signal`, the deployable signal server: flag/env parsing, signal handling and JSON
 * logs around `@wormhole/signal-server`.
 *
 * @example
 * ```sh
 * pnpm exec wormhole-signal --bind 127.0.0.1:8080
 * curl http://127.0.0.1:8080/ready
 * ```
 */
export { ConfigError, parseBind, parseConfig, type SignalConfig } from './config.js';
export { run } from './main.js';
