import { createHash } from 'node:crypto';
import type { PeerChannel } from '../peer-channel.js';
import type { Transport, TransportSignal } from '../transport.js';

/** Connects a host and a client session of two transports by passing signals directly. */
export async function connectPair(
  hostSide: Transport,
  clientSide: Transport,
  tamper: (s: TransportSignal) => TransportSignal = (s) => s,
): Promise<{ host: PeerChannel; client: PeerChannel }> {
  const ac = new AbortController();
  const host = hostSide.createSession('host', { signal: ac.signal });
  const client = clientSide.createSession('client', { signal: ac.signal });
  host.onSignal((s) => client.handleSignal(tamper(s)));
  try {
    const [h, c] = await Promise.all([host.connected, client.connected]);
    return { host: h, client: c };
  } catch (err) {
    host.close();
    client.close();
    throw err;
  }
}

/** Resolves with the next `count` messages of a channel. */
export function collect(ch: PeerChannel, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const out: Uint8Array[] = [];
    const on = (m: Uint8Array): void => {
      out.push(m);
      if (out.length === count) {
        ch.off('message', on);
        resolve(out);
      }
    };
    ch.on('message', on);
  });
}

/** Streams `total` bytes of deterministic data through `from`, awaiting backpressure; returns sha256. */
export async function pump(from: PeerChannel, total: number, chunk: number): Promise<string> {
  const h = createHash('sha256');
  let sent = 0;
  let i = 0;
  while (sent < total) {
    const n = Math.min(chunk, total - sent);
    const buf = Buffer.allocUnsafe(n);
    buf.fill(i++ & 0xff);
    buf.writeUInt32BE(i, 0);
    h.update(buf);
    await from.send(buf);
    sent += n;
  }
  return h.digest('hex');
}

/** Receives `total` bytes on `to`; resolves with their sha256. */
export function drain(to: PeerChannel, total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let got = 0;
    to.on('message', (m) => {
      h.update(m);
      got += m.byteLength;
      if (got === total) resolve(h.digest('hex'));
    });
    to.once('close', (info) => {
      if (got < total) reject(new Error(`closed after ${got} bytes: ${info.reason}`));
    });
  });
}

/** Counts the active handles of this process, by type. */
export function handleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').length;
}
