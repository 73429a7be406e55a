import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { constantTimeEqual, utf8 } from './bytes.js';
import type { SessionKeys } from './key-schedule.js';
import type {
  ChannelBinding,
  CloseInfo,
  PathInfo,
  PeerChannel,
  PeerChannelEvents,
  TransportKind,
} from './peer-channel.js';
import { TransportError } from './transport-error.js';

export type PeerRole = 'host' | 'client';

export interface AuthenticateOptions {
  readonly signal?: AbortSignal;
  /** How long to wait for the peer's binding MAC. Default 10000. */
  readonly timeoutMs?: number;
}

/**
 * The binding MAC: HMAC-SHA256(bindingKey, label ‖ kind ‖ role ‖ local ‖ remote), fields
 * NUL-separated (fingerprints are hex, kinds and roles fixed words, so no field holds a NUL).
 */
export function bindingMac(
  key: Uint8Array,
  kind: TransportKind,
  role: PeerRole,
  local: string,
  remote: string,
): Uint8Array {
  const h = createHmac('sha256', key);
  h.update(utf8(['wormhole-v1 channel binding', kind, role, local, remote].join('\0')));
  return new Uint8Array(h.digest());
}

/**
 * Proves over a freshly connected channel that the peer holds the same PAKE-derived key *and*
 * sees the same certificates we do. Each side sends MAC(role, its local fp, its remote fp) as
 * its first message and checks the peer's against (peer role, our remote fp, our local fp). A
 * relay that substituted a certificate (man in the middle) makes the views differ.
 *
 * Resolves with a channel that delivers every later message (buffered until the first
 * 'message' listener is attached, so nothing sent right after the MAC is lost). On mismatch or
 * timeout: closes the channel, rejects with TRANSPORT_BINDING_MISMATCH (TRANSPORT_ABORTED on abort).
 */
export async function authenticateChannel(
  channel: PeerChannel,
  keys: Pick<SessionKeys, 'binding'>,
  role: PeerRole,
  opts: AuthenticateOptions = {},
): Promise<AuthenticatedChannel> {
  const auth = new AuthenticatedChannel(channel);
  const view = channel.binding();
  const peerRole: PeerRole = role === 'host' ? 'client' : 'host';
  try {
    if (!view.local || !view.remote)
      throw TransportError.BINDING_MISMATCH('Transport reported an empty fingerprint');
    const mine = bindingMac(keys.binding, channel.kind, role, view.local, view.remote);
    const expected = bindingMac(keys.binding, channel.kind, peerRole, view.remote, view.local);
    const sent = channel.send(mine);
    // When the wait below fails first (the channel closed: e.g. the race's loser), this send's
    // rejection has nobody awaiting it; unhandled, it would end the process.
    sent.catch(() => {});
    const got = await auth.readOne(opts.signal, opts.timeoutMs ?? 10_000, 'binding MAC');
    if (!constantTimeEqual(got, expected)) throw TransportError.BINDING_MISMATCH();
    await sent;
    return auth;
  } catch (err) {
    auth.close('channel binding failed');
    if (
      err instanceof TransportError &&
      (err.code === 'TRANSPORT_ABORTED' || err.code === 'TRANSPORT_BINDING_MISMATCH')
    )
      throw err;
    throw TransportError.BINDING_MISMATCH(
      err instanceof TransportError && err.code === 'TRANSPORT_TIMEOUT'
        ? 'Peer did not prove the channel binding in time'
        : 'Channel closed before the binding was proven',
      { cause: err },
    );
  }
}

/**
 * A PeerChannel wrapper that holds back messages until someone listens, and lets the
 * handshake read single messages first. Everything else is delegated.
 */
export class AuthenticatedChannel extends EventEmitter<PeerChannelEvents> implements PeerChannel {
  readonly inner: PeerChannel;
  #buffer: Uint8Array[] = [];
  #waiter: ((m: Uint8Array | undefined) => void) | undefined;
  #closeInfo: CloseInfo | undefined;
  #flushing = false;

  constructor(inner: PeerChannel) {
    super();
    this.inner = inner;
    inner.on('message', (m) => {
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w(m);
      } else if (this.#buffer.length === 0 && this.listenerCount('message') > 0 && !this.#flushing) {
        this.emit('message', m);
      } else {
        this.#buffer.push(m);
      }
    });
    inner.once('close', (info) => {
      this.#closeInfo = info;
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.(undefined);
      if (this.#buffer.length === 0) this.emit('close', info);
    });
    // 'newListener' is not in the typed event map; it is EventEmitter's own.
    (this as unknown as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message' && this.#buffer.length > 0 && !this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    while (this.#buffer.length > 0 && this.listenerCount('message') > 0 && !this.#waiter) {
      this.emit('message', this.#buffer.shift()!);
    }
    this.#flushing = false;
    if (this.#buffer.length === 0 && this.#closeInfo) this.emit('close', this.#closeInfo);
  }

  /** Reads the next message directly (handshake use). Rejects on close, timeout or abort. */
  readOne(signal: AbortSignal | undefined, timeoutMs: number, what: string): Promise<Uint8Array> {
    const buffered = this.#buffer.shift();
    if (buffered) return Promise.resolve(buffered);
    if (this.#closeInfo || this.inner.isClosed) return Promise.reject(TransportError.CLOSED());
    if (signal?.aborted) return Promise.reject(TransportError.ABORTED());
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        this.#waiter = undefined;
        done();
        reject(TransportError.ABORTED());
      };
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        done();
        reject(TransportError.TIMEOUT(`Peer did not send the ${what} in time`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (m) => {
        done();
        if (m === undefined) reject(TransportError.CLOSED());
        else resolve(m);
      };
    });
  }

  get kind(): TransportKind {
    return this.inner.kind;
  }
  get maxMessageBytes(): number {
    return this.inner.maxMessageBytes;
  }
  get isClosed(): boolean {
    return this.inner.isClosed;
  }
  send(message: Uint8Array): Promise<void> {
    return this.inner.send(message);
  }
  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }
  close(reason?: string): void {
    this.inner.close(reason);
  }
  binding(): ChannelBinding {
    return this.inner.binding();
  }
  pathInfo(): PathInfo {
    return this.inner.pathInfo();
  }
}
