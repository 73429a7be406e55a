import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import type { PeerChannel, TransportSession, TransportSignal } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import {
  ACK,
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
import type { ResolvedTlsOptions } from './options.js';
import { readExactly } from './read-exactly.js';
import type { TlsListener } from './tls-listener.js';
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
}

/**
 * One connection attempt. Host: registers a fresh token with the shared listener and emits one
 * `listen` signal. Client: validates that signal, dials its addresses, pins the certificate,
 * presents the token.
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

  constructor(role: 'host' | 'client', ctx: TlsSessionContext, signal: AbortSignal) {
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
    if (signal.aborted) this.#onAbort();
    else if (role === 'host') void this.#startHost();
  }

  onSignal(listener: (signal: TransportSignal) => void): void {
    this.#signalListeners.push(listener);
    for (const s of this.#emitted) listener(s);
  }

  handleSignal(signal: TransportSignal): void {
    if (this.#role === 'host')
      throw new TransportError('TRANSPORT_BAD_SIGNAL', 'tls: a host session takes no signals');
    const parsed = parseListenSignal(signal);
    if (this.#dialing || this.#settled) return;
    this.#dialing = true;
    void this.#startClient(parsed);
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
    this.#ctx.forget(this);
  }

  async #startHost(): Promise<void> {
    try {
      const [identity, listener] = await Promise.all([this.#ctx.identity(), this.#ctx.listener()]);
      if (this.#settled) return;
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      this.#token = token;
      this.#listener = listener;
      listener.expect(token, (socket, rest) => this.#accept(socket, rest, identity));
      const signal: ListenSignal = {
        type: 'listen',
        addresses: this.#ctx.advertised(listener.port),
        certHash: identity.sha256,
        token,
      };
      this.#emitted.push(signal);
      for (const l of this.#signalListeners) l(signal);
    } catch (err) {
      this.#fail(asTransportError(err, 'TRANSPORT_CONNECT_FAILED', 'tls: could not start the listener'));
    }
  }

  #accept(socket: TLSSocket, rest: Buffer, identity: SelfSignedCertificate): void {
    const peer = socket.getPeerX509Certificate();
    if (this.#settled || peer === undefined) {
      socket.destroy();
      return;
    }
    socket.write(ACK);
    // host.local = own cert; host.remote = the client certificate this TLS session carries.
    this.#succeed(this.#channel(socket, rest, identity.sha256, sha256Hex(peer.raw)));
  }

  async #startClient(signal: ListenSignal): Promise<void> {
    const attempt = this.#attempt.signal;
    let pinFailure: TransportError | undefined;
    try {
      const identity = await this.#ctx.identity();
      const targets = signal.addresses
        .map((a) => parseHostPort(a))
        .filter((t): t is HostPort => t !== undefined);
      const socket = await raceDial(
        targets,
        async (target, cancel) => {
          try {
            return await dialOne(target, identity, signal.certHash, cancel);
          } catch (err) {
            if (err instanceof TransportError && err.code === 'TRANSPORT_AUTH_FAILED') pinFailure = err;
            throw err;
          }
        },
        (s) => s.destroy(),
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
      this.#succeed(this.#channel(socket, rest, identity.sha256, sha256Hex(peer.raw)));
    } catch (err) {
      if (attempt.aborted) return; // #fail already ran with the right reason
      this.#fail(
        pinFailure ??
          asTransportError(err, 'TRANSPORT_CONNECT_FAILED', 'tls: no advertised address answered'),
      );
    }
  }

  #channel(socket: TLSSocket, rest: Buffer, local: string, remote: string): TlsPeerChannel {
    let channel: TlsPeerChannel | undefined;
    channel = new TlsPeerChannel(socket, {
      maxMessageBytes: this.#ctx.options.maxMessageBytes,
      binding: { local, remote },
      leftover: rest,
      onClosed: () => channel && this.#ctx.forgetChannel(channel),
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

function formatTarget(t: HostPort): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function asTransportError(err: unknown, code: 'TRANSPORT_CONNECT_FAILED', message: string): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError(code, `${message}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
