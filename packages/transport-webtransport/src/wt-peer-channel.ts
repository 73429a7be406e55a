import { EventEmitter } from 'node:events';
import type { ChannelBinding, PathInfo, PeerChannel, PeerChannelEvents } from '@wormhole/transport';
import { EarlyMessages, TransportError } from '@wormhole/transport';
import { LengthPrefixDecoder } from '@wormhole/transport/direct';
import type { WtSession } from './native.js';

/**
 * Messages up to this size (with their length header) sent in the same tick leave as one
 * stream write. Each write costs the library a capsule, a node:http2 write and a DATA frame;
 * a client asking for several chunks at once otherwise pays that per request.
 */
const COALESCE_BYTES = 16 * 1024;

/** How long a locally closed channel waits for queued bytes to flush. */
const CLOSE_GRACE_MS = 2000;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What a channel needs besides its session and stream. */
export interface WtChannelInit {
  readonly maxMessageBytes: number;
  readonly binding: ChannelBinding;
  /** Bytes that arrived with the handshake and already belong to the message stream. */
  readonly leftover: Buffer;
  readonly remoteAddress: string | undefined;
  readonly protocol: 'quic' | 'http2';
  /** Called once when the channel closes (the transport forgets it). */
  readonly onClosed: (channel: WtPeerChannel) => void;
}

/**
 * A PeerChannel over one WebTransport session and its single bidirectional stream:
 * u32 length-prefixed messages; backpressure from the stream writer's `ready`.
 */
export class WtPeerChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly kind = 'webtransport' as const;
  readonly maxMessageBytes: number;
  readonly #session: WtSession;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #init: WtChannelInit;
  readonly #decoder: LengthPrefixDecoder;
  #waiters: Waiter[] = [];
  // Messages that arrive before anyone listens: the peer may send the moment it is connected,
  // and the consumer attaches its listener only after awaiting `connected` (and possibly more).
  // Kept, not dropped; the stream keeps flowing so a peer's close is still seen.
  readonly #early: EarlyMessages;
  #queued = 0;
  #closed = false;
  /** Small framed messages waiting for this tick's end, written as one. */
  #batch: Buffer[] = [];
  #batchBytes = 0;

  constructor(
    session: WtSession,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    init: WtChannelInit,
  ) {
    super();
    this.#session = session;
    this.#reader = reader;
    this.#writer = writer;
    this.#init = init;
    this.maxMessageBytes = init.maxMessageBytes;
    this.#decoder = new LengthPrefixDecoder(init.maxMessageBytes);
    session.closed.then(
      () => this.#shutdown(false, 'closed by peer'),
      (err: unknown) => this.#shutdown(false, `session lost: ${(err as Error)?.message ?? String(err)}`),
    );
    this.#early = new EarlyMessages(
      this as EventEmitter,
      (m) => this.emit('message', m),
      () => this.#closed,
    );
    // Start reading after the caller had a chance to add listeners.
    queueMicrotask(() => void this.#readLoop());
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
    const n = message.byteLength + 4;
    this.#queued += n;
    // One write per message: each stream write becomes its own frame in the library, so
    // header + body in one buffer halves the per-message overhead (measured).
    const framed = Buffer.allocUnsafe(n);
    framed.writeUInt32BE(message.byteLength, 0);
    framed.set(message, 4);
    if (n <= COALESCE_BYTES) {
      this.#batch.push(framed);
      this.#batchBytes += n;
      if (this.#batch.length === 1) queueMicrotask(() => this.#flush());
    } else {
      // In order: what is batched goes first.
      this.#flush();
      this.#write(framed, n);
    }
    const desired = this.#writer.desiredSize;
    if (desired !== null && desired > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#writer.ready.then(
        () => this.#release(),
        () => {},
      );
    });
  }

  #flush(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes), bytes);
  }

  #write(chunk: Buffer, n: number): void {
    this.#writer.write(chunk).then(
      () => {
        this.#queued -= n;
      },
      (err: unknown) => {
        this.#queued -= n;
        this.#shutdown(false, `stream write failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  }

  bufferedAmount(): number {
    return this.#closed ? 0 : this.#queued;
  }

  close(reason = 'closed'): void {
    this.#shutdown(true, reason);
  }

  binding(): ChannelBinding {
    return this.#init.binding;
  }

  pathInfo(): PathInfo {
    return {
      transport: 'webtransport',
      localCandidateType: 'direct',
      remoteCandidateType: 'direct',
      relayed: false,
      remoteAddress: this.#init.remoteAddress,
      protocol: this.#init.protocol,
    };
  }

  async #readLoop(): Promise<void> {
    try {
      if (this.#init.leftover.byteLength > 0) this.#receive(this.#init.leftover);
      while (!this.#closed) {
        const { done, value } = await this.#reader.read();
        if (done) {
          this.#shutdown(false, 'closed by peer');
          return;
        }
        this.#receive(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (err) {
      this.#shutdown(false, `stream read failed: ${(err as Error)?.message ?? String(err)}`);
    }
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
    // What send() accepted before a local close still goes out (then the writer closes).
    if (local) this.#flush();
    else {
      this.#batch = [];
      this.#batchBytes = 0;
    }
    // Deliver what already arrived before announcing the close.
    this.#early.close();
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(TransportError.CLOSED(`Connection is closed: ${reason}`));
    this.#reader.cancel().catch(() => {});
    const closeSession = (): void => {
      try {
        this.#session.close({ closeCode: 0, reason: reason.slice(0, 100) });
      } catch {
        // already closed by the peer
      }
    };
    if (local) {
      // Flush what was queued before close() (as TLS's end() does), but never wait forever.
      const timer = setTimeout(closeSession, CLOSE_GRACE_MS);
      timer.unref();
      this.#writer.close().then(
        () => {
          clearTimeout(timer);
          closeSession();
        },
        () => {
          clearTimeout(timer);
          closeSession();
        },
      );
    } else {
      this.#writer.abort().catch(() => {});
      closeSession();
    }
    this.#init.onClosed(this);
    this.emit('close', { local, reason });
  }
}
