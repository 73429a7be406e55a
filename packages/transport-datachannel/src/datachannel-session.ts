import type { ConnectOptions, PeerChannel, TransportSession, TransportSignal } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import { DataChannelPeerChannel, safe } from './datachannel-channel.js';
import { normaliseFingerprint, sdpFingerprint } from './fingerprint.js';
import type { NativeDataChannel, NativeModule, NativePeerConnection } from './native.js';
import { parseIceServer, type ResolvedOptions } from './options.js';
import { type CandidateSignal, type DataChannelSignal, MAX_RESTARTS, parseSignal } from './signals.js';

/** Label of the one DataChannel a session opens; anything else the peer opens is refused. */
export const CHANNEL_LABEL = 'wormhole';
/** Candidates accepted before the remote description arrives (signals may be reordered). */
const MAX_EARLY_CANDIDATES = 64;
/** Retries of candidates that arrive before libdatachannel's ICE transport exists (10 ms apart). */
const MAX_CANDIDATE_RETRIES = 200;
/** How long a host whose PeerConnection failed after ICE connected waits for the client's restart. */
const RESTART_WAIT_MS = 3000;
/**
 * A PeerConnection that fails this soon did not fail for reachability (ICE gives up after
 * seconds of checks): restart it even when the ICE-state callback has not arrived yet (each
 * callback kind has its own native queue, so "failed" can overtake "connected").
 */
const EARLY_FAILURE_MS = 2000;

/** Records the `typ` of an ICE candidate line (host/srflx/prflx/relay). */
function noteType(into: Set<string>, candidate: string): void {
  const m = / typ (host|srflx|prflx|relay)\b/.exec(candidate);
  if (m?.[1]) into.add(m[1]);
}

/** Hooks from the owning transport, so it can close what is still open. */
export interface SessionHost {
  readonly native: NativeModule;
  readonly options: ResolvedOptions;
  onChannel(channel: DataChannelPeerChannel): void;
  onChannelClosed(channel: DataChannelPeerChannel): void;
  onSessionDone(session: DataChannelSession): void;
}

/**
 * One connection attempt. The client is the offerer and opens the DataChannel; the host is the
 * answerer and accepts it.
 */
export class DataChannelSession implements TransportSession {
  readonly kind = 'datachannel' as const;
  readonly connected: Promise<PeerChannel>;
  readonly #role: 'host' | 'client';
  readonly #host: SessionHost;
  readonly #abortSignal: AbortSignal;
  #pc: NativePeerConnection | undefined;
  #dc: NativeDataChannel | undefined;
  #channel: DataChannelPeerChannel | undefined;
  #settled = false;
  #resolve!: (channel: PeerChannel) => void;
  #reject!: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #listeners: ((signal: TransportSignal) => void)[] = [];
  #outbox: TransportSignal[] = [];
  #haveRemoteDescription = false;
  #candidateRetries = 0;
  #earlyCandidates: CandidateSignal[] = [];
  /** Extra ICE servers of this attempt (ConnectOptions.iceServers), e.g. short-lived TURN. */
  readonly #extraIceServers: readonly string[];
  /** Candidate types seen on each side, so a failure can say why (e.g. no relay: TURN down). */
  readonly #localTypes = new Set<string>();
  readonly #remoteTypes = new Set<string>();
  #turnServers = 0;
  /**
   * PeerConnection generation (0, then 1 after a restart). With many associations on one host,
   * a DTLS handshake can meet another association's datagrams and fail its fingerprint check
   * after ICE connected (libdatachannel: "certificate verify failed", then state failed): the
   * check is right, and a fresh PeerConnection on new ports connects. The client restarts once;
   * the host follows when the new offer arrives (docs/bench/transport-datachannel.md).
   */
  #gen = 0;
  #restarts = 0;
  /** ICE of the current PeerConnection reached connected: a failure now is DTLS/SCTP's. */
  #iceConnected = false;
  #pcStartedAt = 0;
  #restartWait: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => this.#fail(TransportError.ABORTED('datachannel: connect aborted'));

  constructor(role: 'host' | 'client', options: ConnectOptions, host: SessionHost) {
    this.#role = role;
    this.#host = host;
    this.#abortSignal = options.signal;
    this.#extraIceServers = options.iceServers ?? [];
    this.connected = new Promise<PeerChannel>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A losing session in a transport race may never be awaited; that is not an error.
    this.connected.catch(() => {});
    if (options.signal.aborted) {
      this.#fail(TransportError.ABORTED('datachannel: connect aborted'));
      return;
    }
    options.signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setTimeout(() => {
      this.#fail(
        new TransportError(
          'TRANSPORT_TIMEOUT',
          `datachannel: no connection within ${host.options.connectTimeoutMs} ms (${this.#stateText()})`,
        ),
      );
    }, host.options.connectTimeoutMs);
    this.#startOrFail('start');
  }

  onSignal(listener: (signal: TransportSignal) => void): void {
    this.#listeners.push(listener);
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const s of outbox) listener(s);
  }

  handleSignal(signal: TransportSignal): void {
    const parsed = parseSignal(signal);
    // Late signals after close are harmless; libdatachannel throws if we pass them on.
    if (this.#pc === undefined || (this.#settled && (this.#channel === undefined || this.#channel.isClosed)))
      return;
    const gen = parsed.gen ?? 0;
    if (gen < this.#gen) return; // for a PeerConnection already replaced
    if (gen > this.#gen) {
      // Only the client restarts, once, and it starts with a new offer.
      if (this.#role !== 'host' || this.#settled || gen !== this.#gen + 1 || parsed.type !== 'description')
        throw new TransportError('TRANSPORT_BAD_SIGNAL', `datachannel: unexpected signal generation ${gen}`);
      this.#restart(gen);
    }
    const pc = this.#pc;
    if (pc === undefined) return;
    if (parsed.type === 'description') {
      this.#handleDescription(pc, parsed);
      return;
    }
    noteType(this.#remoteTypes, parsed.candidate);
    if (!this.#haveRemoteDescription) {
      if (this.#earlyCandidates.length >= MAX_EARLY_CANDIDATES) {
        throw new TransportError(
          'TRANSPORT_BAD_SIGNAL',
          'datachannel: too many candidates before the description',
        );
      }
      this.#earlyCandidates.push(parsed);
    } else this.#addCandidate(pc, parsed);
  }

  close(): void {
    // Once connected, the channel owns the PeerConnection: close it through the channel.
    this.#fail(TransportError.ABORTED('datachannel: session closed'));
  }

  #start(): void {
    const base = this.#host.options.rtcConfig;
    const iceServers = [...base.iceServers];
    for (const url of this.#extraIceServers) {
      // Per-attempt servers come from the signal server: a malformed one is skipped, not fatal
      // (the configured servers and host candidates may still connect).
      try {
        iceServers.push(parseIceServer(url));
      } catch {}
    }
    this.#turnServers = iceServers.filter((s) => typeof s !== 'string' && s.relayType !== undefined).length;
    const rtcConfig = iceServers.length === base.iceServers.length ? base : { ...base, iceServers };
    const pc = new this.#host.native.PeerConnection(`wormhole-${this.#role}`, rtcConfig);
    this.#pc = pc;
    this.#iceConnected = false;
    this.#pcStartedAt = Date.now();
    const gen = this.#gen;
    const current = (): boolean => this.#pc === pc;
    pc.onLocalDescription((sdp, type) => {
      if (!current()) return;
      // The client (offerer, ICE-controlling) takes the DTLS client role by offering
      // a=setup:active instead of libdatachannel's actpass. Left to libdatachannel, the host
      // (answerer) is the DTLS client: its ICE reports connected first, it sends ClientHello
      // before the client's ICE (and so its DTLS transport) is up, the flight is dropped and the
      // handshake waits for the 1 s DTLS retransmit - measured ~1 s setup in 3 of 4 tries on
      // loopback. With the later-connecting side sending first: ~5 ms. The offerer's own
      // libdatachannel still reads the answer's a=setup:passive and acts as client, so both
      // agree; fingerprints are untouched.
      const out =
        this.#role === 'client' && type === 'offer'
          ? sdp.replace(/^a=setup:actpass(?=\r?$)/m, 'a=setup:active')
          : sdp;
      this.#emit({ type: 'description', sdp: out, sdpType: type, ...(gen > 0 && { gen }) });
    });
    const startedAt = Date.now();
    pc.onLocalCandidate((candidate, mid) => {
      if (!current()) return;
      noteType(this.#localTypes, candidate);
      // Relay candidates wait (see relayCandidateDelayMs): the peer cannot reach our relay, nor
      // open its NAT toward it, before it knows it, so direct pairs get to win first.
      const wait = / typ relay\b/.test(candidate)
        ? startedAt + this.#host.options.relayCandidateDelayMs - Date.now()
        : 0;
      const signal = { type: 'candidate', candidate, mid, ...(gen > 0 && { gen }) };
      if (wait <= 0) this.#emit(signal);
      else setTimeout(() => current() && this.#emit(signal), wait).unref();
    });
    pc.onIceStateChange((state) => {
      if (current() && (state === 'connected' || state === 'completed')) this.#iceConnected = true;
    });
    pc.onStateChange((state) => {
      if (current() && (state === 'failed' || state === 'closed')) this.#pcDown(state);
    });
    if (this.#role === 'client') {
      // Reliable and ordered are the defaults (no maxRetransmits/maxPacketLifeTime/unordered).
      const dc = pc.createDataChannel(CHANNEL_LABEL);
      this.#dc = dc;
      dc.onOpen(() => current() && this.#succeed(dc));
      dc.onClosed(() => {
        if (current())
          this.#fail(new TransportError('TRANSPORT_CONNECT_FAILED', 'datachannel: channel closed'));
      });
    } else {
      pc.onDataChannel((dc) => {
        if (!current() || this.#dc !== undefined || this.#settled || dc.getLabel() !== CHANNEL_LABEL) {
          safe(() => dc.close(), undefined);
          return;
        }
        this.#dc = dc;
        if (dc.isOpen()) this.#succeed(dc);
        else dc.onOpen(() => this.#succeed(dc));
      });
    }
  }

  /** The current PeerConnection failed or closed before the channel opened. */
  #pcDown(state: string): void {
    if (this.#settled) return;
    const err = new TransportError(
      'TRANSPORT_CONNECT_FAILED',
      `datachannel: connection ${state} (${this.#stateText()})`,
    );
    // A late failure before ICE connected is one of reachability: a second try would only
    // double it (a NAT-only connect with the TURN server down would take twice as long to fail).
    const early = Date.now() - this.#pcStartedAt < EARLY_FAILURE_MS;
    if ((!this.#iceConnected && !early) || this.#restarts >= MAX_RESTARTS) {
      this.#fail(err);
      return;
    }
    if (this.#role === 'client') {
      this.#restart(this.#gen + 1);
      return;
    }
    // The host waits for the client's new offer (it saw the same failure).
    if (this.#restartWait === undefined) {
      this.#restartWait = setTimeout(() => this.#fail(err), RESTART_WAIT_MS);
      this.#restartWait.unref();
    }
  }

  /** Replaces the PeerConnection by a new one of generation `gen`; the client's sends a new offer. */
  #restart(gen: number): void {
    this.#restarts += 1;
    this.#gen = gen;
    clearTimeout(this.#restartWait);
    this.#restartWait = undefined;
    this.#closeNative();
    this.#dc = undefined;
    this.#pc = undefined;
    this.#haveRemoteDescription = false;
    this.#earlyCandidates = [];
    this.#candidateRetries = 0;
    this.#startOrFail('restart');
  }

  #startOrFail(what: 'start' | 'restart'): void {
    try {
      this.#start();
    } catch (cause) {
      this.#fail(
        new TransportError('TRANSPORT_CONNECT_FAILED', `datachannel: cannot ${what}: ${String(cause)}`, {
          cause,
        }),
      );
    }
  }

  /** Closes the current DataChannel and PeerConnection (their callbacks then see a stale pc). */
  #closeNative(): void {
    const dc = this.#dc;
    const pc = this.#pc;
    if (dc !== undefined) safe(() => dc.close(), undefined);
    if (pc !== undefined) safe(() => pc.close(), undefined);
  }

  #handleDescription(
    pc: NativePeerConnection,
    signal: Extract<DataChannelSignal, { type: 'description' }>,
  ): void {
    const expected = this.#role === 'host' ? 'offer' : 'answer';
    if (signal.sdpType !== expected) {
      throw new TransportError('TRANSPORT_BAD_SIGNAL', `datachannel: ${this.#role} expects an ${expected}`);
    }
    if (this.#haveRemoteDescription) {
      throw new TransportError('TRANSPORT_BAD_SIGNAL', 'datachannel: second remote description');
    }
    try {
      pc.setRemoteDescription(signal.sdp, signal.sdpType);
    } catch (cause) {
      throw new TransportError('TRANSPORT_BAD_SIGNAL', `datachannel: rejected SDP: ${String(cause)}`, {
        cause,
      });
    }
    this.#haveRemoteDescription = true;
    const early = this.#earlyCandidates;
    this.#earlyCandidates = [];
    for (const c of early) this.#addCandidate(pc, c);
  }

  #addCandidate(pc: NativePeerConnection, signal: CandidateSignal): void {
    try {
      pc.addRemoteCandidate(signal.candidate, signal.mid);
    } catch (cause) {
      if (this.#isDead()) return;
      // libdatachannel stores its ICE transport on its own thread after it has already handed
      // us the local description, so a fast peer's candidate can beat it (seen ~1 in 10 on
      // loopback). That is not the peer's fault: retry shortly instead of rejecting.
      if (/without ICE transport/i.test(String(cause)) && this.#candidateRetries < MAX_CANDIDATE_RETRIES) {
        this.#candidateRetries += 1;
        setTimeout(() => {
          if (!this.#isDead()) safe(() => this.#addCandidate(pc, signal), undefined);
        }, 10).unref();
        return;
      }
      throw new TransportError('TRANSPORT_BAD_SIGNAL', `datachannel: rejected candidate: ${String(cause)}`, {
        cause,
      });
    }
  }

  #isDead(): boolean {
    return this.#settled && (this.#channel === undefined || this.#channel.isClosed);
  }

  #emit(signal: TransportSignal): void {
    if (this.#settled && this.#channel === undefined) return;
    if (this.#listeners.length === 0) {
      this.#outbox.push(signal);
      return;
    }
    for (const l of this.#listeners) {
      try {
        l(signal);
      } catch (err) {
        // This runs inside a native callback, where a throw aborts the whole process
        // (std::terminate). Surface it as an ordinary uncaught exception instead.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }

  #stateText(): string {
    const pc = this.#pc;
    if (pc === undefined) return 'no peer connection';
    const types = (s: Set<string>) => (s.size === 0 ? 'none' : [...s].sort().join(','));
    let text = `ICE ${safe(() => pc.iceState(), '?')}, gathering ${safe(() => pc.gatheringState(), '?')}, connection ${safe(() => pc.state(), '?')}; candidates local ${types(this.#localTypes)}, remote ${types(this.#remoteTypes)}`;
    // The usual cause of an ICE failure between two NATs: no direct pair works and no side has
    // a relay candidate. Say which half of that is true.
    if (!this.#localTypes.has('relay') && !this.#remoteTypes.has('relay')) {
      text +=
        this.#turnServers === 0
          ? '; no TURN server configured, so no relay fallback'
          : '; no relay candidate on either side: TURN server unreachable or refused the credentials';
    }
    return text;
  }

  #succeed(dc: NativeDataChannel): void {
    const pc = this.#pc;
    if (this.#settled || pc === undefined) return;
    let binding: { local: string; remote: string };
    try {
      // Local: our own certificate, as advertised in our SDP. Remote: the fingerprint
      // libdatachannel computed from the certificate the peer presented in the DTLS handshake
      // (and checked against the remote SDP) - see README "Channel binding".
      const remote = pc.remoteFingerprint();
      if (remote.algorithm !== 'sha-256') throw new Error(`remote fingerprint is ${remote.algorithm}`);
      const localSdp = pc.localDescription()?.sdp ?? '';
      binding = { local: sdpFingerprint(localSdp), remote: normaliseFingerprint(remote.value) };
    } catch (cause) {
      this.#fail(
        new TransportError(
          'TRANSPORT_AUTH_FAILED',
          `datachannel: no usable DTLS fingerprint: ${String(cause)}`,
          {
            cause,
          },
        ),
      );
      return;
    }
    this.#settled = true;
    this.#cleanupAttempt();
    const channel = new DataChannelPeerChannel({
      pc,
      dc,
      maxMessageBytes: this.#host.options.maxMessageBytes,
      highWaterMarkBytes: this.#host.options.highWaterMarkBytes,
      binding,
      onRelease: () => this.#host.onChannelClosed(channel),
    });
    this.#channel = channel;
    this.#host.onChannel(channel);
    this.#host.onSessionDone(this);
    this.#resolve(channel);
  }

  #fail(err: TransportError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanupAttempt();
    this.#closeNative();
    this.#earlyCandidates = [];
    this.#outbox = [];
    this.#host.onSessionDone(this);
    this.#reject(err);
  }

  #cleanupAttempt(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#restartWait);
    this.#restartWait = undefined;
    this.#abortSignal.removeEventListener('abort', this.#onAbort);
  }
}
