/**
 * @packageDocumentation
 * Test helpers for the TURN-over-TCP client: a real coturn on 127.0.0.1 with TURN REST
 * credentials.
 *
 * @example
 * ```ts
 * import { startCoturn } from '@wormhole/transport/turn/testing';
 * const turn = await startCoturn();
 * const iceServers = [turn.iceServer()]; // turn:user:pass@127.0.0.1:PORT?transport=tcp
 * await turn.stop();
 * ```
 */
export { coturnUnavailableReason, startCoturn, type TestCoturn } from './coturn.js';
