import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  ChannelBinding,
  CloseInfo,
  PathInfo,
  PeerChannel,
  PeerChannelEvents,
  TransportKind,
} from '../peer-channel.js';
import type { ConnectOptions, Transport, TransportSession, TransportSignal } from '../transport.js';
import { TransportError } from '../transport-error.js';

export interface MemoryTransportOptions {
  /** Kind it pretends to be. Default 'datachannel'. */
  readonly kind?: TransportKind;
  /** Default 256 KiB, like a DataChannel. */
  readonly maxMessageBytes?: number;
  /** Queue size above which `send` waits (backpressure). Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Reported by `isAvailable()`. Default true. */
  readonly available?: boolean;
  /**
   * Rewrites the remote fingerprint this side sees, simulating a man in the middle that
   * presents its own certificate. Channel binding must catch it.
   */
  readonly tamperRemoteFingerprint?: (fingerprint: string) => string;
  /** Never connects (a transport that loses every race). */
  readonly neverConnect?: boolean;
  /** Client sessions fail at once with TRANSPORT_CONNECT_FAILED (a host nobody can reach this way). */
  readonly failClient?: boolean;
  /** `Transport.raceDelayMs`. */
  readonly raceDelayMs?: number;
  /** Called for every session created (tests count attempts). */
  readonly onSession?: (role: 'host' | 'client') => void;
}

/** Host sessions waiting for a client, by offer id. Process-wide, like a loopback network. */
const listening = new Map<string, MemorySession>();

function fingerprint(): string {
  // Fake but distinct per session: the SHA-256 of random "certificate" bytes.
  return createHash('sha256').update(randomBytes(32)).digest('hex');
}

class MemoryTransport implements Transport {
  readonly kind: TransportKind;
  readonly [Symbol.toStringTag] = '@wormhole/transport/testing:memory';
  readonly opts: MemoryTransportOptions;
  readonly sessions = new Set<MemorySession>();
  constructor(opts: MemoryTransportOptions) {
    this.kind = opts.kind ?? 'datachannel';
    this.opts = opts;
  }
  isAvailable(): boolean {
    return this.opts.available ?? true;
  }
  get raceDelayMs(): number | undefined {
    return this.opts.raceDelayMs;
  }
  createSession(role: 'host' | 'client', options: ConnectOptions): TransportSession {
    this.opts.onSession?.(role);
    const s = new MemorySession(this, role, options);
    this.sessions.add(s);
    return s;
  }
  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
  }
}

class MemorySession implements TransportSession {
  readonly kind: TransportKind;
  readonly connected: Promise<PeerChannel>;
  readonly fingerprint = fingerprint();
  readonly #t: MemoryTransport;
  readonly #role: 'host' | 'client';
  readonly #id = randomBytes(16).toString('hex');
  #listener: ((s: TransportSignal) => void) | undefined;
  #resolve!: (c: PeerChannel) => void;
  #reject!: (e: TransportError) => void;
  #done = false;
  #signal: AbortSignal;
  readonly #onAbort = (): void => this.#fail(TransportError.ABORTED());

  constructor(t: MemoryTransport, role: 'host' | 'client', opts: ConnectOptions) {
    this.#t = t;
    this.kind = t.kind;
    this.#role = role;
    this.#signal = opts.signal;
    this.connected = new Promise((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    this.connected.catch(() => {});
    if (opts.signal.aborted) {
      this.#fail(TransportError.ABORTED());
      return;
    }
    opts.signal.addEventListener('abort', this.#onAbort, { once: true });
    if (role === 'client' && t.opts.failClient) {
      queueMicrotask(() => this.#fail(TransportError.CONNECT_FAILED('memory transport: unreachable')));
      return;
    }
    if (role === 'host' && !t.opts.neverConnect) {
      listening.set(this.#id, this);
      // Emitted asynchronously, after the caller had a chance to register onSignal.
      queueMicrotask(() => this.#emit({ type: 'memory-offer', id: this.#id, fingerprint: this.fingerprint }));
    }
  }

  onSignal(listener: (signal: TransportSignal) => void): void {
    this.#listener = listener;
  }

  #emit(s: TransportSignal): void {
    if (!this.#done) this.#listener?.(s);
  }

  handleSignal(signal: TransportSignal): void {
    if (this.#done) return;
    const type = signal.type;
    const fp = signal.fingerprint;
    if (typeof fp !== 'string' || !/^[0-9a-f]{64}$/.test(fp))
      throw TransportError.BAD_SIGNAL('memory signal: bad fingerprint');
    if (this.#role === 'client' && type === 'memory-offer') {
      const id = signal.id;
      if (typeof id !== 'string') throw TransportError.BAD_SIGNAL('memory signal: bad id');
      const host = listening.get(id);
      // Like DTLS checking the SDP fingerprint: the offer must name the certificate actually presented.
      if (!host || host.fingerprint !== fp) {
        this.#fail(TransportError.CONNECT_FAILED('memory transport: no such host or fingerprint mismatch'));
        return;
      }
      listening.delete(id);
      this.#emit({ type: 'memory-answer', fingerprint: this.fingerprint });
      const [a, b] = createMemoryChannelPair({
        kind: this.kind,
        maxMessageBytes: this.#t.opts.maxMessageBytes,
        highWaterMark: this.#t.opts.highWaterMark,
        fingerprints: [host.fingerprint, this.fingerprint],
        tamperRemote: [host.#t.opts.tamperRemoteFingerprint, this.#t.opts.tamperRemoteFingerprint],
      });
      host.#succeed(a);
      this.#succeed(b);
      return;
    }
    if (this.#role === 'host' && type === 'memory-answer') return;
    throw TransportError.BAD_SIGNAL('memory signal: unexpected type');
  }

  #succeed(ch: PeerChannel): void {
    if (this.#done) {
      ch.close('session closed');
      return;
    }
    this.#done = true;
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#resolve(ch);
  }

  #fail(err: TransportError): void {
    if (this.#done) return;
    this.#done = true;
    listening.delete(this.#id);
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#t.sessions.delete(this);
    this.#reject(err);
  }

  close(): void {
    this.#fail(TransportError.CLOSED('Session closed'));
  }
}

export interface MemoryChannelPairOptions {
  readonly kind?: TransportKind;
  readonly maxMessageBytes?: number | undefined;
  readonly highWaterMark?: number | undefined;
  /** [a's certificate fingerprint, b's]; random by default. */
  readonly fingerprints?: readonly [string, string];
  /** Per side: rewrites the remote fingerprint that side sees. */
  readonly tamperRemote?: readonly [
    ((fp: string) => string) | undefined,
    ((fp: string) => string) | undefined,
  ];
}

/** Two connected in-memory PeerChannels. Deliveries are asynchronous and ordered. */
export function createMemoryChannelPair(opts: MemoryChannelPairOptions = {}): [PeerChannel, PeerChannel] {
  const [fa, fb] = opts.fingerprints ?? [fingerprint(), fingerprint()];
  const a = new MemoryChannel(opts, fa, opts.tamperRemote?.[0]?.(fb) ?? fb);
  const b = new MemoryChannel(opts, fb, opts.tamperRemote?.[1]?.(fa) ?? fa);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly kind: TransportKind;
  readonly maxMessageBytes: number;
  readonly #hwm: number;
  readonly #binding: ChannelBinding;
  peer!: MemoryChannel;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;
  #closed = false;
  #waiters: { resolve: () => void; reject: (e: TransportError) => void }[] = [];

  constructor(opts: MemoryChannelPairOptions, local: string, remote: string) {
    super();
    this.kind = opts.kind ?? 'datachannel';
    this.maxMessageBytes = opts.maxMessageBytes ?? 256 * 1024;
    this.#hwm = opts.highWaterMark ?? 1024 * 1024;
    this.#binding = { local, remote };
    // Like the real transports, keep what the peer sends until someone listens: hold it in the
    // peer's queue (its send() waits) and deliver once a 'message' listener attaches.
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message') queueMicrotask(() => this.peer.#schedule());
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(TransportError.CLOSED());
    if (message.byteLength > this.maxMessageBytes) {
      return Promise.reject(TransportError.MESSAGE_TOO_LARGE(message.byteLength, this.maxMessageBytes));
    }
    // Copy: the caller may reuse its buffer once send resolves, as with a real socket.
    this.#queue.push(new Uint8Array(message));
    this.#queued += message.byteLength;
    this.#schedule();
    if (this.#queued <= this.#hwm) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#pump());
  }

  #pump(): void {
    this.#scheduled = false;
    // Deliver a bounded batch per turn so the event loop (and the sender) keep running.
    let budget = 4 * 1024 * 1024;
    if (this.peer.listenerCount('message') === 0) return;
    while (this.#queue.length > 0 && budget > 0 && !this.#closed) {
      const m = this.#queue.shift()!;
      this.#queued -= m.byteLength;
      budget -= m.byteLength;
      this.peer.emit('message', m);
    }
    if (this.#queued <= this.#hwm / 2) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w.resolve();
    }
    if (this.#queue.length > 0 && !this.#closed) this.#schedule();
  }

  bufferedAmount(): number {
    return this.#queued;
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#shutdown({ local: true, reason });
    this.peer.#shutdown({ local: false, reason });
  }

  #shutdown(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w.reject(TransportError.CLOSED());
    queueMicrotask(() => this.emit('close', info));
  }

  binding(): ChannelBinding {
    return this.#binding;
  }

  pathInfo(): PathInfo {
    return {
      transport: this.kind,
      localCandidateType: 'host',
      remoteCandidateType: 'host',
      relayed: false,
      remoteAddress: 'memory',
      protocol: 'memory',
    };
  }
}

/**
 * A Transport whose sessions connect through in-memory PeerChannels, for tests of the layers
 * above (rendezvous, engine). Signals are real JSON and carry a fake certificate fingerprint
 * that the client checks, like DTLS does with the SDP's.
 */
export function createMemoryTransport(opts: MemoryTransportOptions = {}): Transport {
  return new MemoryTransport(opts);
}
