import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatJoinCode, generateSecretWords, joinCodePassword } from '@wormhole/protocol';
import { constantTimeEqual, fromBase64, toBase64, utf8 } from './bytes.js';
import { CPace, lvCat, type PakeResult } from './cpace.js';
import { deriveSessionKeys, type SessionKeys, transcriptSalt } from './key-schedule.js';
import type { PathInfo, PeerChannel } from './peer-channel.js';
import { asTransportError, PeerLink } from './peer-link.js';
import {
  decodeHandshake,
  encodeHandshake,
  type HandshakeMessage,
  isHandshakePayload,
} from './rendezvous-messages.js';
import { createMemoryTicketStore, resumeMac, type TicketStore } from './resume.js';
import { SignalClient } from './signal-client.js';
import type { Transport } from './transport.js';
import { TransportError } from './transport-error.js';
import { TURN_CREDENTIALS_TIMEOUT_MS, turnCredentialsToIceServers } from './turn-ice-servers.js';
import { warmUpRendezvous } from './warm-up.js';

/**
 * CPace's channel identifier: both roles and the nameplate, so a run binds to this room and
 * these roles (draft-irtf-cfrg-cpace §10.1: party identifiers in CI). Not sent; both sides
 * must build the same. v2: the PAKE became CPace (v1 was SPAKE2 on ristretto255).
 */
export const pakeChannelId = (nameplate: string): Uint8Array =>
  lvCat(utf8(`wormhole-v2 client ${nameplate}`), utf8(`wormhole-v2 host ${nameplate}`));
/** AAD bound into the PAKE's confirmation keys. */
export const PAKE_AAD = utf8('wormhole-v2');

export interface HostRendezvousOptions {
  /** ws:// URL of the signal server. */
  readonly signalUrl: string;
  /** Transports to offer; each client uses those it also has. Not closed by the rendezvous. */
  readonly transports: readonly Transport[];
  /** Receives every authenticated channel. The engine owns it from here. */
  onChannel(channel: PeerChannel, peer: PeerInfo): void;
  /** Secret words per code. Default 2 (see protocol's MIN_SECRET_WORDS). */
  readonly codeWords?: number;
  /** Nameplate to reclaim (a restarted host keeps its room so ticket holders can resume). */
  readonly room?: string;
  /** Put `@host:port` of the signal server into the code. Default false. */
  readonly includeSignalUrl?: boolean;
  /** Where issued resumption tickets live. Default: in memory. */
  readonly ticketStore?: TicketStore;
  /** Closes the rendezvous when aborted. */
  readonly signal?: AbortSignal;
  /** Per-client limit from its first message to an authenticated channel. Default 30000. */
  readonly handshakeTimeoutMs?: number;
  /** Clients in handshake at once; more are ignored. Default 16. */
  readonly maxPendingPeers?: number;
  /** Delay between signal-server reconnect attempts. Default 2000. */
  readonly reconnectDelayMs?: number;
}

/** Who a channel leads to. */
export interface PeerInfo {
  /** The client's peer id in the signal room (informational; not authenticated). */
  readonly peerId: string;
  /** True when the client came back with a resumption ticket instead of the code. */
  readonly resumed: boolean;
  readonly path: PathInfo;
}

export interface CodeEvent {
  readonly code: string;
  readonly nameplate: string;
  /** Why a (new) code is being announced. */
  readonly reason: 'initial' | 'burned' | 'reconnected';
}

export interface HostRendezvousEvents {
  /** A new code to show (after a burn the old one is dead). The first one is also `rendezvous.code`. */
  code: [event: CodeEvent];
  /** Someone entered a wrong code (or a relay tampered with the PAKE): the code was burned. */
  'pake-failed': [event: { peerId: string; error: TransportError }];
  /** A client that passed authentication failed later (no transport, binding mismatch, timeout...). */
  'peer-failed': [event: { peerId: string; error: TransportError }];
  /** The signal connection dropped; the host keeps retrying until closed. */
  'signal-lost': [error: TransportError];
  /** After `close()`. */
  close: [];
}

/** A running share rendezvous. */
export interface HostRendezvous extends EventEmitter<HostRendezvousEvents> {
  /** Current join code (changes when burned). */
  readonly code: string;
  readonly nameplate: string;
  /** Leaves the room, closes the signal connection and every pending handshake. Channels already handed out stay open. */
  close(): Promise<void>;
}

type PeerState = {
  readonly peerId: string;
  readonly ac: AbortController;
  readonly timer: NodeJS.Timeout;
  stage: 'pake' | 'resume' | 'link';
  pake?: PakeResult;
  resume?: { id: string; secret: Uint8Array; nonceA: Uint8Array; nonceB: Uint8Array };
  link?: PeerLink;
  /** Short-lived TURN servers for this client's ICE sessions (fetched while the PAKE runs). */
  iceServers?: Promise<readonly string[]>;
};

class HostRendezvousImpl extends EventEmitter<HostRendezvousEvents> implements HostRendezvous {
  code = '';
  nameplate = '';
  readonly #opts: HostRendezvousOptions;
  readonly #store: TicketStore;
  #client: SignalClient | undefined;
  #turnCache: { servers: Promise<readonly string[]>; refreshAt: number } | undefined;
  #words: string[] = [];
  #peers = new Map<string, PeerState>();
  #closed = false;
  #busy = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => void this.close();

  constructor(opts: HostRendezvousOptions) {
    super();
    this.#opts = opts;
    this.#store = opts.ticketStore ?? createMemoryTicketStore();
  }

  async start(): Promise<void> {
    if (this.#opts.signal?.aborted) throw TransportError.ABORTED();
    this.#opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#words = generateSecretWords(this.#opts.codeWords);
    try {
      await this.#connect(this.#opts.room);
    } catch (err) {
      this.#opts.signal?.removeEventListener('abort', this.#onAbort);
      this.#closed = true;
      throw err;
    }
    this.#announce('initial');
  }

  async #connect(room: string | undefined): Promise<void> {
    const client = await SignalClient.connect(this.#opts.signalUrl, { signal: this.#opts.signal });
    try {
      const info = await client.create(room ? { room } : {});
      this.nameplate = info.room;
    } catch (err) {
      client.close();
      throw err;
    }
    if (this.#closed) {
      client.close();
      throw TransportError.ABORTED();
    }
    this.#client = client;
    client.on('relay', (from, payload) => this.#onRelay(from, payload));
    client.on('peer-left', (peerId) =>
      this.#dropPeer(peerId, TransportError.CONNECT_FAILED('Client left the room')),
    );
    client.on('close', () => {
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      this.#abortAll(TransportError.SIGNAL_UNREACHABLE('Lost the signal server'));
      this.emit('signal-lost', TransportError.SIGNAL_UNREACHABLE('Lost the signal server'));
      this.#scheduleReconnect();
    });
    client.on('room-expired', () => {
      if (this.#client === client && !this.#closed) void this.#rotateRoom('reconnected');
    });
  }

  /**
   * TURN credentials from the signal server, reused while at least half their lifetime is
   * left (they are valid for the server's TTL; every client needs fresh ones only that often).
   * Resolves `[]` when the server has no TURN service.
   */
  #turnServers(): Promise<readonly string[]> {
    const cached = this.#turnCache;
    if (cached && Date.now() < cached.refreshAt) return cached.servers;
    const client = this.#client;
    if (!client) return Promise.resolve([]);
    const requestedAt = Date.now();
    const servers = client
      .requestTurnCredentials()
      .then((creds) => {
        this.#turnCache = {
          servers: Promise.resolve(turnCredentialsToIceServers(creds)),
          refreshAt: requestedAt + (creds.ttlSeconds * 1000) / 2,
        };
        return turnCredentialsToIceServers(creds);
      })
      .catch(() => {
        this.#turnCache = undefined;
        return [];
      });
    // Concurrent clients share one request; the cache entry is replaced once it answers.
    this.#turnCache = { servers: withTimeout(servers), refreshAt: Number.POSITIVE_INFINITY };
    return this.#turnCache.servers;
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    this.#reconnectTimer = setTimeout(async () => {
      this.#reconnectTimer = undefined;
      try {
        // Same nameplate and words: the code a person was given stays valid.
        await this.#connect(this.nameplate);
        this.#announce('reconnected');
      } catch (err) {
        // Someone else took the nameplate meanwhile: the old code is dead, make a new one.
        if (err instanceof TransportError && err.details?.code === 'SIGNAL_ROOM_EXISTS') {
          this.nameplate = '';
          this.#words = generateSecretWords(this.#opts.codeWords);
        }
        this.#scheduleReconnect();
      }
    }, this.#opts.reconnectDelayMs ?? 2000);
  }

  #announce(reason: CodeEvent['reason']): void {
    this.code = formatJoinCode({
      nameplate: this.nameplate,
      words: this.#words,
      signalUrl: this.#opts.includeSignalUrl ? this.#opts.signalUrl : undefined,
    });
    this.emit('code', { code: this.code, nameplate: this.nameplate, reason });
  }

  #send(peerId: string, m: HandshakeMessage | string): void {
    this.#client?.relay(typeof m === 'string' ? m : encodeHandshake(m), peerId);
  }

  #onRelay(from: string, payload: string): void {
    if (this.#closed || this.#busy) return;
    const peer = this.#peers.get(from);
    if (peer?.stage === 'link') {
      peer.link!.deliver(payload);
      return;
    }
    if (!isHandshakePayload(payload)) {
      if (peer) this.#dropPeer(from, TransportError.BAD_SIGNAL('unexpected message during handshake'));
      return;
    }
    let msg: HandshakeMessage;
    try {
      msg = decodeHandshake(payload);
    } catch (err) {
      if (peer) this.#dropPeer(from, asTransportError(err));
      return;
    }
    if (!peer) {
      if (msg.t === 'pake-a') this.#startPake(from, msg.share);
      else if (msg.t === 'resume-a') void this.#startResume(from, msg.id, msg.nonce);
      return;
    }
    if (peer.stage === 'pake' && peer.pake && msg.t === 'confirm-a') {
      if (!peer.pake.verifyPeerConfirm(msg.mac)) {
        this.#send(from, { t: 'pake-fail' });
        this.#dropPeer(from, undefined);
        this.emit('pake-failed', { peerId: from, error: TransportError.PAKE_FAILED() });
        void this.#rotateRoom('burned');
        return;
      }
      this.#send(from, { t: 'confirm-b', mac: peer.pake.confirm });
      const keys = deriveSessionKeys(peer.pake.ke, transcriptSalt(peer.pake.transcript));
      this.#startLink(peer, keys, false, undefined);
      return;
    }
    if (peer.stage === 'resume' && peer.resume && msg.t === 'resume-c') {
      const r = peer.resume;
      if (!constantTimeEqual(msg.mac, resumeMac(r.secret, 'client', r.id, r.nonceA, r.nonceB))) {
        this.#send(from, { t: 'resume-fail' });
        this.#dropPeer(from, TransportError.RESUME_REFUSED('Client failed to prove the resumption secret'));
        return;
      }
      const salt = Buffer.concat([r.nonceA, r.nonceB]);
      this.#startLink(peer, deriveSessionKeys(r.secret, salt), true, r.id);
      return;
    }
    this.#dropPeer(from, TransportError.BAD_SIGNAL(`unexpected ${msg.t} during handshake`));
  }

  #newPeer(peerId: string, stage: PeerState['stage']): PeerState | undefined {
    if (this.#peers.size >= (this.#opts.maxPendingPeers ?? 16)) return undefined;
    const ac = new AbortController();
    const timer = setTimeout(
      () => this.#dropPeer(peerId, TransportError.TIMEOUT('Client did not finish connecting in time')),
      this.#opts.handshakeTimeoutMs ?? 30_000,
    );
    const peer: PeerState = { peerId, ac, timer, stage, iceServers: this.#turnServers() };
    this.#peers.set(peerId, peer);
    return peer;
  }

  #startPake(peerId: string, share: Uint8Array): void {
    const peer = this.#newPeer(peerId, 'pake');
    if (!peer) return;
    const cpace = new CPace('B', joinCodePassword({ nameplate: this.nameplate, words: this.#words }), {
      ci: pakeChannelId(this.nameplate),
      aad: PAKE_AAD,
    });
    try {
      peer.pake = cpace.finish(share);
    } catch (err) {
      // An invalid element is no password guess (nothing was learned): drop without burning.
      this.#send(peerId, { t: 'pake-fail' });
      this.#dropPeer(peerId, asTransportError(err));
      return;
    }
    this.#send(peerId, { t: 'pake-b', share: cpace.share });
  }

  async #startResume(peerId: string, id: string, nonceA: Uint8Array): Promise<void> {
    const peer = this.#newPeer(peerId, 'resume');
    if (!peer) return;
    let secret: Uint8Array | undefined;
    try {
      const t = await this.#store.get(id);
      secret = t ? fromBase64(t.secret, 64) : undefined;
    } catch {
      secret = undefined;
    }
    if (this.#peers.get(peerId) !== peer) return;
    if (secret?.length !== 32) {
      this.#send(peerId, { t: 'resume-fail' });
      this.#dropPeer(peerId, TransportError.RESUME_REFUSED('Unknown resumption ticket'));
      return;
    }
    const nonceB = new Uint8Array(randomBytes(32));
    peer.resume = { id, secret, nonceA, nonceB };
    this.#send(peerId, { t: 'resume-b', nonce: nonceB, mac: resumeMac(secret, 'host', id, nonceA, nonceB) });
  }

  #startLink(peer: PeerState, keys: SessionKeys, resumed: boolean, oldTicket: string | undefined): void {
    peer.stage = 'link';
    const link = new PeerLink({
      role: 'host',
      keys,
      transports: this.#opts.transports,
      send: (payload) => this.#send(peer.peerId, payload),
      signal: peer.ac.signal,
      ...(peer.iceServers && { iceServers: peer.iceServers }),
    });
    peer.link = link;
    link.result.then(
      async (channel) => {
        this.#peers.delete(peer.peerId);
        clearTimeout(peer.timer);
        try {
          await this.#store.set({
            id: keys.resumeId,
            secret: toBase64(keys.resumeSecret),
            issuedAt: Date.now(),
          });
          // Tickets rotate on use, so a leaked old ticket is worth nothing once its owner resumed.
          if (oldTicket) await this.#store.delete(oldTicket);
        } catch {
          // A failing store costs resumption, not the connection.
        }
        if (this.#closed) {
          channel.close('rendezvous closed');
          return;
        }
        this.#opts.onChannel(channel, { peerId: peer.peerId, resumed, path: channel.pathInfo() });
      },
      (err: TransportError) => this.#dropPeer(peer.peerId, err),
    );
  }

  #dropPeer(peerId: string, err: TransportError | undefined): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    this.#peers.delete(peerId);
    clearTimeout(peer.timer);
    if (err && peer.link) peer.link.fail(err);
    peer.ac.abort();
    if (err && peer.stage === 'link') this.emit('peer-failed', { peerId, error: err });
  }

  #abortAll(err: TransportError): void {
    for (const id of [...this.#peers.keys()]) this.#dropPeer(id, err);
  }

  /** Burns the code: every pending handshake dies, the room is left, a new room and words are made. */
  async #rotateRoom(reason: 'burned' | 'reconnected'): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    this.#abortAll(TransportError.PAKE_FAILED('Code burned'));
    const client = this.#client;
    try {
      if (client) {
        const burned = this.nameplate;
        this.#words = generateSecretWords(this.#opts.codeWords);
        // A burned nameplate must not come straight back: whoever holds the old code would
        // land in the new room and burn it too. While rooms are few, the server's random pick
        // can repeat, so draw again (bounded).
        for (let attempt = 0; attempt < 8; attempt++) {
          await client.leave().catch(() => {});
          const info = await client.create();
          this.nameplate = info.room;
          if (info.room !== burned) break;
        }
      }
    } catch (err) {
      // Could not make a new room on this connection: drop it; the reconnect path makes one.
      client?.close();
      this.emit('signal-lost', asTransportError(err));
      this.nameplate = '';
      return;
    } finally {
      this.#busy = false;
    }
    if (!this.#closed) this.#announce(reason);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    clearTimeout(this.#reconnectTimer);
    this.#abortAll(TransportError.ABORTED('Share closed'));
    const client = this.#client;
    this.#client = undefined;
    if (client && !client.isClosed) {
      await client.leave().catch(() => {});
      client.close();
    }
    this.emit('close');
  }
}

/** Bounds a credentials fetch: a slow signal server costs the relay, never the connection. */
function withTimeout(p: Promise<readonly string[]>): Promise<readonly string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<readonly string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), TURN_CREDENTIALS_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens a share's rendezvous: creates a room on the signal server and serves every client
 * that joins (PAKE or resumption, then the transport race and channel binding), handing each
 * authenticated channel to `onChannel`. Resolves once the room exists; `code` is ready then.
 */
export async function hostRendezvous(opts: HostRendezvousOptions): Promise<HostRendezvous> {
  const r = new HostRendezvousImpl(opts);
  const started = r.start();
  // While the signal socket connects and the room is created: listeners, certificates and a
  // throw-away PAKE exchange (cold ~40-100 ms), so the first client waits for none of them.
  for (const t of opts.transports) t.prepare?.('host');
  warmUpRendezvous();
  await started;
  return r;
}
