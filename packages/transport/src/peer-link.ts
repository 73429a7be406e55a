import { type AuthenticatedChannel, authenticateChannel, type PeerRole } from './channel-binding.js';
import type { SessionKeys } from './key-schedule.js';
import type { PeerChannel, TransportKind } from './peer-channel.js';
import { decodeRoomMessage, encodeRoomMessage, type RoomMessage } from './rendezvous-messages.js';
import { SealedChannel } from './sealed-channel.js';
import { raceDelay, type Transport, type TransportSession, type TransportSignal } from './transport.js';
import { TransportError } from './transport-error.js';

/** The one-byte message the host sends on the channel it picked; the client takes the first channel that carries it. */
const SELECT = 0x53;

export interface PeerLinkOptions {
  readonly role: PeerRole;
  readonly keys: SessionKeys;
  readonly transports: readonly Transport[];
  /** Sends one relay payload to the peer. */
  readonly send: (payload: string) => void;
  readonly signal: AbortSignal;
  /** Time the peer gets to prove the channel binding. Default 10000. */
  readonly bindingTimeoutMs?: number;
  /** Host: how long an authenticated channel of a less preferred kind waits for a preferred one. Default 1000 ms. */
  readonly preferenceGraceMs?: number;
  /**
   * Extra ICE servers for this link's sessions (short-lived TURN credentials from the signal
   * server). While the promise is pending, the peer's room messages are queued, so no session
   * starts without them; it must settle (the rendezvous bounds it) - a rejection means none.
   */
  readonly iceServers?: Promise<readonly string[]>;
}

/** After the peer gave up, how long our own still-running sessions get to report their reason. */
const PEER_ABORT_GRACE_MS = 3000;

/** Room messages held while the ICE servers are still being fetched. */
const MAX_QUEUED_MESSAGES = 256;

/**
 * Everything between "PAKE done" and "one authenticated channel": sealed room channel, the
 * transport negotiation, signal forwarding per transport kind, channel binding, and the race
 * (the host picks the first channel that authenticates; the client follows its pick).
 */
export class PeerLink {
  readonly result: Promise<AuthenticatedChannel>;
  readonly #opts: PeerLinkOptions;
  readonly #sealed: SealedChannel;
  readonly #sessions = new Map<TransportKind, { session: TransportSession; ac: AbortController }>();
  /**
   * Client: kinds in the race whose start is held back (Transport.raceDelayMs), with the host's
   * signals for them that arrived meanwhile.
   */
  readonly #pending = new Map<TransportKind, { timer: NodeJS.Timeout; signals: TransportSignal[] }>();
  readonly #channels = new Set<AuthenticatedChannel>();
  #winner: AuthenticatedChannel | undefined;
  /** Host: best authenticated channel so far, waiting for a preferred kind (see #offer). */
  #held: AuthenticatedChannel | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #peerGaveUp: NodeJS.Timeout | undefined;
  #done = false;
  #failures: TransportError[] = [];
  readonly #failedKinds = new Set<TransportKind>();
  #startedKinds = 0;
  #resolve!: (c: AuthenticatedChannel) => void;
  #reject!: (e: TransportError) => void;
  #iceServers: readonly string[] = [];
  /** Set while `iceServers` is pending. */
  #queue: string[] | undefined;
  readonly #onAbort = (): void => this.fail(TransportError.ABORTED());

  constructor(opts: PeerLinkOptions) {
    this.#opts = opts;
    const { keys, role } = opts;
    this.#sealed =
      role === 'host'
        ? new SealedChannel(keys.hostToClient, keys.clientToHost)
        : new SealedChannel(keys.clientToHost, keys.hostToClient);
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.result.catch(() => {});
    if (opts.signal.aborted) {
      this.fail(TransportError.ABORTED());
      return;
    }
    opts.signal.addEventListener('abort', this.#onAbort, { once: true });
    if (opts.iceServers) {
      this.#queue = [];
      opts.iceServers
        .catch(() => [])
        .then((servers) => {
          this.#iceServers = servers;
          const queued = this.#queue ?? [];
          this.#queue = undefined;
          for (const payload of queued) this.deliver(payload);
        })
        // deliver() reports its own failures; anything else must fail the link, not the process.
        .catch((err: unknown) => this.fail(asTransportError(err)));
    }
    if (role === 'host') this.#sendRoom({ t: 'hello', kinds: this.#available() });
  }

  /** Feeds one relay payload from the peer. Any decoding or authentication failure aborts the link. */
  deliver(payload: string): void {
    if (this.#done) return;
    if (this.#queue) {
      if (this.#queue.length >= MAX_QUEUED_MESSAGES)
        this.fail(TransportError.BAD_SIGNAL('too many messages before the transports started'));
      else this.#queue.push(payload);
      return;
    }
    let msg: RoomMessage;
    try {
      msg = decodeRoomMessage(this.#sealed.open(payload));
    } catch (err) {
      this.fail(err instanceof TransportError ? err : TransportError.BAD_SIGNAL(undefined, { cause: err }));
      return;
    }
    try {
      this.#onRoomMessage(msg);
    } catch (err) {
      this.fail(err instanceof TransportError ? err : TransportError.BAD_SIGNAL(undefined, { cause: err }));
    }
  }

  /** Aborts the attempt (tells the peer, closes every session and channel). Idempotent. */
  fail(err: TransportError): void {
    if (this.#done) return;
    if (err.code !== 'TRANSPORT_DECRYPT_FAILED' && err.code !== 'TRANSPORT_OUT_OF_ORDER') {
      try {
        this.#sendRoom({ t: 'abort', reason: err.code });
      } catch {}
    }
    this.#finish();
    this.#reject(err);
  }

  #finish(): void {
    this.#done = true;
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#peerGaveUp);
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    this.#opts.signal.removeEventListener('abort', this.#onAbort);
    for (const { session, ac } of this.#sessions.values()) {
      if (this.#winner && session.kind === this.#winner.kind) continue;
      ac.abort();
      session.close();
    }
    for (const ch of this.#channels) if (ch !== this.#winner) ch.close('lost the race');
  }

  #available(): TransportKind[] {
    return this.#opts.transports.filter((t) => t.isAvailable()).map((t) => t.kind);
  }

  #sendRoom(m: RoomMessage): void {
    this.#opts.send(this.#sealed.seal(encodeRoomMessage(m)));
  }

  #onRoomMessage(msg: RoomMessage): void {
    const { role } = this.#opts;
    switch (msg.t) {
      case 'hello': {
        if (role !== 'client' || this.#startedKinds > 0) throw TransportError.BAD_SIGNAL('unexpected hello');
        const mine = this.#available();
        const kinds = mine.filter((k) => msg.kinds.includes(k));
        if (kinds.length === 0)
          throw TransportError.UNAVAILABLE('No transport in common with the host', {
            details: { host: msg.kinds, client: mine },
          });
        // 'start' goes out before any session can emit a signal, so the host has its sessions first.
        this.#sendRoom({ t: 'start', kinds });
        for (const k of kinds) this.#scheduleSession(k, kinds.length);
        return;
      }
      case 'start': {
        if (role !== 'host' || this.#startedKinds > 0) throw TransportError.BAD_SIGNAL('unexpected start');
        const mine = this.#available();
        if (msg.kinds.length === 0 || msg.kinds.some((k) => !mine.includes(k)))
          throw TransportError.BAD_SIGNAL('peer chose a transport we do not offer');
        for (const k of msg.kinds) this.#scheduleSession(k, msg.kinds.length);
        return;
      }
      case 'signal': {
        const held = this.#pending.get(msg.kind);
        if (held) {
          // The host starts every kind at once; its signals wait for our session.
          if (held.signals.length >= MAX_QUEUED_MESSAGES)
            throw TransportError.BAD_SIGNAL(`too many signals for transport ${msg.kind} before it started`);
          held.signals.push(msg.signal);
          return;
        }
        const s = this.#sessions.get(msg.kind);
        if (!s) throw TransportError.BAD_SIGNAL(`signal for transport ${msg.kind} that is not running`);
        try {
          s.session.handleSignal(msg.signal);
        } catch (err) {
          // A bad signal kills that one attempt; the others may still win.
          this.#sessionFailed(msg.kind, err);
        }
        return;
      }
      case 'abort': {
        const gaveUp = TransportError.CONNECT_FAILED(`Peer gave up: ${msg.reason}`);
        // When the peer's ICE timed out a moment before ours, our own sessions' failure says
        // why (candidate types, missing relay); "peer gave up" alone does not. Give them a
        // short while to report, then fail with whatever we have.
        const pending = this.#sessions.size > this.#failedKinds.size;
        if (msg.reason !== 'TRANSPORT_CONNECT_FAILED' && msg.reason !== 'TRANSPORT_TIMEOUT') throw gaveUp;
        if (!pending) throw gaveUp;
        this.#peerGaveUp ??= setTimeout(() => this.fail(gaveUp), PEER_ABORT_GRACE_MS);
        return;
      }
    }
  }

  /**
   * Starts `kind` now, or — on the client, when it races with others — after its `raceDelayMs`.
   * Only the client holds back: its side of an attempt is the costly one (loading, dialling, a
   * handshake), while the host's only waits, so the host starts everything and a held-back
   * kind can start the moment the client wants it.
   */
  #scheduleSession(kind: TransportKind, raceSize: number): void {
    const transport = this.#opts.transports.find((t) => t.kind === kind);
    const delay = this.#opts.role === 'client' && transport ? raceDelay(transport, raceSize) : 0;
    if (delay <= 0) {
      this.#startSession(kind);
      return;
    }
    this.#startedKinds++;
    const timer = setTimeout(() => this.#startPending(kind), delay);
    timer.unref();
    this.#pending.set(kind, { timer, signals: [] });
  }

  #startPending(kind: TransportKind): void {
    const held = this.#pending.get(kind);
    if (held === undefined || this.#done) return;
    clearTimeout(held.timer);
    this.#pending.delete(kind);
    this.#startedKinds--; // #startSession counts it again
    this.#startSession(kind);
    for (const signal of held.signals) {
      const s = this.#sessions.get(kind);
      if (s === undefined || this.#done || this.#failedKinds.has(kind)) return;
      try {
        s.session.handleSignal(signal);
      } catch (err) {
        this.#sessionFailed(kind, err);
      }
    }
  }

  #startSession(kind: TransportKind): void {
    const transport = this.#opts.transports.find((t) => t.kind === kind)!;
    const ac = new AbortController();
    this.#startedKinds++;
    let session: TransportSession;
    try {
      session = transport.createSession(this.#opts.role, {
        signal: ac.signal,
        ...(this.#iceServers.length > 0 && { iceServers: this.#iceServers }),
      });
    } catch (err) {
      this.#failures.push(asTransportError(err));
      this.#failedKinds.add(kind);
      queueMicrotask(() => this.#checkAllFailed());
      return;
    }
    this.#sessions.set(kind, { session, ac });
    session.onSignal((signal) => {
      if (this.#done) return;
      try {
        this.#sendRoom({ t: 'signal', kind, signal });
      } catch (err) {
        this.#sessionFailed(kind, err);
      }
    });
    session.connected.then(
      (ch) => this.#onConnected(kind, ch),
      (err) => this.#sessionFailed(kind, err),
    );
  }

  async #onConnected(kind: TransportKind, raw: PeerChannel): Promise<void> {
    if (this.#done) {
      raw.close('lost the race');
      return;
    }
    const timeoutMs = this.#opts.bindingTimeoutMs ?? 10_000;
    let ch: AuthenticatedChannel;
    try {
      ch = await authenticateChannel(raw, this.#opts.keys, this.#opts.role, {
        signal: this.#opts.signal,
        timeoutMs,
      });
    } catch (err) {
      this.#sessionFailed(kind, err);
      return;
    }
    this.#channels.add(ch);
    if (this.#done) {
      ch.close('lost the race');
      return;
    }
    if (this.#opts.role === 'host') {
      this.#offer(ch);
      return;
    }
    try {
      const m = await ch.readOne(this.#opts.signal, timeoutMs, 'transport selection');
      if (m.length !== 1 || m[0] !== SELECT)
        throw TransportError.BAD_SIGNAL('expected the host to select this transport');
    } catch (err) {
      ch.close('not selected');
      this.#channels.delete(ch);
      this.#sessionFailed(kind, err);
      return;
    }
    if (this.#done) ch.close('lost the race');
    else this.#win(ch);
  }

  /**
   * Host side of the race. The fastest transport to *connect* is not always the fastest to
   * *move data* (a DataChannel often authenticates first on a LAN, yet TLS carries ~5x more),
   * so a channel of a less preferred kind waits up to `preferenceGraceMs` for a preferred one
   * that is still trying. Preference is the order of `transports`.
   */
  #offer(ch: AuthenticatedChannel): void {
    const rank = (k: TransportKind) => this.#opts.transports.findIndex((t) => t.kind === k);
    if (this.#held === undefined || rank(ch.kind) < rank(this.#held.kind)) {
      this.#held?.close('lost the race');
      if (this.#held) this.#channels.delete(this.#held);
      this.#held = ch;
    } else {
      ch.close('lost the race');
      this.#channels.delete(ch);
    }
    this.#maybeSelect();
  }

  #maybeSelect(): void {
    const held = this.#held;
    if (this.#done || held === undefined) return;
    const rank = (k: TransportKind) => this.#opts.transports.findIndex((t) => t.kind === k);
    const better = [...this.#sessions.keys(), ...this.#pending.keys()].filter(
      (k) => rank(k) < rank(held.kind) && !this.#failedKinds.has(k),
    );
    if (better.length === 0) {
      clearTimeout(this.#graceTimer);
      this.#win(held);
      held.send(Uint8Array.of(SELECT)).catch(() => {});
      return;
    }
    this.#graceTimer ??= setTimeout(() => {
      const h = this.#held;
      if (this.#done || h === undefined) return;
      this.#win(h);
      h.send(Uint8Array.of(SELECT)).catch(() => {});
    }, this.#opts.preferenceGraceMs ?? 1000);
  }

  #win(ch: AuthenticatedChannel): void {
    this.#winner = ch;
    this.#finish();
    this.#resolve(ch);
  }

  #sessionFailed(kind: TransportKind, err: unknown): void {
    if (this.#done) return;
    this.#failures.push(asTransportError(err));
    const entry = this.#sessions.get(kind);
    entry?.ac.abort();
    entry?.session.close();
    this.#failedKinds.add(kind);
    this.#checkAllFailed();
    this.#maybeSelect();
  }

  #checkAllFailed(): void {
    if (this.#done) return;
    // Every attempt that started has failed: the held-back ones start now, not at their delay.
    if (this.#pending.size > 0 && this.#failedKinds.size >= this.#startedKinds - this.#pending.size) {
      for (const kind of [...this.#pending.keys()]) this.#startPending(kind);
      return;
    }
    if (this.#failedKinds.size >= this.#startedKinds && this.#channels.size === 0) {
      // Security failures outrank ordinary ones so a MITM is reported as such.
      const worst =
        this.#failures.find((e) => e.code === 'TRANSPORT_BINDING_MISMATCH') ??
        this.#failures.find((e) => e.code === 'TRANSPORT_ABORTED') ??
        // The message carries each transport's reason (e.g. "no relay candidate: TURN
        // unreachable"), so whoever reads only the message still learns the cause.
        TransportError.CONNECT_FAILED(
          `No transport could connect: ${this.#failures.map((e) => e.message).join('; ')}`,
          {
            details: { failures: this.#failures.map((e) => e.code) },
            cause: this.#failures[0],
          },
        );
      this.fail(worst);
    }
  }
}

export function asTransportError(err: unknown): TransportError {
  return err instanceof TransportError
    ? err
    : TransportError.CONNECT_FAILED(String((err as Error)?.message ?? err), { cause: err });
}
