import type { ConnectOptions, Transport, TransportSession } from '@wormhole/transport';
import { TransportError } from '@wormhole/transport';
import type { DataChannelPeerChannel } from './datachannel-channel.js';
import { DataChannelSession } from './datachannel-session.js';
import { acquireNative, loadNative, type NativeModule, nativeLoadError, releaseNative } from './native.js';
import { type DataChannelTransportOptions, type ResolvedOptions, resolveOptions } from './options.js';

class DataChannelTransport implements Transport {
  readonly kind = 'datachannel' as const;
  readonly [Symbol.toStringTag] = '@wormhole/transport-datachannel';
  readonly #options: ResolvedOptions;
  #native: NativeModule | undefined;
  #closed = false;
  readonly #sessions = new Set<DataChannelSession>();
  readonly #channels = new Set<DataChannelPeerChannel>();

  constructor(options: DataChannelTransportOptions) {
    this.#options = resolveOptions(options);
  }

  isAvailable(): boolean {
    return loadNative() !== undefined;
  }

  createSession(role: 'host' | 'client', options: ConnectOptions): TransportSession {
    if (role !== 'host' && role !== 'client') throw new TypeError(`unknown role ${String(role)}`);
    if (this.#closed) throw TransportError.CLOSED('datachannel: transport is closed');
    if (this.#native === undefined) {
      // Taken lazily: a transport that never connects holds no native state.
      const native = acquireNative();
      if (native === undefined) {
        throw new TransportError('TRANSPORT_UNAVAILABLE', 'datachannel: node-datachannel cannot be loaded', {
          cause: nativeLoadError(),
        });
      }
      this.#native = native;
    }
    const session = new DataChannelSession(role, options, {
      native: this.#native,
      options: this.#options,
      onChannel: (c) => this.#channels.add(c),
      onChannelClosed: (c) => this.#channels.delete(c),
      onSessionDone: (s) => this.#sessions.delete(s),
    });
    // A session that failed synchronously (already-aborted signal) has already reported done.
    this.#sessions.add(session);
    session.connected.then(
      () => this.#sessions.delete(session),
      () => this.#sessions.delete(session),
    );
    return session;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#sessions]) s.close();
    for (const c of [...this.#channels]) c.close('transport closed');
    this.#sessions.clear();
    this.#channels.clear();
    if (this.#native !== undefined) {
      this.#native = undefined;
      releaseNative();
    }
  }
}

/**
 * Creates the DataChannel transport (node-datachannel / libdatachannel, ICE with STUN/TURN).
 * Throws TransportError TRANSPORT_UNAVAILABLE on invalid options.
 */
export function dataChannelTransport(options: DataChannelTransportOptions = {}): Transport {
  return new DataChannelTransport(options);
}
