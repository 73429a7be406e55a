import { AppError } from '@wormhole/protocol';
import {
  type DialResult,
  dialRendezvous,
  type PathInfo,
  type ResumeTicket,
  type Transport,
} from '@wormhole/transport';
import { createRemoteFs, type RemoteFs, type RemoteFsOptions } from '../client/remote-fs.js';
import { EngineError } from '../engine-error.js';

/** Options of `connectShare`. */
export interface ConnectShareOptions {
  /** The join code (may carry `@host:port` of its signal server). Needed unless `resume` is given. */
  readonly code?: string;
  /** A ticket from an earlier connection: reconnects without the code. */
  readonly resume?: ResumeTicket;
  /** Signal server; defaults to the one named in the code. */
  readonly signalUrl?: string;
  readonly transports: readonly Transport[];
  /** Gives up on the first connection after this long. Default 30 s. */
  readonly timeoutMs?: number;
  /** Called with every new ticket so a caller can persist it (each ticket is single-use). */
  readonly onTicket?: (ticket: ResumeTicket) => void;
  /** Called with the path every (re)connection took. */
  readonly onPath?: (path: PathInfo, resumed: boolean) => void;
  readonly remoteFs?: Omit<RemoteFsOptions, 'connect'>;
}

/**
 * Connects to a share by join code and returns its `RemoteFs`. The first connection uses the
 * code (PAKE); every reconnect after a drop uses the resumption ticket from the previous one,
 * so the code is needed once and a restarted host is found again under its nameplate.
 */
export async function connectShare(options: ConnectShareOptions): Promise<RemoteFs> {
  let ticket: ResumeTicket | undefined = options.resume;
  let firstDone = false;
  const connect = async () => {
    const useTicket = ticket !== undefined && (firstDone || options.code === undefined);
    const result: DialResult = await dialRendezvous({
      transports: options.transports,
      ...(useTicket ? { resume: ticket } : { code: options.code }),
      ...(options.signalUrl !== undefined && { signalUrl: options.signalUrl }),
      timeoutMs: firstDone ? 10_000 : (options.timeoutMs ?? 30_000),
    });
    firstDone = true;
    ticket = result.resume;
    options.onTicket?.(result.resume);
    options.onPath?.(result.path, result.resumed);
    return result.channel;
  };
  try {
    return await createRemoteFs({ ...options.remoteFs, connect });
  } catch (err) {
    // The first connection's real reason (wrong code, signal server down...) is what a user
    // needs to see, not the RemoteFs wrapper around it.
    if (err instanceof EngineError && err.code === 'ENGINE_CONNECT_FAILED' && err.cause instanceof AppError)
      throw err.cause;
    throw err;
  }
}
