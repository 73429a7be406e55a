import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import type { PeerChannel, TransportSession, TransportSignal } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import {
  ACK,
  formatHostPort,
  type HostPort,
  type ListenSignal,
  parseHostPort,
  parseListenSignal,
  raceDial,
  type SelfSignedCertificate,
  sha256Hex,
  TOKEN_BYTES,
  tokenFrame,
} from '@wormhole/transport/direct';
import { type RelayedConnection, turnTcpServers } from '@wormhole/transport/turn';
import { ClientRelay } from './client-relay.js';
import { HostRelay } from './host-relay.js';
import type { ResolvedTlsOptions } from './options.js';
import { readExactly } from './read-exactly.js';
import { isRelaySignal, parseRelaySignal, type RelaySignalMessage } from './relay-signals.js';
import type { RelayedVia, TlsListener } from './tls-listener.js';
import { TlsPeerChannel } from './tls-peer-channel.js';
import { ALPN } from './wire.js';

/** What a session needs from its Transport. */
export interface TlsSessionContext {
  readonly options: ResolvedTlsOptions;
  identity(): Promise<SelfSignedCertificate>;
  listener(): Promise<TlsListener>;
  advertised(port: number): string[];
  /** The session connected: the transport tracks the channel until it closes. */
  adopt(channel: TlsPeerChannel): void;
  forgetChannel(channel: TlsPeerChannel): void;
  forget(session: TlsSession): void;
  /** A TURN allocation is being released: `close()` waits for it. */
  releasing(done: Promise<void>): void;
}

/** What the client dials: an advertised address, or the host's relayed address once it is known. */
type DialTarget = { readonly kind: 'direct'; readonly hp: HostPort } | { readonly kind: 'relay' };
/** A dialled, pinned socket and whether it runs through the relay. */
type Dialled = { readonly socket: TLSSocket; readonly relay: HostPort | undefined };

/**
 * One connection attempt. Host: registers a fresh token with the shared listener and emits one
 * `listen` signal. Client: validates that signal, dials its addresses, pins the certificate,
 * presents the token.
 *
 * With a `turn:...?transport=tcp` server among the session's ICE servers, both sides also set
 * up a relay (RFC 6062): the host allocates a TCP relayed address; the client learns its public
 * IP and sends it (`relay-permit`); the host permits that IP and announces the address
 * (`relay`); the client dials it last, after the direct addresses (happy-eyeballs order).
 * Relayed connections go through the same TLS handshake, pin and token as direct ones.
 */
export class TlsSession implements TransportSession {
  readonly kind = 'tls' as const;
  readonly connected: Promise<PeerChannel>;
  readonly #role: 'host' | 'client';
  readonly #ctx: TlsSessionContext;
  readonly #attempt = new AbortController();
  readonly #signalListeners: Array<(s: TransportSignal) => void> = [];
  readonly #emitted: TransportSignal[] = [];
  readonly #external: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  #resolve!: (c: PeerChannel) => void;
  #reject!: (e: Error) => void;
  #settled = false;
  #token: string | undefined;
  #listener: TlsListener | undefined;
  #dialing = false;
  #hostRelay: HostRelay | undefined;
  #clientRelay: ClientRelay | undefined;
  /** Host: the winning channel runs over the relay, which then lives until the channel closes. */
  #relayKept = false;
  /** Host: a client asks for its permission once per session; repeats are ignored. */
  #permitAsked = false;

  constructor(
    role: 'host' | 'client',
    ctx: TlsSessionContext,
    signal: AbortSignal,
    iceServers: readonly string[] = [],
  ) {
    this.#role = role;
    this.#ctx = ctx;
    this.#external = signal;
    this.connected = new Promise<PeerChannel>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller may only look at `connected` later; never report it as unhandled.
    this.connected.catch(() => {});
    this.#timer = setTimeout(
      () => this.#fail(TransportError.TIMEOUT(`tls: not connected after ${ctx.options.connectTimeoutMs} ms`)),
      ctx.options.connectTimeoutMs,
    );
    signal.addEventListener('abort', this.#onAbort, { once: true });
    if (signal.aborted) {
      this.#onAbort();
      return;
    }
    const turn = ctx.options.turnTcp
      ? turnTcpServers([...iceServers, ...ctx.options.iceServers])[0]
      : undefined;
    const turnTimeoutMs = Math.min(5000, ctx.options.connectTimeoutMs);
    if (role === 'host') {
      if (turn) this.#hostRelay = new HostRelay(turn, turnTimeoutMs, (c) => this.#onRelayed(c));
      void this.#startHost();
    } else if (turn) {
      this.#clientRelay = new ClientRelay(turn, turnTimeoutMs, (s) => this.#emit(s));
    }
  }

  onSignal(listener: (signal: TransportSignal) => void): void {
    this.#signalListeners.push(listener);
    for (const s of this.#emitted) listener(s);
  }

  handleSignal(signal: TransportSignal): void {
    if (isRelaySignal(signal)) {
      this.#onRelaySignal(parseRelaySignal(signal));
      return;
    }
    if (this.#role === 'host')
      throw new TransportError('TRANSPORT_BAD_SIGNAL', 'tls: a host session takes only relay signals');
    const parsed = parseListenSignal(signal);
    if (this.#dialing || this.#settled) return;
    this.#dialing = true;
    void this.#startClient(parsed);
  }

  #onRelaySignal(s: RelaySignalMessage): void {
    if (s.type === 'relay-permit') {
      if (this.#role !== 'host')
        throw new TransportError('TRANSPORT_BAD_SIGNAL', 'tls: relay-permit sent to a client');
      if (this.#settled || this.#permitAsked) return;
      this.#permitAsked = true;
      const relay = this.#hostRelay;
      if (relay === undefined) {
        this.#emit({ type: 'relay-unavailable', reason: 'the host has no TURN-over-TCP server' });
        return;
      }
      relay.permit(s.addresses).then(
        (address) => {
          if (!this.#settled) this.#emit({ type: 'relay', address });
        },
        (err: Error) => {
          if (!this.#settled) this.#emit({ type: 'relay-unavailable', reason: err.message.slice(0, 300) });
        },
      );
      return;
    }
    if (this.#role !== 'client')
      throw new TransportError('TRANSPORT_BAD_SIGNAL', `tls: ${s.type} sent to a host`);
    if (s.type === 'relay') this.#clientRelay?.relayed(s.address);
    else this.#clientRelay?.fail(`the host said: ${s.reason}`);
  }

  #emit(signal: TransportSignal): void {
    if (this.#settled) return;
    this.#emitted.push(signal);
    for (const l of this.#signalListeners) l(signal);
  }

  close(): void {
    this.#fail(TransportError.CLOSED('tls: session closed before it connected'));
  }

  readonly #onAbort = (): void => {
    this.#fail(TransportError.ABORTED());
  };

  #succeed(channel: TlsPeerChannel): void {
    if (this.#settled) {
      channel.close('session already settled');
      return;
    }
    this.#settled = true;
    this.#cleanup();
    this.#ctx.adopt(channel);
    this.#resolve(channel);
  }

  #fail(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#attempt.abort(err);
    this.#cleanup();
    this.#reject(err);
  }

  #cleanup(): void {
    clearTimeout(this.#timer);
    this.#external.removeEventListener('abort', this.#onAbort);
    if (this.#token !== undefined) this.#listener?.forget(this.#token);
    this.#clientRelay?.fail('session ended');
    const relay = this.#hostRelay;
    if (relay && !this.#relayKept) this.#ctx.releasing(relay.close());
    relay?.stopAccepting();
    this.#ctx.forget(this);
  }

  /** Host: a peer came in through the relay; run it through the listener like a direct one. */
  #onRelayed(c: RelayedConnection): void {
    const listener = this.#listener;
    if (this.#settled || listener === undefined) {
      c.socket.destroy();
      return;
    }
    listener.acceptRelayed(c.socket, c.rest, { peer: formatHostPort(c.peer.address, c.peer.port) });
  }

  async #startHost(): Promise<void> {
    try {
      const [identity, listener] = await Promise.all([this.#ctx.identity(), this.#ctx.listener()]);
      if (this.#settled) return;
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      this.#token = token;
      this.#listener = listener;
      listener.expect(token, (socket, rest, via) => this.#accept(socket, rest, identity, via));
      const signal: ListenSignal = {
        type: 'listen',
        addresses: this.#ctx.advertised(listener.port),
        certHash: identity.sha256,
        token,
      };
      this.#emit(signal);
    } catch (err) {
      this.#fail(asTransportError(err, 'TRANSPORT_CONNECT_FAILED', 'tls: could not start the listener'));
    }
  }

  #accept(
    socket: TLSSocket,
    rest: Buffer,
    identity: SelfSignedCertificate,
    via: RelayedVia | undefined,
  ): void {
    const peer = socket.getPeerX509Certificate();
    if (this.#settled || peer === undefined) {
      socket.destroy();
      return;
    }
    socket.write(ACK);
    const relay = via && this.#hostRelay;
    // The relay carries this channel: release it when the channel closes, not when we settle.
    if (relay) this.#relayKept = true;
    // host.local = own cert; host.remote = the client certificate this TLS session carries.
    this.#succeed(
      this.#channel(socket, rest, identity.sha256, sha256Hex(peer.raw), {
        ...(via && { relay: { side: 'host', remoteAddress: via.peer } }),
        ...(relay && { onClosed: () => this.#ctx.releasing(relay.close()) }),
      }),
    );
  }

  async #startClient(signal: ListenSignal): Promise<void> {
    const attempt = this.#attempt.signal;
    let pinFailure: TransportError | undefined;
    try {
      const identity = await this.#ctx.identity();
      const targets: DialTarget[] = signal.addresses
        .map((a) => parseHostPort(a))
        .filter((t): t is HostPort => t !== undefined)
        .map((hp) => ({ kind: 'direct', hp }));
      // The relay goes last: it starts after every direct address had its stagger slot, or at
      // once when they all failed, and waits for the host's relayed address if it is not known yet.
      const relay = this.#clientRelay;
      if (relay) targets.push({ kind: 'relay' });
      const { socket, relay: relayedVia } = await raceDial<DialTarget, Dialled>(
        targets,
        async (target, cancel) => {
          try {
            const hp = target.kind === 'direct' ? target.hp : await untilAborted(relay!.target, cancel);
            const socket = await dialOne(hp, identity, signal.certHash, cancel);
            return { socket, relay: target.kind === 'relay' ? hp : undefined };
          } catch (err) {
            if (err instanceof TransportError && err.code === 'TRANSPORT_AUTH_FAILED') pinFailure = err;
            throw err;
          }
        },
        (d) => d.socket.destroy(),
        attempt,
        this.#ctx.options.dialStaggerMs,
      );
      let head: Buffer;
      let rest: Buffer;
      try {
        socket.write(tokenFrame(signal.token));
        ({ head, rest } = await readExactly(socket, ACK.byteLength, attempt));
      } catch (err) {
        socket.destroy();
        if (attempt.aborted) throw err;
        throw new TransportError('TRANSPORT_CONNECT_FAILED', 'tls: the host refused the token', {
          cause: err,
        });
      }
      if (!head.equals(ACK)) {
        socket.destroy();
        throw new TransportError('TRANSPORT_CONNECT_FAILED', 'tls: bad handshake answer from the host');
      }
      const peer = socket.getPeerCertificate(true);
      // client.local = own cert; client.remote = the server certificate as pinned.
      this.#succeed(
        this.#channel(socket, rest, identity.sha256, sha256Hex(peer.raw), {
          ...(relayedVia && {
            relay: { side: 'client', remoteAddress: formatHostPort(relayedVia.host, relayedVia.port) },
          }),
        }),
      );
    } catch (err) {
      if (attempt.aborted) return; // #fail already ran with the right reason
      this.#fail(
        pinFailure ??
          asTransportError(err, 'TRANSPORT_CONNECT_FAILED', 'tls: no advertised address answered'),
      );
    }
  }

  #channel(
    socket: TLSSocket,
    rest: Buffer,
    local: string,
    remote: string,
    extra: { relay?: { side: 'host' | 'client'; remoteAddress: string }; onClosed?: () => void } = {},
  ): TlsPeerChannel {
    let channel: TlsPeerChannel | undefined;
    channel = new TlsPeerChannel(socket, {
      maxMessageBytes: this.#ctx.options.maxMessageBytes,
      binding: { local, remote },
      leftover: rest,
      onClosed: () => {
        if (channel) this.#ctx.forgetChannel(channel);
        extra.onClosed?.();
      },
      ...(extra.relay && { relay: extra.relay }),
    });
    return channel;
  }
}

/** One TLS dial: handshake, ALPN check, certificate pin. Resolves with an authenticated socket. */
function dialOne(
  target: HostPort,
  identity: SelfSignedCertificate,
  certHash: string,
  cancel: AbortSignal,
): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    if (cancel.aborted) return reject(new Error('dial cancelled'));
    const socket = connect({
      host: target.host,
      port: target.port,
      cert: identity.certPem,
      key: identity.keyPem,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [ALPN],
      // Self-signed peers: trust comes from the pin below (and the engine's channel binding).
      rejectUnauthorized: false,
    });
    const fail = (err: Error): void => {
      cancel.removeEventListener('abort', onCancel);
      socket.destroy();
      reject(err);
    };
    const onCancel = (): void => fail(new Error('dial cancelled'));
    socket.once('error', (err) =>
      fail(
        new TransportError('TRANSPORT_CONNECT_FAILED', `tls: ${formatTarget(target)}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(true).raw;
      if (raw === undefined || sha256Hex(raw) !== certHash) {
        fail(
          new TransportError(
            'TRANSPORT_AUTH_FAILED',
            `tls: ${formatTarget(target)} presented a certificate that does not match the pinned hash`,
          ),
        );
        return;
      }
      if (socket.alpnProtocol !== ALPN) {
        fail(
          new TransportError(
            'TRANSPORT_CONNECT_FAILED',
            `tls: ${formatTarget(target)} did not agree on ALPN ${ALPN}`,
          ),
        );
        return;
      }
      cancel.removeEventListener('abort', onCancel);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve(socket);
    });
    cancel.addEventListener('abort', onCancel, { once: true });
  });
}

/** `p`, or a rejection as soon as `signal` aborts (the relay address may never come). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('dial cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('dial cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function formatTarget(t: HostPort): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function asTransportError(err: unknown, code: 'TRANSPORT_CONNECT_FAILED', message: string): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError(code, `${message}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
