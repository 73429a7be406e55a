/**
 * @packageDocumentation
 * Direct WebTransport transport (@fails-components/webtransport): HTTP/3 over QUIC where the
 * native quiche part is installed, the library's HTTP/2 mode otherwise. The host's session
 * emits one `listen` signal (addresses, certificate hash, single-use token); the client dials
 * with the hash as `serverCertificateHashes` and presents the token on the session's one
 * bidirectional stream.
 *
 * @example
 * ```ts
 * import { webTransportTransport } from '@wormhole/transport-webtransport';
 * const hostSide = webTransportTransport({ listenHost: '127.0.0.1', advertiseAddresses: ['127.0.0.1'] });
 * const clientSide = webTransportTransport();
 * const ac = new AbortController();
 * const host = hostSide.createSession('host', { signal: ac.signal });
 * const client = clientSide.createSession('client', { signal: ac.signal });
 * host.onSignal((s) => client.handleSignal(s)); // in real use: through the PAKE-encrypted room
 * const [h, c] = await Promise.all([host.connected, client.connected]);
 * h.on('message', (m) => console.log(Buffer.from(m).toString()));
 * await c.send(Buffer.from('hello'));
 * await Promise.all([hostSide.close(), clientSide.close()]);
 * ```
 */
export type { ListenSignal } from '@wormhole/transport/direct';
export { type WtMode, webTransportMode } from './native.js';
export type { WebTransportTransportOptions } from './options.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './options.js';
export { webTransportTransport } from './wt-transport.js';
