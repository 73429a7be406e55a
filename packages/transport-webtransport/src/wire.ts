/** Path of the WebTransport session; the token handshake is in `@wormhole/transport/direct`. */
export const SESSION_PATH = '/wormhole/1';
