// A PeerChannel over a plain TCP socket on 127.0.0.1: the test double across the transport
// interface until the real transports are used. Messages are u32-length-prefixed; `send`
// resolves when the socket takes more (write() true) or on 'drain' — real backpressure.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type {
  ChannelBinding,
  CloseInfo,
  PathInfo,
  PeerChannel,
  PeerChannelEvents,
} from '@wormhole/transport';

const MAX = 4 * 1024 * 1024;

class NetChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly kind = 'tls' as const;
  readonly maxMessageBytes: number;
  readonly socket: net.Socket;
  #closed = false;
  #localClose = false;
  #buf: Buffer = Buffer.alloc(0);

  constructor(socket: net.Socket, maxMessageBytes = MAX) {
    super();
    this.socket = socket;
    this.maxMessageBytes = maxMessageBytes;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', () => {});
    socket.on('close', () => this.#finish(this.#localClose, 'socket closed'));
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#closed || this.socket.destroyed) return Promise.reject(new Error('TRANSPORT_CLOSED'));
    if (message.byteLength > this.maxMessageBytes)
      return Promise.reject(new Error('TRANSPORT_MESSAGE_TOO_LARGE'));
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(message.byteLength, 0);
    this.socket.write(head);
    const ok = this.socket.write(message);
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(new Error('TRANSPORT_CLOSED'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  bufferedAmount(): number {
    return this.socket.writableLength;
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#localClose = true;
    this.socket.end();
    // Give queued bytes (a goodbye) a moment, then make sure the fd goes.
    setTimeout(() => this.socket.destroy(), 200).unref();
    this.#finish(true, reason);
  }

  binding(): ChannelBinding {
    return { local: '', remote: '' };
  }

  pathInfo(): PathInfo {
    return {
      transport: 'tls',
      localCandidateType: 'direct',
      remoteCandidateType: 'direct',
      relayed: false,
      remoteAddress: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
      protocol: 'tcp',
    };
  }

  #finish(local: boolean, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const info: CloseInfo = { local, reason };
    this.emit('close', info);
    this.removeAllListeners('message');
  }

  #onData(d: Buffer): void {
    if (this.#closed) return;
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    while (this.#buf.length >= 4) {
      const n = this.#buf.readUInt32BE(0);
      if (n > MAX) {
        this.socket.destroy();
        return;
      }
      if (this.#buf.length < 4 + n) break;
      const msg = this.#buf.subarray(4, 4 + n);
      this.#buf = this.#buf.subarray(4 + n);
      this.emit('message', msg);
      if (this.#closed) return;
    }
  }
}

/** `maxMessageBytes` imitates a transport with a small message limit (DataChannel: 256 KiB). */
export function socketChannel(
  socket: net.Socket,
  maxMessageBytes = MAX,
): PeerChannel & { socket: net.Socket } {
  return new NetChannel(socket, maxMessageBytes);
}

export interface ChannelServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and hands every accepted socket to `onChannel` as a PeerChannel. */
export async function listenChannels(
  onChannel: (ch: PeerChannel) => void,
  port = 0,
  maxMessageBytes = MAX,
): Promise<ChannelServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    onChannel(socketChannel(s, maxMessageBytes));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Dials 127.0.0.1:port and resolves with the connected channel. */
export function dialChannel(
  port: number,
  maxMessageBytes = MAX,
): Promise<PeerChannel & { socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.off('error', reject);
      resolve(socketChannel(s, maxMessageBytes));
    });
    s.once('error', reject);
  });
}
