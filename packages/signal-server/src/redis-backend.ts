import { encodeSignalMessage } from '@wormhole/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import { SignalServerError } from './errors.js';
import { MAX_NAMEPLATE_DIGITS, nameplateDigits, randomNameplate } from './nameplates.js';
import * as lua from './redis-scripts.js';
import type { BackendHost, CreatedRoom, RoomBackend } from './room-backend.js';

/** Settings of {@link RedisRoomBackend}. */
export interface RedisBackendOptions {
  url: string;
  prefix: string;
  instanceId: string;
  maxRooms: number;
  roomTimeoutMs: number;
  instanceTtlMs: number;
}

type Reply = number | string[];
type ScriptName = 'whCreate' | 'whJoin' | 'whTouch' | 'whLeave' | 'whExpire' | 'whReap';

/** What one instance publishes to another instance's delivery channel. */
interface Envelope {
  /** Recipient peer ids on the receiving instance. */
  to: string[];
  /** The encoded server message. */
  m: string;
  /** Evict the recipients from this room after delivery. */
  e?: string;
  /** 1 when `m` is a relayed payload. */
  r?: number;
}

/**
 * Rooms in Redis: every instance pointing at the same Redis serves the same rooms, with no
 * sticky sessions. Room operations are single Lua scripts (atomic); each instance subscribes to
 * its own delivery channel and messages for a peer go to the instance holding its socket.
 * Instances heartbeat into a zset; a surviving instance removes the members of one that
 * stopped heartbeating, so its peers' rooms do not keep ghosts.
 */
export class RedisRoomBackend implements RoomBackend {
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly keyTtlMs: number;
  private rooms = 0;
  private timers: NodeJS.Timeout[] = [];
  /** A leave failed while Redis was away: reconcile this instance's entries at the next heartbeat. */
  private dirty = false;
  private wasReady = false;
  private closed = false;
  /** False while Redis is connected but not answering (hung, SIGSTOPped, overloaded). */
  private answering = true;
  /** No reaping before this time: after an outage every instance needs a beat to re-register. */
  private reapAfter = 0;
  private beating = false;

  constructor(
    private readonly host: BackendHost,
    private readonly opts: RedisBackendOptions,
  ) {
    this.keyTtlMs = opts.roomTimeoutMs + 60_000;
    const base: RedisOptions = {
      // Retry forever with a short backoff: the process stays up and recovers when Redis returns.
      retryStrategy: (times) => Math.min(100 * times, 1000),
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      lazyConnect: true,
    };
    // Requests fail fast (SIGNAL_UNAVAILABLE) instead of queueing while Redis is away.
    this.cmd = new Redis(opts.url, { ...base, enableOfflineQueue: false, commandTimeout: 2000 });
    this.sub = new Redis(opts.url, { ...base, enableOfflineQueue: true });
    const defs: [ScriptName, number, string][] = [
      ['whCreate', 4, lua.CREATE],
      ['whJoin', 4, lua.JOIN],
      ['whTouch', 3, lua.TOUCH],
      ['whLeave', 4, lua.LEAVE],
      ['whExpire', 3, lua.EXPIRE],
      ['whReap', 2, lua.REAP],
    ];
    for (const [name, numberOfKeys, script] of defs)
      this.cmd.defineCommand(name, { numberOfKeys, lua: script });
    for (const [name, conn] of [
      ['command', this.cmd],
      ['subscriber', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => {
        if (!this.closed) host.log.debug({ redis: name, err: err.message }, 'redis connection error');
      });
      conn.on('ready', () => this.onReady(name));
      conn.on('end', () => this.onLost(name));
      conn.on('close', () => this.onLost(name));
    }
    this.sub.on('message', (_channel: string, message: string) => this.onEnvelope(message));
  }

  isReady(): boolean {
    return this.connected() && this.answering;
  }

  private connected(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  roomCount(): number {
    return this.rooms;
  }

  async start(): Promise<void> {
    // Connect without failing startup: an unreachable Redis means "not ready", not "crash".
    this.cmd.connect().catch(() => {});
    this.sub.connect().catch(() => {});
    this.sub.subscribe(this.channel(this.opts.instanceId)).catch((err: Error) => {
      this.host.log.warn({ err: err.message }, 'redis subscribe failed; will retry on reconnect');
    });
    await new Promise<void>((resolve) => {
      const deadline = Date.now() + 3000;
      const check = (): void => {
        if (this.isReady() || Date.now() > deadline) resolve();
        else setTimeout(check, 25).unref();
      };
      check();
    });
    if (!this.isReady()) this.host.log.warn('redis is not reachable yet; not ready until it is');
    else await this.heartbeat().catch(() => {});
    const beat = setInterval(
      () => void this.heartbeat().catch(() => {}),
      Math.max(100, this.opts.instanceTtlMs / 3),
    );
    const sweep = setInterval(
      () => void this.sweep().catch(() => {}),
      Math.max(20, Math.min(5000, this.opts.roomTimeoutMs / 4)),
    );
    beat.unref();
    sweep.unref();
    this.timers.push(beat, sweep);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    if (this.isReady()) {
      // By now the server has no members left: reconciling removes whatever it still holds.
      await Promise.race([
        (async () => {
          await this.reconcile();
          await this.cmd.zrem(this.key('instances'), this.opts.instanceId);
        })().catch(() => {}),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
    }
    this.closed = true;
    for (const conn of [this.cmd, this.sub]) {
      if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      else conn.disconnect();
    }
  }

  async create(peerId: string, requested: string | undefined, maxPeers: number): Promise<CreatedRoom> {
    this.ensureReady();
    const claim = async (room: string): Promise<{ room: string; res: number; expiresAt: number }> => {
      const now = Date.now();
      const expiresAt = now + this.opts.roomTimeoutMs;
      const res = (await this.call(
        'whCreate',
        [
          this.key('rooms'),
          this.key(`room:${room}`),
          this.key(`members:${room}`),
          this.instKey(this.opts.instanceId),
        ],
        [room, peerId, this.opts.instanceId, maxPeers, expiresAt, this.keyTtlMs, this.opts.maxRooms, now],
      )) as number;
      return { room, res, expiresAt };
    };
    const attempts = requested !== undefined ? [requested] : this.candidates();
    for (const room of attempts) {
      const r = await claim(room);
      if (r.res === -2)
        throw SignalServerError.reject('SIGNAL_TOO_MANY_ROOMS', 'the server has reached its room limit');
      if (r.res === -1) {
        if (requested !== undefined)
          throw SignalServerError.reject('SIGNAL_ROOM_EXISTS', `room ${room} already exists`);
        continue;
      }
      this.rooms = r.res;
      return { room: r.room, expiresAt: r.expiresAt };
    }
    throw SignalServerError.reject('SIGNAL_TOO_MANY_ROOMS', 'no free nameplate');
  }

  async join(peerId: string, room: string): Promise<{ peers: string[] }> {
    this.ensureReady();
    const res = (await this.call(
      'whJoin',
      [
        this.key('rooms'),
        this.key(`room:${room}`),
        this.key(`members:${room}`),
        this.instKey(this.opts.instanceId),
      ],
      [room, peerId, this.opts.instanceId, Date.now() + this.opts.roomTimeoutMs, this.keyTtlMs],
    )) as Reply;
    if (res === -1) throw SignalServerError.reject('SIGNAL_ROOM_NOT_FOUND', `room ${room} does not exist`);
    if (res === -2) throw SignalServerError.reject('SIGNAL_ROOM_FULL', `room ${room} is full`);
    const members = res as string[];
    await this.fanout(members, undefined, encodeSignalMessage({ type: 'peer-joined', room, peerId }));
    const peers: string[] = [];
    for (let i = 0; i < members.length; i += 2) peers.push(members[i] as string);
    return { peers };
  }

  async relay(peerId: string, room: string, to: string | undefined, payload: string): Promise<void> {
    this.ensureReady();
    const res = (await this.call(
      'whTouch',
      [this.key('rooms'), this.key(`room:${room}`), this.key(`members:${room}`)],
      [room, peerId, Date.now() + this.opts.roomTimeoutMs, this.keyTtlMs],
    )) as Reply;
    if (res === -1) throw SignalServerError.reject('SIGNAL_ROOM_EXPIRED', `room ${room} no longer exists`);
    let members = res as string[];
    if (to !== undefined) {
      const i = members.findIndex((p, idx) => idx % 2 === 0 && p === to);
      if (to === peerId || i < 0) {
        throw SignalServerError.reject('SIGNAL_PEER_NOT_FOUND', `peer ${to} is not in room ${room}`);
      }
      members = [to, members[i + 1] as string];
    }
    await this.fanout(members, peerId, encodeSignalMessage({ type: 'relay', from: peerId, payload }), {
      relay: true,
    });
  }

  async leave(peerId: string, room: string): Promise<void> {
    try {
      if (!this.isReady()) throw new Error('redis not ready');
      await this.removeMember(this.opts.instanceId, room, peerId);
    } catch (err) {
      // Redis is away: remember to reconcile, so the member does not linger once it is back.
      this.dirty = true;
      this.host.log.warn(
        { room, err: (err as Error).message },
        'leave not recorded in redis; will reconcile',
      );
    }
  }

  private async removeMember(instanceId: string, room: string, peerId: string): Promise<void> {
    const res = (await this.call(
      'whLeave',
      [this.key('rooms'), this.key(`room:${room}`), this.key(`members:${room}`), this.instKey(instanceId)],
      [room, peerId],
    )) as Reply;
    if (res === -1) return;
    await this.fanout(res as string[], peerId, encodeSignalMessage({ type: 'peer-left', room, peerId }));
  }

  /** Nameplates to try: short ones first, one more digit after a few collisions. */
  private *candidates(): Generator<string> {
    for (let digits = nameplateDigits(this.rooms); digits <= MAX_NAMEPLATE_DIGITS; digits++) {
      for (let i = 0; i < 4; i++) yield randomNameplate(digits);
    }
  }

  /** Delivers `text` to the members listed (flat peer, instance pairs) except `exclude`. */
  private async fanout(
    flat: string[],
    exclude: string | undefined,
    text: string,
    opts?: { evictRoom?: string; relay?: boolean },
  ): Promise<void> {
    const byInstance = new Map<string, string[]>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const peer = flat[i] as string;
      const inst = flat[i + 1] as string;
      if (peer === exclude) continue;
      const list = byInstance.get(inst);
      if (list) list.push(peer);
      else byInstance.set(inst, [peer]);
    }
    const sends: Promise<unknown>[] = [];
    for (const [inst, peers] of byInstance) {
      if (inst === this.opts.instanceId) {
        this.host.deliver(peers, text, opts);
        continue;
      }
      const env: Envelope = { to: peers, m: text };
      if (opts?.evictRoom) env.e = opts.evictRoom;
      if (opts?.relay) env.r = 1;
      sends.push(this.cmd.publish(this.channel(inst), JSON.stringify(env)));
    }
    if (sends.length > 0) await this.wrap(Promise.all(sends));
  }

  private onEnvelope(message: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (!Array.isArray(env.to) || typeof env.m !== 'string') return;
    const to = env.to.filter((p): p is string => typeof p === 'string');
    const opts: { evictRoom?: string; relay?: boolean } = { relay: env.r === 1 };
    if (typeof env.e === 'string') opts.evictRoom = env.e;
    this.host.deliver(to, env.m, opts);
  }

  private onReady(name: string): void {
    if (this.closed || !this.isReady()) return;
    if (this.wasReady) this.host.log.info({ redis: name }, 'redis reachable again');
    this.wasReady = true;
    // After an outage: re-register at once (before a peer instance thinks this one is dead)
    // and clean up leaves that could not be written meanwhile.
    this.dirty = true;
    this.reapAfter = Date.now() + this.opts.instanceTtlMs;
    void this.heartbeat().catch(() => {});
  }

  private onLost(name: string): void {
    if (this.closed || !this.wasReady) return;
    this.wasReady = false;
    this.host.log.warn({ redis: name }, 'redis connection lost; not ready');
  }

  private async heartbeat(): Promise<void> {
    if (this.beating || !this.connected()) return;
    this.beating = true;
    try {
      await this.beat();
    } finally {
      this.beating = false;
    }
  }

  private async beat(): Promise<void> {
    // A connected Redis can still be hung: only an answered PING counts as reachable.
    try {
      await this.cmd.ping();
    } catch {
      if (this.answering) this.host.log.warn('redis is not answering; not ready');
      this.answering = false;
      return;
    }
    if (!this.answering) {
      this.answering = true;
      this.dirty = true;
      this.reapAfter = Date.now() + this.opts.instanceTtlMs;
      this.host.log.info('redis answering again');
    }
    const now = Date.now();
    const id = this.opts.instanceId;
    await this.cmd.zadd(this.key('instances'), now, id);
    await this.cmd.pexpire(this.instKey(id), this.opts.instanceTtlMs * 4 + this.keyTtlMs);
    this.rooms = await this.cmd.zcard(this.key('rooms'));
    if (this.dirty) {
      await this.reconcile();
      this.dirty = false;
    }
    // Right after an outage the other instances' heartbeats are stale too: give them time.
    if (now < this.reapAfter) return;
    const dead = await this.cmd.zrangebyscore(
      this.key('instances'),
      '-inf',
      now - this.opts.instanceTtlMs,
      'LIMIT',
      0,
      10,
    );
    for (const inst of dead) {
      if (inst === id) continue;
      const entries = (await this.call(
        'whReap',
        [this.key('instances'), this.instKey(inst)],
        [inst, now - this.opts.instanceTtlMs],
      )) as Reply;
      if (entries === -1) continue;
      const list = entries as string[];
      this.host.log.warn({ instance: inst, peers: list.length }, 'removing the peers of a dead instance');
      for (const entry of list) {
        const bar = entry.indexOf('|');
        await this.removeMember(inst, entry.slice(0, bar), entry.slice(bar + 1));
      }
    }
  }

  /** Removes every membership Redis holds for this instance that no local socket backs. */
  private async reconcile(): Promise<void> {
    const entries = await this.cmd.smembers(this.instKey(this.opts.instanceId));
    for (const entry of entries) {
      const bar = entry.indexOf('|');
      const room = entry.slice(0, bar);
      const peer = entry.slice(bar + 1);
      if (!this.host.hasMember(peer, room)) await this.removeMember(this.opts.instanceId, room, peer);
    }
  }

  private async sweep(): Promise<void> {
    if (!this.isReady()) return;
    const now = Date.now();
    const due = await this.cmd.zrangebyscore(this.key('rooms'), '-inf', now, 'LIMIT', 0, 200);
    for (const room of due) {
      const res = (await this.call(
        'whExpire',
        [this.key('rooms'), this.key(`room:${room}`), this.key(`members:${room}`)],
        [room, now, this.opts.prefix],
      )) as Reply;
      if (res === -1) continue;
      this.host.log.info({ room, peers: (res as string[]).length / 2 }, 'room expired');
      await this.fanout(res as string[], undefined, encodeSignalMessage({ type: 'room-expired', room }), {
        evictRoom: room,
      });
    }
  }

  private ensureReady(): void {
    if (!this.isReady())
      throw SignalServerError.reject('SIGNAL_UNAVAILABLE', 'the room store (Redis) is unreachable');
  }

  private async call(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const fn = (this.cmd as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[
      name
    ];
    return this.wrap(fn.call(this.cmd, ...keys, ...args));
  }

  /** Maps any Redis failure to SIGNAL_UNAVAILABLE (the client may retry). */
  private async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      this.host.log.debug({ err: (err as Error).message }, 'redis command failed');
      throw SignalServerError.reject('SIGNAL_UNAVAILABLE', 'the room store (Redis) is unreachable');
    }
  }

  private key(name: string): string {
    return this.opts.prefix + name;
  }

  private instKey(instanceId: string): string {
    return `${this.opts.prefix}inst:${instanceId}`;
  }

  private channel(instanceId: string): string {
    return `${this.opts.prefix}deliver:${instanceId}`;
  }
}
