import { EventEmitter } from 'node:events';
import {
  type CodeEvent,
  type HostRendezvous,
  hostRendezvous,
  type PathInfo,
  type PeerChannel,
  type PeerInfo,
  type TicketStore,
  type Transport,
  type TransportError,
} from '@wormhole/transport';
import type { HostSession } from '../host/host-session.js';
import { createShareHost, type ShareHost, type ShareHostOptions } from '../host/share-host.js';

/** Options of `startShare`. */
export interface ShareOptions {
  /** Folder to share. */
  readonly root: string;
  /** Default true. */
  readonly readOnly?: boolean;
  /** ws:// or wss:// URL of the signal server. */
  readonly signalUrl: string;
  /** Transports to offer (see `createTransports`). Not closed by the share. */
  readonly transports: readonly Transport[];
  /** Put `@host:port` of the signal server in the code (embedded signal servers). Default false. */
  readonly includeSignalUrl?: boolean;
  /** Secret words in the code. Default 2. */
  readonly codeWords?: number;
  /** Nameplate to reclaim after a restart, so paired clients can resume. */
  readonly room?: string;
  /** Where resumption tickets live (persist it to survive restarts). */
  readonly ticketStore?: TicketStore;
  /** Passed to the share host (chunk size, limits, watcher...). */
  readonly host?: Omit<ShareHostOptions, 'root' | 'readOnly'>;
}

/** One connected client of a share. */
export interface SharePeer {
  readonly id: string;
  readonly resumed: boolean;
  readonly path: PathInfo;
  readonly connectedAt: number;
  readonly requests: number;
  readonly bytesSent: number;
}

export interface ShareEvents {
  /** A (new) join code to show. */
  code: [event: CodeEvent];
  'peer-connected': [peer: SharePeer];
  'peer-disconnected': [peer: { id: string }];
  /** A wrong code was tried; the old code is burned and a `code` event follows. */
  'pake-failed': [event: { peerId: string; error: TransportError }];
  'peer-failed': [event: { peerId: string; error: TransportError }];
  'signal-lost': [error: TransportError];
}

/** A running share: a host serving `root` plus the rendezvous that admits peers to it. */
export interface Share extends EventEmitter<ShareEvents> {
  readonly code: string;
  readonly nameplate: string;
  readonly host: ShareHost;
  peers(): SharePeer[];
  /** Stops admitting peers, disconnects everyone, stops the watcher. Idempotent. */
  close(): Promise<void>;
}

class ShareImpl extends EventEmitter<ShareEvents> implements Share {
  readonly host: ShareHost;
  #rendezvous: HostRendezvous | undefined;
  readonly #sessions = new Map<string, { session: HostSession; info: PeerInfo; connectedAt: number }>();
  #closed = false;
  #seq = 0;

  constructor(host: ShareHost) {
    super();
    this.host = host;
  }

  get code(): string {
    return this.#rendezvous?.code ?? '';
  }
  get nameplate(): string {
    return this.#rendezvous?.nameplate ?? '';
  }

  setRendezvous(r: HostRendezvous): void {
    this.#rendezvous = r;
    r.on('code', (e) => this.emit('code', e));
    r.on('pake-failed', (e) => this.emit('pake-failed', e));
    r.on('peer-failed', (e) => this.emit('peer-failed', e));
    r.on('signal-lost', (e) => this.emit('signal-lost', e));
  }

  accept(channel: PeerChannel, info: PeerInfo): void {
    if (this.#closed) {
      channel.close('share closed');
      return;
    }
    // Signal-room peer ids are reused across reconnects; a local sequence keeps sessions apart.
    const id = `${info.peerId}#${++this.#seq}`;
    const session = this.host.attach(channel, { id });
    const entry = { session, info, connectedAt: Date.now() };
    this.#sessions.set(id, entry);
    this.emit('peer-connected', this.#describe(id, entry));
    void session.closed.then(() => {
      this.#sessions.delete(id);
      if (!this.#closed) this.emit('peer-disconnected', { id });
    });
  }

  peers(): SharePeer[] {
    return [...this.#sessions.entries()].map(([id, e]) => this.#describe(id, e));
  }

  #describe(id: string, e: { session: HostSession; info: PeerInfo; connectedAt: number }): SharePeer {
    const stats = e.session.stats();
    return {
      id,
      resumed: e.info.resumed,
      path: e.info.path,
      connectedAt: e.connectedAt,
      requests: stats.requests,
      bytesSent: stats.bytesSent,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#rendezvous?.close();
    for (const { session } of this.#sessions.values()) session.close('share closed');
    this.#sessions.clear();
    await this.host.close();
  }
}

/**
 * Shares a folder: serves it read-only (by default) and admits every peer that proves it knows
 * the join code (or holds a resumption ticket) through the signal server.
 */
export async function startShare(options: ShareOptions): Promise<Share> {
  const host = await createShareHost({
    ...options.host,
    root: options.root,
    readOnly: options.readOnly ?? true,
  });
  const share = new ShareImpl(host);
  try {
    const rendezvous = await hostRendezvous({
      signalUrl: options.signalUrl,
      transports: options.transports,
      onChannel: (channel, info) => share.accept(channel, info),
      ...(options.codeWords !== undefined && { codeWords: options.codeWords }),
      ...(options.room !== undefined && { room: options.room }),
      ...(options.includeSignalUrl !== undefined && { includeSignalUrl: options.includeSignalUrl }),
      ...(options.ticketStore !== undefined && { ticketStore: options.ticketStore }),
    });
    share.setRendezvous(rendezvous);
  } catch (err) {
    await host.close();
    throw err;
  }
  return share;
}
