import { TransportError } from '@wormhole/transport';
import { type HostPort, parseHostPort } from '@wormhole/transport/direct';
import { type TurnTcpServer, tcpBinding } from '@wormhole/transport/turn';
import type { RelayPermitSignal } from './relay-signals.js';

/**
 * The client side of a session's TURN-over-TCP relay. It learns the public IP its TCP
 * connections come from (STUN Binding over TCP to the TURN server the host allocates on) and
 * sends it, sealed, in a `relay-permit` signal: coturn lets a peer into a relayed address only
 * with a permission for its IP, which the host installs before it announces the address.
 * `target` resolves with the relayed address once the host sends it.
 */
export class ClientRelay {
  /** The relayed address to dial; rejects when there will be none (why, as a TransportError). */
  readonly target: Promise<HostPort>;
  /** Cancels the Binding when the session ends first. */
  readonly #ac = new AbortController();
  #resolve!: (t: HostPort) => void;
  #reject!: (e: TransportError) => void;

  /** The Binding stops, and `target` rejects, on `fail()` (the session calls it when it ends). */
  constructor(server: TurnTcpServer, timeoutMs: number, emit: (s: RelayPermitSignal) => void) {
    this.target = new Promise<HostPort>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.target.catch(() => {});
    tcpBinding(server, { signal: this.#ac.signal, timeoutMs }).then(
      (me) => {
        if (!this.#ac.signal.aborted) emit({ type: 'relay-permit', addresses: [me.address] });
      },
      (err: Error) =>
        this.fail(`could not learn our public address from the TURN server: ${err.message}`, err),
    );
  }

  /** The host announced its relayed address. */
  relayed(address: string): void {
    const hp = parseHostPort(address);
    if (hp) this.#resolve(hp);
    else this.fail(`bad relayed address ${address}`);
  }

  /** There will be no relay (host said so, or the session ended); a Binding in progress stops. */
  fail(reason: string, cause?: unknown): void {
    this.#ac.abort();
    this.#reject(
      new TransportError('TRANSPORT_CONNECT_FAILED', `tls: no TURN relay: ${reason}`, {
        ...(cause !== undefined && { cause }),
      }),
    );
  }
}
