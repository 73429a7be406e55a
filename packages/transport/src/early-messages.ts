import type { EventEmitter } from 'node:events';

/**
 * Holds the messages a channel receives before anyone listens for `message` (the peer may
 * send the moment it is connected, while the receiver attaches its listener a few ticks
 * later) and hands them over in order once a listener attaches; from then on messages pass
 * straight through. Every PeerChannel implementation uses it, so none drops early messages.
 */
export class EarlyMessages {
  readonly #emitter: EventEmitter;
  readonly #deliver: (m: Uint8Array) => void;
  readonly #closed: () => boolean;
  #held: Uint8Array[] | undefined = [];

  /** `deliver` emits one message; `closed` says whether the channel closed meanwhile. */
  constructor(emitter: EventEmitter, deliver: (m: Uint8Array) => void, closed: () => boolean) {
    this.#emitter = emitter;
    this.#deliver = deliver;
    this.#closed = closed;
    emitter.on('newListener', (event: string | symbol) => {
      if (event === 'message' && this.#held !== undefined) queueMicrotask(() => this.flush());
    });
  }

  /** Delivers `m` now, or holds it while nobody listens. */
  receive(m: Uint8Array): void {
    if (this.#held !== undefined) this.#held.push(m);
    else this.#deliver(m);
  }

  /** Hands the held messages to the listener, if there is one now. */
  flush(): void {
    const held = this.#held;
    if (held === undefined || this.#emitter.listenerCount('message') === 0) return;
    this.#held = undefined;
    for (const m of held) {
      if (this.#closed()) return;
      this.#deliver(m);
    }
  }

  /** The channel is closing: deliver what arrived (if someone listens), then hold nothing more. */
  close(): void {
    this.flush();
    this.#held = undefined;
  }
}
