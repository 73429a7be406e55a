import type { ConnectOptions, Transport, TransportSession } from '@wormhole/transport';
import {
  advertisedAddresses,
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from '@wormhole/transport/direct';
import { isAvailable, loadBinding, type WtBinding } from './native.js';
import {
  type ResolvedWebTransportOptions,
  resolveWebTransportOptions,
  type WebTransportTransportOptions,
} from './options.js';
import { WtListener } from './wt-listener.js';
import type { WtPeerChannel } from './wt-peer-channel.js';
import { WtSessionAttempt, type WtSessionContext } from './wt-session.js';

class WebTransportTransport implements Transport, WtSessionContext {
  readonly kind = 'webtransport' as const;
  readonly [Symbol.toStringTag] = '@wormhole/transport-webtransport';
  readonly options: ResolvedWebTransportOptions;
  readonly #sessions = new Set<WtSessionAttempt>();
  readonly #channels = new Set<WtPeerChannel>();
  #identity: Promise<SelfSignedCertificate> | undefined;
  #listener: Promise<WtListener> | undefined;
  #closed = false;

  constructor(options: WebTransportTransportOptions | undefined) {
    this.options = resolveWebTransportOptions(options);
  }

  get raceDelayMs(): number {
    return this.options.raceDelayMs;
  }

  isAvailable(): boolean {
    return isAvailable();
  }

  createSession(role: 'host' | 'client', options: ConnectOptions): TransportSession {
    const session = new WtSessionAttempt(role, this, options.signal);
    if (this.#closed) session.close();
    else this.#sessions.add(session);
    return session;
  }

  prepare(role: 'host' | 'client'): void {
    if (this.#closed) return;
    // Loading the library (~30-150 ms the first time) and the certificate overlap the
    // rendezvous; a session's own call reports a failure.
    if (role === 'host') this.listener().catch(() => {});
    else Promise.all([this.binding(), this.identity()]).catch(() => {});
  }

  binding(): Promise<WtBinding> {
    return loadBinding();
  }

  identity(): Promise<SelfSignedCertificate> {
    this.#identity ??= createSelfSignedCertificate();
    return this.#identity;
  }

  listener(): Promise<WtListener> {
    this.#listener ??= Promise.all([this.binding(), this.identity()]).then(async ([binding, cert]) => {
      const listener = await WtListener.start(
        binding,
        cert,
        this.options.listenHost,
        this.options.listenPort,
      );
      if (this.#closed) await listener.close();
      return listener;
    });
    return this.#listener;
  }

  advertised(port: number): string[] {
    return advertisedAddresses(this.options.advertiseAddresses, this.options.listenHost, port);
  }

  adopt(channel: WtPeerChannel): void {
    if (this.#closed) channel.close('transport closed');
    else this.#channels.add(channel);
  }

  forgetChannel(channel: WtPeerChannel): void {
    this.#channels.delete(channel);
  }

  forget(session: WtSessionAttempt): void {
    this.#sessions.delete(session);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) s.close();
    for (const c of [...this.#channels]) c.close('transport closed');
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
 * Creates the direct WebTransport transport (HTTP/3 where the native quiche part is present,
 * the library's HTTP/2 mode otherwise). The host side lazily starts one server on the first
 * host session; `close()` stops it and closes every channel it made.
 */
export function webTransportTransport(options?: WebTransportTransportOptions): Transport {
  return new WebTransportTransport(options);
}
