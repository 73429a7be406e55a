import { randomBytes } from 'node:crypto';
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
import { probeCertHash } from './cert-probe.js';
import type { WtBinding, WtSession } from './native.js';
import type { ResolvedWebTransportOptions } from './options.js';
import { readExactly } from './read-exactly.js';
import { SESSION_PATH } from './wire.js';
import type { AcceptedSession, WtListener } from './wt-listener.js';
import { WtPeerChannel } from './wt-peer-channel.js';

/** What a session needs from its Transport. */
export interface WtSessionContext {
  readonly options: ResolvedWebTransportOptions;
  binding(): Promise<WtBinding>;
  identity(): Promise<SelfSignedCertificate>;
  listener(): Promise<WtListener>;
  advertised(port: number): string[];
  adopt(channel: WtPeerChannel): void;
  forgetChannel(channel: WtPeerChannel): void;
  forget(session: WtSessionAttempt): void;
}

/**
 * One connection attempt. Host: registers a fresh token with the shared server and emits one
 * `listen` signal. Client: validates it, dials the addresses with the certificate hash as
 * `serverCertificateHashes` (the pin), opens the one stream and presents the token.
 *
 * Binding (what the engine MACs): the client has no certificate in WebTransport, so its
 * identity is SHA-256 of the token it presented. Host: { local: own cert hash, remote:
 * sha256(token received) }. Client: { local: sha256(token sent), remote: the cert hash the
 * connection was pinned to }. A relay that swaps certHash makes client.remote differ from
 * host.local, so the MAC check fails.
 */
export class WtSessionAttempt implements TransportSession {
  readonly kind = 'webtransport' as const;
  readonly connected: Promise<PeerChannel>;
  readonly #role: 'host' | 'client';
  readonly #ctx: WtSessionContext;
  readonly #attempt = new AbortController();
  readonly #signalListeners: Array<(s: TransportSignal) => void> = [];
  readonly #emitted: TransportSignal[] = [];
  readonly #external: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  #resolve!: (c: PeerChannel) => void;
  #reject!: (e: Error) => void;
  #settled = false;
  #token: string | undefined;
  #listener: WtListener | undefined;
  #dialing = false;

  constructor(role: 'host' | 'client', ctx: WtSessionContext, signal: AbortSignal) {
    this.#role = role;
    this.#ctx = ctx;
    this.#external = signal;
    this.connected = new Promise<PeerChannel>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.connected.catch(() => {});
    this.#timer = setTimeout(
      () =>
        this.#fail(
          TransportError.TIMEOUT(`webtransport: not connected after ${ctx.options.connectTimeoutMs} ms`),
        ),
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
    if (this.#role === 'host') {
      throw new TransportError('TRANSPORT_BAD_SIGNAL', 'webtransport: a host session takes no signals');
    }
    const parsed = parseListenSignal(signal);
    if (this.#dialing || this.#settled) return;
    this.#dialing = true;
    void this.#startClient(parsed);
  }

  close(): void {
    this.#fail(TransportError.CLOSED('webtransport: session closed before it connected'));
  }

  readonly #onAbort = (): void => {
    this.#fail(TransportError.ABORTED());
  };

  #succeed(channel: WtPeerChannel): void {
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
      const [identity, listener, binding] = await Promise.all([
        this.#ctx.identity(),
        this.#ctx.listener(),
        this.#ctx.binding(),
      ]);
      if (this.#settled) return;
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      this.#token = token;
      this.#listener = listener;
      listener.expect(token, (a) => this.#accept(a, identity, binding));
      const signal: ListenSignal = {
        type: 'listen',
        addresses: this.#ctx.advertised(listener.port),
        certHash: identity.sha256,
        token,
      };
      this.#emitted.push(signal);
      for (const l of this.#signalListeners) l(signal);
    } catch (err) {
      this.#fail(asTransportError(err, 'webtransport: could not start the server'));
    }
  }

  #accept(a: AcceptedSession, identity: SelfSignedCertificate, binding: WtBinding): void {
    if (this.#settled) {
      a.session.close({ closeCode: 1, reason: 'refused' });
      return;
    }
    const writer = a.stream.writable.getWriter();
    writer.write(ACK).catch(() => {});
    this.#succeed(
      new WtPeerChannel(a.session, a.reader, writer, {
        ...this.#channelInit(binding, { local: identity.sha256, remote: sha256Hex(a.token) }, a.rest),
        remoteAddress: formatPeerAddress(a.session.peerAddress),
      }),
    );
  }

  async #startClient(signal: ListenSignal): Promise<void> {
    const attempt = this.#attempt.signal;
    try {
      const binding = await this.#ctx.binding();
      const pin = Buffer.from(signal.certHash, 'hex');
      const targets = signal.addresses
        .map((a) => parseHostPort(a))
        .filter((t): t is HostPort => t !== undefined);
      let pinFailure: TransportError | undefined;
      const won = await raceDial(
        targets,
        async (target, cancel) => {
          try {
            return { target, session: await dialOne(binding, target, pin, cancel) };
          } catch (err) {
            if (err instanceof TransportError && err.code === 'TRANSPORT_AUTH_FAILED') pinFailure = err;
            throw err;
          }
        },
        (w) => closeQuietly(w.session),
        attempt,
        this.#ctx.options.dialStaggerMs,
      ).catch((err: unknown) => {
        throw pinFailure ?? err;
      });
      const { session, target } = won;
      let reader: ReadableStreamDefaultReader<Uint8Array>;
      let writer: WritableStreamDefaultWriter<Uint8Array>;
      let rest: Buffer;
      try {
        const stream = await session.createBidirectionalStream();
        reader = stream.readable.getReader();
        writer = stream.writable.getWriter();
        writer.write(tokenFrame(signal.token)).catch(() => {});
        const ack = await readExactly(reader, ACK.byteLength, attempt);
        if (!ack.head.equals(ACK)) throw new Error('bad handshake answer');
        rest = ack.rest;
      } catch (err) {
        closeQuietly(session);
        if (attempt.aborted) throw err;
        throw new TransportError('TRANSPORT_CONNECT_FAILED', 'webtransport: the host refused the token', {
          cause: err,
        });
      }
      const tokenHash = sha256Hex(Buffer.from(signal.token, 'base64url'));
      const channel = new WtPeerChannel(session, reader, writer, {
        ...this.#channelInit(binding, { local: tokenHash, remote: signal.certHash }, rest),
        remoteAddress: formatHostPort(target.host, target.port),
        protocol: session.reliability === 'supports-unreliable' ? 'quic' : 'http2',
      });
      if (attempt.aborted) channel.close('attempt ended');
      else this.#succeed(channel);
    } catch (err) {
      if (attempt.aborted) return; // #fail already ran with the right reason
      this.#fail(asTransportError(err, 'webtransport: no advertised address answered'));
    }
  }

  #channelInit(binding: WtBinding, b: { local: string; remote: string }, leftover: Buffer) {
    return {
      maxMessageBytes: this.#ctx.options.maxMessageBytes,
      binding: b,
      leftover,
      protocol: binding.mode,
      onClosed: (channel: WtPeerChannel) => this.#ctx.forgetChannel(channel),
    };
  }
}

/** One dial: resolves with a ready session whose certificate matched the pin. */
async function dialOne(
  binding: WtBinding,
  target: HostPort,
  pin: Buffer,
  cancel: AbortSignal,
): Promise<WtSession> {
  if (cancel.aborted) throw new Error('dial cancelled');
  const url = `https://${formatHostPort(target.host, target.port)}${SESSION_PATH}`;
  const session = binding.connect(url, pin);
  session.closed.catch(() => {});
  let onCancel: (() => void) | undefined;
  try {
    await Promise.race([
      session.ready,
      new Promise<never>((_, reject) => {
        onCancel = () => reject(new Error('dial cancelled'));
        cancel.addEventListener('abort', onCancel, { once: true });
      }),
    ]);
    return session;
  } catch (err) {
    closeQuietly(session);
    const text = String((err as Error)?.message ?? err);
    if (cancel.aborted) {
      // The library's close() does nothing before the session is up, and its HTTP/2
      // connection then idles until the host drops it: a `wormhole get` whose race tls won
      // stayed alive ~2 s after finishing in half the runs (scripts/bench/first-byte.ts cli).
      // Close it the moment it comes up.
      session.ready.then(
        () => closeQuietly(session),
        () => {},
      );
      throw err;
    }
    const seen = await probeCertHash(target);
    if (seen !== undefined && seen !== pin.toString('hex')) {
      throw new TransportError(
        'TRANSPORT_AUTH_FAILED',
        `webtransport: ${url} presented a certificate that does not match the pinned hash`,
        { cause: err },
      );
    }
    throw new TransportError('TRANSPORT_CONNECT_FAILED', `webtransport: ${url}: ${text}`, { cause: err });
  } finally {
    if (onCancel) cancel.removeEventListener('abort', onCancel);
  }
}

function formatPeerAddress(peer: unknown): string | undefined {
  if (typeof peer === 'string') return peer;
  if (typeof peer === 'object' && peer !== null) {
    const p = peer as { host?: unknown; address?: unknown; port?: unknown };
    const host = typeof p.host === 'string' ? p.host : typeof p.address === 'string' ? p.address : undefined;
    if (host !== undefined && typeof p.port === 'number') return formatHostPort(host, p.port);
  }
  return undefined;
}

function closeQuietly(session: WtSession): void {
  try {
    session.close({ closeCode: 0, reason: 'not used' });
  } catch {
    // already closed
  }
}

function asTransportError(err: unknown, message: string): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError(
    'TRANSPORT_CONNECT_FAILED',
    `${message}: ${(err as Error)?.message ?? String(err)}`,
    {
      cause: err,
    },
  );
}
