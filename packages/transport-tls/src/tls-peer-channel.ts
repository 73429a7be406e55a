import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import type { ChannelBinding, PathInfo, PeerChannel, PeerChannelEvents } from '@wormhole/transport';
import { EarlyMessages, TransportError } from '@wormhole/transport';
import { formatHostPort, LengthPrefixDecoder, lengthHeader } from '@wormhole/transport/direct';

/** How long a closed channel waits for the peer to finish the TLS shutdown before cutting it. */
const CLOSE_GRACE_MS = 2000;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What a channel needs besides its socket. */
export interface TlsChannelInit {
  readonly maxMessageBytes: number;
  readonly binding: ChannelBinding;
  /** Bytes that arrived with the handshake and already belong to the message stream. */
  readonly leftover: Buffer;
  /** Called once when the channel closes (the transport forgets it). */
  readonly onClosed: () => void;
  /**
   * Set when the TCP stream runs through a TURN relay (RFC 6062): which side owns the relayed
   * address, and the peer's address as this side knows it (default: the socket's remote end).
   */
  readonly relay?: { readonly side: 'host' | 'client'; readonly remoteAddress: string };
}

/** `PathInfo.protocol` of a tls channel carried over a TURN-over-TCP relay. */
export const RELAYED_PROTOCOL = 'tls/turn-tcp';

/**
 * A PeerChannel over one authenticated TLS 1.3 socket: u32 length-prefixed messages,
 * backpressure from `socket.write()`'s return value and 'drain'.
 */
export class TlsPeerChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly kind = 'tls' as const;
  readonly maxMessageBytes: number;
  readonly #socket: TLSSocket;
  readonly #binding: ChannelBinding;
  readonly #decoder: LengthPrefixDecoder;
  readonly #onClosed: () => void;
  readonly #remoteAddress: string | undefined;
  readonly #relaySide: 'host' | 'client' | undefined;
  #waiters: Waiter[] = [];
  // Messages that arrive before anyone listens: the peer may send the moment it is connected,
  // and the consumer attaches its listener only after awaiting `connected` (and possibly more).
  // Kept, not dropped; the stream keeps flowing so a peer's close is still seen.
  readonly #early: EarlyMessages;
  #closed = false;

  constructor(socket: TLSSocket, init: TlsChannelInit) {
    super();
    this.#socket = socket;
    this.maxMessageBytes = init.maxMessageBytes;
    this.#binding = init.binding;
    this.#onClosed = init.onClosed;
    this.#decoder = new LengthPrefixDecoder(init.maxMessageBytes);
    const { remoteAddress, remotePort } = socket;
    this.#remoteAddress =
      init.relay?.remoteAddress ??
      (remoteAddress !== undefined && remotePort !== undefined
        ? formatHostPort(remoteAddress, remotePort)
        : undefined);
    this.#relaySide = init.relay?.side;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('drain', () => this.#release());
    socket.on('error', (err) => this.#shutdown(false, `socket error: ${err.message}`));
    socket.on('end', () => this.#shutdown(false, 'closed by peer'));
    socket.on('close', () => this.#shutdown(false, 'connection lost'));
    this.#early = new EarlyMessages(
      this as EventEmitter,
      (m) => this.emit('message', m),
      () => this.#closed,
    );
    // Deliver what came with the handshake after the caller had a chance to add listeners.
    queueMicrotask(() => {
      if (init.leftover.byteLength > 0) this.#receive(init.leftover);
      if (!this.#closed) socket.resume();
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(TransportError.CLOSED());
    if (message.byteLength > this.maxMessageBytes) {
      return Promise.reject(
        new TransportError(
          'TRANSPORT_MESSAGE_TOO_LARGE',
          `message of ${message.byteLength} bytes exceeds ${this.maxMessageBytes}`,
        ),
      );
    }
    const socket = this.#socket;
    socket.cork();
    socket.write(lengthHeader(message.byteLength));
    const ok = socket.write(message);
    socket.uncork();
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  bufferedAmount(): number {
    return this.#closed ? 0 : this.#socket.writableLength;
  }

  close(reason = 'closed'): void {
    this.#shutdown(true, reason);
  }

  binding(): ChannelBinding {
    return this.#binding;
  }

  pathInfo(): PathInfo {
    const side = this.#relaySide;
    return {
      transport: 'tls',
      // The side that owns the TURN allocation sits behind the relay candidate.
      localCandidateType: side === 'host' ? 'relay' : 'direct',
      remoteCandidateType: side === 'client' ? 'relay' : 'direct',
      relayed: side !== undefined,
      remoteAddress: this.#remoteAddress,
      protocol: side === undefined ? 'tls' : RELAYED_PROTOCOL,
    };
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    let messages: Buffer[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      this.#shutdown(false, `framing error: ${(err as Error).message}`);
      return;
    }
    for (const m of messages) {
      if (this.#closed) return;
      // A plain Uint8Array view (no copy): the contract's type, not Node's Buffer subclass.
      const view = new Uint8Array(m.buffer, m.byteOffset, m.byteLength);
      this.#early.receive(view);
    }
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #shutdown(local: boolean, reason: string): void {
    if (this.#closed) return;
    // Deliver what already arrived before announcing the close.
    this.#early.close();
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(TransportError.CLOSED(`Connection is closed: ${reason}`));
    const socket = this.#socket;
    if (!socket.destroyed) {
      // end() flushes what is queued and sends close_notify; destroy() if the peer never answers.
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    this.#onClosed();
    this.emit('close', { local, reason });
  }
}
