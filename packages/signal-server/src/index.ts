/**
 * @packageDocumentation
 * Wormhole's signal (rendezvous) server as a library: rooms with short numeric nameplates, opaque
 * relay between the peers of a room, limits answered with typed errors, `/health`, `/ready`,
 * `/metrics`, TLS, graceful drain, and optional Redis for running many instances. It never
 * calls `process.exit` or installs signal handlers, so the CLI and desktop app can embed it.
 *
 * @example
 * ```ts
 * import { createSignalServer } from '@wormhole/signal-server';
 * const server = await createSignalServer({ host: '127.0.0.1', port: 0, logger: 'info' });
 * console.log(server.url);   // ws://127.0.0.1:40123 — give this to peers
 * // ... later
 * await server.close();      // clients get {type:'closing', reason:'shutdown'}
 * ```
 */
export { SignalServerError, type SignalServerErrorCode } from './errors.js';
export { createSignalLogger, type LogLevel } from './logger.js';
export { nameplateDigits } from './nameplates.js';
export type { RateLimitOptions, SignalServerOptions } from './options.js';
export { createSignalServer, type SignalServer } from './server.js';
export { type TurnCredentials, type TurnOptions, turnCredentials } from './turn.js';
