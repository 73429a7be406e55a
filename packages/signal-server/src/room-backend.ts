/**
 * Where rooms live. The server owns sockets and peer ids; a backend owns rooms and membership
 * and tells the server which local peers get which message. Two implementations: in memory
 * (one instance) and Redis (any number of instances sharing rooms).
 */

import type { Logger } from 'pino';

/** What the server offers a backend. */
export interface BackendHost {
  /** The server's logger (never given payloads or secrets). */
  readonly log: Logger;
  /** True if `peerId` is connected here and is a member of `room` (used to reconcile with Redis). */
  hasMember(peerId: string, room: string): boolean;
  /**
   * Sends the encoded message `text` to each listed peer connected to this instance (others
   * are ignored). With `evictRoom`, those peers are no longer members of that room afterwards
   * (room expiry, removal). `relay` marks relayed payloads (counted in metrics).
   */
  deliver(peerIds: readonly string[], text: string, opts?: { evictRoom?: string; relay?: boolean }): void;
}

/** Result of a successful create. */
export interface CreatedRoom {
  room: string;
  /** Epoch ms at which the room expires if nothing happens in it. */
  expiresAt: number;
}

/** Room operations. Each rejects with `SignalServerError.reject(code)` carrying a wire code. */
export interface RoomBackend {
  /** False while the backend cannot serve (Redis unreachable). */
  isReady(): boolean;
  /** Rooms that exist (best known value in Redis mode). */
  roomCount(): number;
  /** Creates a room with `peerId` as its first member; claims `room` exactly when given. */
  create(peerId: string, room: string | undefined, maxPeers: number): Promise<CreatedRoom>;
  /** Adds `peerId` to `room`; resolves with the peers already there (they are told `peer-joined`). */
  join(peerId: string, room: string): Promise<{ peers: string[] }>;
  /** Sends `payload` from `peerId` to the others in `room` (or only `to`). */
  relay(peerId: string, room: string, to: string | undefined, payload: string): Promise<void>;
  /** Removes `peerId` from `room` (others are told `peer-left`; an empty room is deleted). Never rejects. */
  leave(peerId: string, room: string): Promise<void>;
  /** Starts timers and connections. */
  start(): Promise<void>;
  /** Stops timers and connections. */
  close(): Promise<void>;
}
