import { EventEmitter } from 'node:events';
import type { ChannelBinding, PathInfo, PeerChannel, PeerChannelEvents } from '@wormhole/transport';
import { EarlyMessages, TransportError } from '@wormhole/transport';
import type { NativeDataChannel, NativePeerConnection } from './native.js';
import { pathInfoFromPair } from './path-info.js';

/** What a session hands to the channel it produced. */
export interface ChannelInit {
  readonly pc: NativePeerConnection;
  readonly dc: NativeDataChannel;
  readonly maxMessageBytes: number;
  readonly highWaterMarkBytes: number;
  readonly binding: ChannelBinding;
  /** Called once, after the native objects are closed. */
  readonly onRelease: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A PeerChannel over one reliable, ordered DataChannel. Owns its PeerConnection. */
export class DataChannelPeerChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly kind = 'datachannel' as const;
  readonly maxMessageBytes: number;
  readonly #pc: NativePeerConnection;
  readonly #dc: NativeDataChannel;
  readonly #highWaterMark: number;
  readonly #binding: ChannelBinding;
  readonly #onRelease: () => void;
  #closed = false;
  #path: PathInfo;
  #waiters: Waiter[] = [];
  // Messages that arrive before anyone listens: the peer may send the moment its side opens,
  // and the consumer attaches its listener only after awaiting `connected`.
  readonly #early: EarlyMessages;

  constructor(init: ChannelInit) {
    super();
    this.#pc = init.pc;
    this.#dc = init.dc;
    this.#highWaterMark = init.highWaterMarkBytes;
    this.#binding = init.binding;
    this.#onRelease = init.onRelease;
    // The negotiated limit (the peer's a=max-message-size) may be smaller than ours.
    this.maxMessageBytes = Math.min(
      init.maxMessageBytes,
      safe(() => init.dc.maxMessageSize(), init.maxMessageBytes),
    );
    this.#path = pathInfoFromPair(safe(() => init.pc.getSelectedCandidatePair(), null));

    // Before any native callback is wired: a message may arrive on the next tick.
    this.#early = new EarlyMessages(
      this as EventEmitter,
      (m) => this.#emitSafely('message', m),
      () => this.#closed,
    );
    this.#dc.setBufferedAmountLowThreshold(this.#highWaterMark);
    this.#dc.onBufferedAmountLow(() => this.#drain());
    this.#dc.onMessage((msg) => {
      if (this.#closed) return;
      if (typeof msg === 'string') {
        this.#shutdown(false, 'protocol violation: peer sent a text message');
        return;
      }
      // A plain Uint8Array view (no copy): the contract promises Uint8Array, not Buffer.
      const bytes =
        msg instanceof ArrayBuffer
          ? new Uint8Array(msg)
          : new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      this.#early.receive(bytes);
    });
    this.#dc.onClosed(() => this.#shutdown(false, 'peer closed the channel'));
    this.#dc.onError((err) => this.#shutdown(false, `channel error: ${err}`));
    this.#pc.onStateChange((state) => {
      if (state === 'failed' || state === 'closed' || state === 'disconnected') {
        this.#shutdown(false, `peer connection ${state}`);
      }
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
          `message of ${message.byteLength} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`,
        ),
      );
    }
    try {
      this.#dc.sendMessageBinary(message);
    } catch (cause) {
      // libdatachannel throws once the channel is closed underneath us.
      this.#shutdown(false, 'send failed: channel closed');
      return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'Connection is closed', { cause }));
    }
    if (this.#dc.bufferedAmount() <= this.#highWaterMark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  bufferedAmount(): number {
    if (this.#closed) return 0;
    return safe(() => this.#dc.bufferedAmount(), 0);
  }

  close(reason = 'closed'): void {
    this.#shutdown(true, reason);
  }

  binding(): ChannelBinding {
    return this.#binding;
  }

  pathInfo(): PathInfo {
    // The selected pair can change after connect (ICE keeps nominating); read it live.
    if (!this.#closed) {
      const pair = safe(() => this.#pc.getSelectedCandidatePair(), null);
      if (pair !== null) this.#path = pathInfoFromPair(pair);
    }
    return this.#path;
  }

  #drain(): void {
    if (this.#closed || this.#waiters.length === 0) return;
    // A stale low event can arrive after the buffer refilled; the next one will follow.
    if (this.#dc.bufferedAmount() > this.#highWaterMark) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #shutdown(local: boolean, reason: string): void {
    if (this.#closed) return;
    // Deliver what already arrived before announcing the close.
    this.#early.close();
    this.#path = this.pathInfo();
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(TransportError.CLOSED());
    safe(() => this.#dc.close(), undefined);
    safe(() => this.#pc.close(), undefined);
    this.#onRelease();
    this.#emitSafely('close', { local, reason });
  }

  /**
   * Emits from inside a native callback, where a throwing listener would abort the process
   * (std::terminate); rethrow on the next tick as an ordinary uncaught exception instead.
   */
  #emitSafely<K extends keyof PeerChannelEvents>(event: K, ...args: PeerChannelEvents[K]): void {
    try {
      (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/** Runs a native call that may throw once its object is closed. */
export function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
