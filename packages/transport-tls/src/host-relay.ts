import { formatHostPort } from '@wormhole/transport/direct';
import {
  type RelayedConnection,
  TcpAllocation,
  TurnError,
  type TurnTcpServer,
} from '@wormhole/transport/turn';

/**
 * The host side of one session's TURN-over-TCP relay: allocates a TCP relayed address as soon
 * as the session starts (in parallel with the client learning its public IP), installs the
 * permission the client asks for, and hands every relayed connection to `onConnection` until
 * the session settles. If the session's channel runs over the relay, the allocation lives
 * until that channel closes; otherwise it is released when the session settles.
 */
export class HostRelay {
  readonly #allocation: Promise<TcpAllocation | undefined>;
  readonly #ac = new AbortController();
  #error: unknown;
  #accepting = true;
  #closing: Promise<void> | undefined;

  constructor(server: TurnTcpServer, timeoutMs: number, onConnection: (c: RelayedConnection) => void) {
    this.#allocation = TcpAllocation.allocate(server, { signal: this.#ac.signal, timeoutMs }).then(
      (a) => {
        a.on('connection', (c) => {
          if (this.#accepting) onConnection(c);
          else c.socket.destroy();
        });
        // A ConnectionAttempt that failed to bind costs that attempt; the client's dial reports it.
        a.on('connection-error', () => {});
        if (this.#closing) {
          void a.close();
          return undefined;
        }
        return a;
      },
      (err: unknown) => {
        this.#error = err;
        return undefined;
      },
    );
  }

  /**
   * Lets `ips` connect and resolves with the relayed address ('ip:port'). Rejects with the
   * reason there is no relay (the TurnError from allocating, or TURN_CLOSED).
   */
  async permit(ips: readonly string[]): Promise<string> {
    const a = await this.#allocation;
    if (a === undefined) throw this.#error ?? TurnError.CLOSED('relay released');
    await a.permit(ips);
    return formatHostPort(a.relayed.address, a.relayed.port);
  }

  /** No more relayed connections are handed up (the session settled; the winner keeps its own). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Releases the allocation (Refresh, lifetime 0). Idempotent; never rejects. */
  close(): Promise<void> {
    this.#accepting = false;
    this.#closing ??= (async () => {
      this.#ac.abort();
      const a = await this.#allocation;
      await a?.close();
    })();
    return this.#closing;
  }
}
