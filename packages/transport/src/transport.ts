import type { PeerChannel, TransportKind } from './peer-channel.js';

/**
 * A transport-specific signalling message (SDP, ICE candidate, addresses + certificate hash).
 * Plain JSON; it travels inside the PAKE-encrypted room channel, and the receiving transport
 * validates it again before use.
 */
export type TransportSignal = Readonly<Record<string, unknown>>;

export interface ConnectOptions {
  /** Cancels the attempt; the session then rejects with TRANSPORT_ABORTED and frees everything. */
  readonly signal: AbortSignal;
  /**
   * Extra ICE servers for this one attempt (`stun:host:port`, `turn:user:pass@host:port`), e.g.
   * short-lived TURN credentials the signal server handed out during the rendezvous. Added to
   * the transport's configured servers; transports without ICE ignore it.
   */
  readonly iceServers?: readonly string[];
}

/**
 * One attempt to bring up a channel with one peer. Both sides create a session; each passes
 * the signals the other emits to `handleSignal` (via the encrypted room channel).
 */
export interface TransportSession {
  readonly kind: TransportKind;
  /** Signals to deliver to the peer's session of the same kind. */
  onSignal(listener: (signal: TransportSignal) => void): void;
  /** A signal from the peer. Throws TransportError TRANSPORT_BAD_SIGNAL on malformed input. */
  handleSignal(signal: TransportSignal): void;
  /** Resolves with the connected channel, or rejects with a TransportError. */
  readonly connected: Promise<PeerChannel>;
  /** Gives up; releases everything the attempt holds. Idempotent. */
  close(): void;
}

/** A way to reach a peer. Implementations: datachannel, webtransport, tls. */
export interface Transport {
  readonly kind: TransportKind;
  readonly [Symbol.toStringTag]: string;
  /** Whether the native part this transport needs is present on this machine. */
  isAvailable(): boolean;
  /**
   * Optional: when other transports race with this one, how long the race holds it back (ms).
   * It starts earlier if every other attempt has failed, or as soon as the peer's side of it
   * sends a signal. For a transport that reaches no peer the others cannot, started at once it
   * only takes CPU from the one that wins (Happy Eyeballs, RFC 8305).
   */
  readonly raceDelayMs?: number;
  /** Starts one connection attempt in the given role. The host side is the "answerer"/listener. */
  createSession(role: 'host' | 'client', options: ConnectOptions): TransportSession;
  /**
   * Optional: starts, in the background, what the first session in `role` will need (module
   * loads, certificate, listener), so the rendezvous (signal connect, PAKE) hides that time
   * instead of a connection attempt waiting for it. Never throws; failures surface in sessions.
   */
  prepare?(role: 'host' | 'client'): void;
  /** Releases listeners and native state shared by sessions (node-datachannel `cleanup()`). */
  close(): Promise<void>;
}

/** How long a race of `raceSize` transports holds `t` back: its `raceDelayMs`, none when it runs alone. */
export function raceDelay(t: Transport, raceSize: number): number {
  return raceSize > 1 ? Math.max(0, t.raceDelayMs ?? 0) : 0;
}
