import type { Socket } from 'node:net';
import type { LongTermAuth } from './long-term-auth.js';
import { readErrorCode, u32Attribute } from './stun-attributes.js';
import { Attr, Method } from './stun-constants.js';
import {
  decodeStunMessage,
  encodeStunMessage,
  newTransactionId,
  type StunMessage,
  stunMessageLength,
  verifyIntegrity,
} from './stun-message.js';
import { DEFAULT_TURN_TIMEOUT_MS, openSocket } from './stun-tcp-connection.js';
import { TurnError } from './turn-error.js';

/** A data connection after a successful ConnectionBind: from here on a plain byte stream to the peer. */
export interface BoundConnection {
  /** Paused; the caller resumes it (after feeding `rest` to whoever reads it). */
  readonly socket: Socket;
  /** Peer bytes that arrived in the same segment as the ConnectionBind answer. */
  readonly rest: Buffer;
}

/**
 * RFC 6062 §5.4: opens a new TCP connection to the server and sends an authenticated
 * ConnectionBind for `connectionId` (from a ConnectionAttempt indication or a Connect answer).
 * On success the connection carries the peer's bytes, unframed. A stale nonce (438) is
 * learned and the bind retried once on a fresh connection (the server closes the old one).
 */
export async function bindConnection(
  server: { host: string; port: number },
  auth: LongTermAuth,
  connectionId: number,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<BoundConnection> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    const key = auth.key;
    if (key === undefined) throw TurnError.PROTOCOL('ConnectionBind before the allocation authenticated');
    const socket = await openSocket(server.host, server.port, timeoutMs, options.signal);
    const transactionId = newTransactionId();
    socket.write(
      encodeStunMessage(
        {
          method: Method.ConnectionBind,
          cls: 'request',
          transactionId,
          attributes: [u32Attribute(Attr.ConnectionId, connectionId), ...auth.attributes()],
        },
        { key, withFingerprint: true },
      ),
    );
    let answer: StunMessage;
    let rest: Buffer;
    try {
      ({ answer, rest } = await readOneMessage(socket, timeoutMs, options.signal));
      if (!answer.transactionId.equals(transactionId) || answer.method !== Method.ConnectionBind)
        throw TurnError.PROTOCOL('answer does not match the ConnectionBind request');
      if (answer.cls === 'success') {
        verifyIntegrity(answer, key);
        // Whoever takes the stream adds its own handlers; until then an error must not crash us.
        socket.on('error', () => {});
        return { socket, rest };
      }
      const err = readErrorCode(answer);
      if (err?.status === 438 && attempt === 0) {
        auth.learn(answer);
        socket.destroy();
        continue;
      }
      if (err?.status === 401) throw TurnError.AUTH_FAILED('ConnectionBind', 401, err.reason);
      throw TurnError.ERROR_RESPONSE('ConnectionBind', err?.status ?? 0, err?.reason ?? 'no ERROR-CODE');
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }
}

/** Reads exactly one STUN message from the start of a stream, then pauses the socket. */
function readOneMessage(
  socket: Socket,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ answer: StunMessage; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (e: TurnError): void => {
      cleanup();
      reject(e);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.byteLength === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        const size = stunMessageLength(buf);
        if (size === undefined || buf.byteLength < size) return;
        socket.pause();
        cleanup();
        resolve({ answer: decodeStunMessage(Buffer.from(buf.subarray(0, size))), rest: buf.subarray(size) });
      } catch (e) {
        fail(e instanceof TurnError ? e : TurnError.MALFORMED(String(e)));
      }
    };
    const onClose = (): void =>
      fail(TurnError.CLOSED('server closed the data connection during ConnectionBind'));
    const onError = (e: Error): void => fail(TurnError.CLOSED(`data connection error: ${e.message}`));
    const onAbort = (): void => fail(TurnError.ABORTED());
    const timer = setTimeout(
      () => fail(TurnError.TIMEOUT(`no answer to ConnectionBind within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
