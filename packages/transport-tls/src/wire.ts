/** ALPN of the direct TLS transport; the token handshake is in `@wormhole/transport/direct`. */
export const ALPN = 'wormhole/1';
