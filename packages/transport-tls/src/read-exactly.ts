import type { Socket } from 'node:net';

/**
 * Reads exactly `n` bytes from a socket, then pauses it so nothing is lost before the next
 * reader attaches: the caller must `resume()` it. Resolves with the bytes and whatever arrived
 * after them; rejects when the socket ends, errors or `signal` fires first.
 */
export function readExactly(
  socket: Socket,
  n: number,
  signal: AbortSignal,
): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.byteLength;
      if (have < n) return;
      socket.pause();
      cleanup();
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      resolve({ head: all.subarray(0, n), rest: all.subarray(n) });
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`connection ended after ${have} of ${n} handshake bytes`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    if (signal.aborted) return reject(signal.reason);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.resume();
  });
}
