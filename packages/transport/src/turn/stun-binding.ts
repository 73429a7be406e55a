import { decodeXorAddress, type StunAddress } from './stun-attributes.js';
import { Attr, Method } from './stun-constants.js';
import { getAttribute } from './stun-message.js';
import { StunTcpConnection } from './stun-tcp-connection.js';
import { TurnError } from './turn-error.js';

/**
 * A STUN Binding request over TCP (RFC 8489 §6.2.2): the address the server sees this side's
 * TCP connections come from. Behind a NAT that is the public IP a TURN server will see when
 * this side connects to a relayed address of the same server, so a peer can install a
 * permission for it. Rejects with a TurnError.
 */
export async function tcpBinding(
  server: { host: string; port: number },
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<StunAddress> {
  const conn = await StunTcpConnection.open(server.host, server.port, options);
  const onAbort = (): void => conn.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const answer = await conn.request(Method.Binding, []);
    const xor = getAttribute(answer, Attr.XorMappedAddress);
    if (xor === undefined) throw TurnError.PROTOCOL('Binding answer without XOR-MAPPED-ADDRESS');
    return decodeXorAddress(xor, answer.transactionId);
  } catch (err) {
    if (options.signal?.aborted) throw TurnError.ABORTED();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    conn.close();
  }
}
