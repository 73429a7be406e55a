import type { EventEmitter } from 'node:events';

/** Which implementation carries a channel. */
export type TransportKind = 'datachannel' | 'webtransport' | 'tls';

/** ICE candidate types, plus 'direct' for transports dialled straight to an advertised address. */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay' | 'direct';

/** What `wormhole status` and the app show about the path a channel took. */
export interface PathInfo {
  readonly transport: TransportKind;
  readonly localCandidateType: CandidateType;
  readonly remoteCandidateType: CandidateType;
  /** True when bytes go through a TURN relay. */
  readonly relayed: boolean;
  /** Remote address as seen by this side, e.g. '127.0.0.1:51234'. */
  readonly remoteAddress: string | undefined;
  /** 'udp' | 'tcp' | 'tls' for ICE; 'quic' | 'http2' | 'tls' for direct transports. */
  readonly protocol: string;
}

/**
 * What each side of a secure channel actually sees of the channel's keys: DTLS certificate
 * fingerprints for DataChannels, TLS certificate hashes for WebTransport/TLS. Peers MAC these
 * under the PAKE key (channel binding), so a relay that swaps certificates is detected.
 */
export interface ChannelBinding {
  /** Fingerprint of this side's own certificate, lower-case hex of SHA-256. */
  readonly local: string;
  /** Fingerprint of the certificate the remote side presented, lower-case hex of SHA-256. */
  readonly remote: string;
}

export interface CloseInfo {
  /** True when closed by `close()` on this side. */
  readonly local: boolean;
  readonly reason: string;
}

export interface PeerChannelEvents {
  /** One whole message, as sent by the peer. Owned by the receiver. */
  message: [message: Uint8Array];
  /** Emitted once; no message events follow. */
  close: [info: CloseInfo];
}

/**
 * A reliable, ordered, message-oriented, encrypted channel to one peer. Every transport
 * produces these; the engine never branches on which one it got.
 */
export interface PeerChannel extends EventEmitter<PeerChannelEvents> {
  readonly kind: TransportKind;
  /** Largest message `send` accepts. */
  readonly maxMessageBytes: number;
  /**
   * Queues one message. Resolves when the channel is ready for more (backpressure: await it
   * before sending the next large message). Rejects with TransportError TRANSPORT_CLOSED once
   * closed, TRANSPORT_MESSAGE_TOO_LARGE above `maxMessageBytes`.
   */
  send(message: Uint8Array): Promise<void>;
  /** Bytes queued locally and not yet handed to the network. */
  bufferedAmount(): number;
  /** Closes the channel and releases every native resource. Idempotent. */
  close(reason?: string): void;
  readonly isClosed: boolean;
  binding(): ChannelBinding;
  pathInfo(): PathInfo;
}
