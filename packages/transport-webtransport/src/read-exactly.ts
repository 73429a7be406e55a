/**
 * Reads exactly `n` bytes from a stream reader. Resolves with them and whatever arrived after
 * them (the reader stays usable for the message stream); rejects when the stream ends first
 * or `signal` fires.
 */
export async function readExactly(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
  signal: AbortSignal,
): Promise<{ head: Buffer; rest: Buffer }> {
  const chunks: Buffer[] = [];
  let have = 0;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    while (have < n) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) throw new Error(`stream ended after ${have} of ${n} handshake bytes`);
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      have += value.byteLength;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
  return { head: all.subarray(0, n), rest: all.subarray(n) };
}
