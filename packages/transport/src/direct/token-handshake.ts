/**
 * The small handshake both direct transports run before messages flow (inside TLS for `tls`,
 * on the session's one bidirectional stream for `webtransport`):
 *   client → host: u32 32, then the 32 token bytes from the host's listen signal
 *   host → client: u32 1, then 0x01 (accepted); an unknown token gets the connection closed
 */
export const TOKEN_BYTES = 32;
export const ACK = Buffer.from([0, 0, 0, 1, 1]);
/** How long an accepted connection may take to present its token. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The token frame a client sends. */
export function tokenFrame(token: string): Buffer {
  const raw = Buffer.from(token, 'base64url');
  const out = Buffer.allocUnsafe(4 + raw.byteLength);
  out.writeUInt32BE(raw.byteLength, 0);
  raw.copy(out, 4);
  return out;
}
