import { encodeSignalMessage } from '@wormhole/protocol';
import { SignalServerError } from './errors.js';
import { pickNameplate } from './nameplates.js';
import type { BackendHost, CreatedRoom, RoomBackend } from './room-backend.js';

interface Room {
  maxPeers: number;
  members: Set<string>;
  /** Epoch ms after which the idle room expires. */
  deadline: number;
}

/** Rooms in this process only: the default, and the embedded (LAN) mode. */
export class MemoryRoomBackend implements RoomBackend {
  private readonly rooms = new Map<string, Room>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: BackendHost,
    private readonly opts: { maxRooms: number; roomTimeoutMs: number },
  ) {}

  isReady(): boolean {
    return true;
  }

  roomCount(): number {
    return this.rooms.size;
  }

  async start(): Promise<void> {
    // One timer for all rooms; a room expires at most one sweep interval late.
    const every = Math.max(20, Math.min(5000, this.opts.roomTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.rooms.clear();
  }

  async create(peerId: string, requested: string | undefined, maxPeers: number): Promise<CreatedRoom> {
    if (requested !== undefined && this.rooms.has(requested)) {
      throw SignalServerError.reject('SIGNAL_ROOM_EXISTS', `room ${requested} already exists`);
    }
    if (this.rooms.size >= this.opts.maxRooms) {
      throw SignalServerError.reject('SIGNAL_TOO_MANY_ROOMS', 'the server has reached its room limit');
    }
    const room = requested ?? pickNameplate(this.rooms.size, (r) => this.rooms.has(r));
    if (room === undefined) throw SignalServerError.reject('SIGNAL_TOO_MANY_ROOMS', 'no free nameplate');
    const deadline = Date.now() + this.opts.roomTimeoutMs;
    this.rooms.set(room, { maxPeers, members: new Set([peerId]), deadline });
    return { room, expiresAt: deadline };
  }

  async join(peerId: string, roomId: string): Promise<{ peers: string[] }> {
    const room = this.rooms.get(roomId);
    if (!room) throw SignalServerError.reject('SIGNAL_ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    if (room.members.size >= room.maxPeers) {
      throw SignalServerError.reject('SIGNAL_ROOM_FULL', `room ${roomId} is full (${room.maxPeers} peers)`);
    }
    const peers = [...room.members];
    room.members.add(peerId);
    room.deadline = Date.now() + this.opts.roomTimeoutMs;
    this.host.deliver(peers, encodeSignalMessage({ type: 'peer-joined', room: roomId, peerId }));
    return { peers };
  }

  async relay(peerId: string, roomId: string, to: string | undefined, payload: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room?.members.has(peerId)) {
      throw SignalServerError.reject('SIGNAL_ROOM_EXPIRED', `room ${roomId} no longer exists`);
    }
    if (to !== undefined && (to === peerId || !room.members.has(to))) {
      throw SignalServerError.reject('SIGNAL_PEER_NOT_FOUND', `peer ${to} is not in room ${roomId}`);
    }
    room.deadline = Date.now() + this.opts.roomTimeoutMs;
    const text = encodeSignalMessage({ type: 'relay', from: peerId, payload });
    const targets = to !== undefined ? [to] : [...room.members].filter((p) => p !== peerId);
    this.host.deliver(targets, text, { relay: true });
  }

  async leave(peerId: string, roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room?.members.delete(peerId)) return;
    if (room.members.size === 0) {
      this.rooms.delete(roomId);
      return;
    }
    room.deadline = Date.now() + this.opts.roomTimeoutMs;
    this.host.deliver([...room.members], encodeSignalMessage({ type: 'peer-left', room: roomId, peerId }));
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, room] of this.rooms) {
      if (room.deadline > now) continue;
      this.rooms.delete(id);
      this.host.log.info({ room: id, peers: room.members.size }, 'room expired');
      this.host.deliver([...room.members], encodeSignalMessage({ type: 'room-expired', room: id }), {
        evictRoom: id,
      });
    }
  }
}
