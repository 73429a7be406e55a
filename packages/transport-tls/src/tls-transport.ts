import type { ConnectOptions, Transport, TransportSession } from '@wormhole/transport';
import {
  advertisedAddresses,
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from '@wormhole/transport/direct';
import { type ResolvedTlsOptions, resolveOptions, type TlsTransportOptions } from './options.js';
import { TlsListener } from './tls-listener.js';
import type { TlsPeerChannel } from './tls-peer-channel.js';
import { TlsSession, type TlsSessionContext } from './tls-session.js';

class TlsTransport implements Transport, TlsSessionContext {
  readonly kind = 'tls' as const;
  readonly [Symbol.toStringTag] = '@wormhole/transport-tls';
  readonly options: ResolvedTlsOptions;
  readonly #sessions = new Set<TlsSession>();
  readonly #channels = new Set<TlsPeerChannel>();
  /** TURN allocations being released (Refresh, lifetime 0); close() waits for them. */
  readonly #releases = new Set<Promise<void>>();
  #identity: Promise<SelfSignedCertificate> | undefined;
  #listener: Promise<TlsListener> | undefined;
  #closed = false;

  constructor(options: TlsTransportOptions | undefined) {
    this.options = resolveOptions(options);
  }

  isAvailable(): boolean {
    return true; // node:tls is built in
  }

  createSession(role: 'host' | 'client', options: ConnectOptions): TransportSession {
    const session = new TlsSession(role, this, options.signal, options.iceServers);
    if (this.#closed) session.close();
    else this.#sessions.add(session);
    return session;
  }

  prepare(role: 'host' | 'client'): void {
    if (this.#closed) return;
    // A session's own call reports a failure; this early start only takes it off the critical path.
    (role === 'host' ? this.listener() : this.identity()).catch(() => {});
  }

  identity(): Promise<SelfSignedCertificate> {
    this.#identity ??= createSelfSignedCertificate();
    return this.#identity;
  }

  listener(): Promise<TlsListener> {
    this.#listener ??= this.identity().then(async (cert) => {
      const listener = await TlsListener.start(cert, this.options.listenHost, this.options.listenPort);
      // close() may have run while the port was being bound.
      if (this.#closed) await listener.close();
      return listener;
    });
    return this.#listener;
  }

  advertised(port: number): string[] {
    return advertisedAddresses(this.options.advertiseAddresses, this.options.listenHost, port);
  }

  adopt(channel: TlsPeerChannel): void {
    if (this.#closed) channel.close('transport closed');
    else this.#channels.add(channel);
  }

  forgetChannel(channel: TlsPeerChannel): void {
    this.#channels.delete(channel);
  }

  forget(session: TlsSession): void {
    this.#sessions.delete(session);
  }

  releasing(done: Promise<void>): void {
    this.#releases.add(done);
    void done.finally(() => this.#releases.delete(done));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) s.close();
    for (const c of [...this.#channels]) c.close('transport closed');
    await Promise.all([...this.#releases]);
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener)
      await listener.then(
        (l) => l.close(),
        () => {},
      );
  }
}

/**
 * Creates the direct TLS 1.3 transport. The host side lazily starts one listener on the first
 * host session; `close()` stops it and closes every channel it made.
 */
export function tlsTransport(options?: TlsTransportOptions): Transport {
  return new TlsTransport(options);
}
