import {
  decodeFrame,
  decodeHelloBody,
  decodeRequestBody,
  type ErrorBody,
  encodeErrorBody,
  encodeEventBody,
  encodeFrame,
  encodeHelloBody,
  encodeResultBody,
  FRAME_HEADER_BYTES,
  FrameKind,
  FsOp,
  type FsRequest,
  isAppError,
  MAX_FRAME_BYTES,
  type PeerEvent,
  PROTOCOL_VERSION,
} from '@wormhole/protocol';
import type { PeerChannel } from '@wormhole/transport';
import type { Logger } from '../logger.js';
import { RemoteFsError } from '../remote-fs-error.js';
import type { ShareFs } from './share-fs.js';

/** Statistics of one attached client, as `ShareHost.clients()` reports them. */
export interface HostSessionStats {
  readonly id: string;
  readonly transport: string;
  readonly remoteAddress: string | undefined;
  readonly connectedAt: number;
  readonly requests: number;
  readonly bytesSent: number;
  readonly inflight: number;
  readonly queued: number;
  readonly protocolErrors: number;
}

/** One attached client. Closing it closes the channel and frees everything it holds. */
export interface HostSession {
  readonly id: string;
  stats(): HostSessionStats;
  /** Resolves once the session is closed and all of its in-flight work has settled. */
  readonly closed: Promise<void>;
  close(reason?: string): void;
}

export interface SessionLimits {
  /** Requests executed at once per session. */
  readonly maxInflight: number;
  /** Requests waiting behind those; more is a protocol error (a client must window). */
  readonly maxQueued: number;
  /** Malformed frames tolerated before the session is closed. */
  readonly maxProtocolErrors: number;
  /**
   * A session that receives nothing for this long is closed (a client that vanished without a
   * FIN). Live clients PING when quiet, so this only has to exceed their keepalive.
   */
  readonly idleTimeoutMs: number;
}

export interface SessionContext {
  readonly fs: ShareFs;
  readonly readOnly: boolean;
  readonly chunkSize: number;
  readonly limits: SessionLimits;
  readonly logger: Logger;
  readonly software: string;
  onClosed(session: HostSessionImpl): void;
}

interface Job {
  readonly id: number;
  readonly req: FsRequest;
}

/** Bytes a session may have in unresolved `send`s before request slots wait for them. */
const SEND_WINDOW = 4 * 1024 * 1024;

const WRITE_OPS = new Set<number>([
  FsOp.WRITE,
  FsOp.CREATE,
  FsOp.MKDIR,
  FsOp.UNLINK,
  FsOp.RMDIR,
  FsOp.RENAME,
  FsOp.TRUNCATE,
  FsOp.SETATTR,
  FsOp.SYMLINK,
]);

/**
 * The chunk size announced on a channel whose frames carry at most `maxBody` body bytes.
 * Halving (rather than rounding down to 4 KiB) keeps a power-of-two chunk a divisor of the
 * cache's 256 KiB chunks: on a DataChannel (256 KiB per message including the header) a
 * 256 KiB request becomes two 128 KiB requests, not 252 KiB + 4 KiB.
 */
export function fitChunk(requested: number, maxBody: number): number {
  let chunk = requested;
  while (chunk > maxBody && chunk % 8192 === 0 && chunk / 2 >= 4096) chunk /= 2;
  if (chunk > maxBody) chunk = Math.floor(maxBody / 4096) * 4096;
  return Math.max(4096, chunk);
}

/** Serves one PeerChannel. Not exported from the package: `ShareHost.attach` creates these. */
export class HostSessionImpl implements HostSession {
  readonly id: string;
  readonly closed: Promise<void>;
  readonly #ch: PeerChannel;
  readonly #ctx: SessionContext;
  readonly #connectedAt = Date.now();
  readonly #queue: Job[] = [];
  readonly #running = new Set<number>();
  readonly #cancelled = new Set<number>();
  #settled: Promise<unknown>[] = [];
  #hello = false;
  #isClosed = false;
  #requests = 0;
  #bytesSent = 0;
  #protocolErrors = 0;
  #lastRx = Date.now();
  /** Bytes handed to `channel.send` whose promise has not settled yet. */
  #unsent = 0;
  /** Largest frame body this channel carries (a DataChannel takes 256 KiB, TLS 1 MiB). */
  readonly #maxBody: number;
  /** The chunk size announced to this client: the host's, capped to what the channel carries. */
  readonly #chunkSize: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #resolveClosed!: () => void;
  readonly #onMessage = (m: Uint8Array) => this.#handle(m);
  readonly #onClose = () => this.#teardown('channel closed');

  constructor(id: string, channel: PeerChannel, ctx: SessionContext) {
    this.id = id;
    this.#ch = channel;
    this.#ctx = ctx;
    this.closed = new Promise((r) => {
      this.#resolveClosed = r;
    });
    this.#maxBody = Math.min(MAX_FRAME_BYTES, channel.maxMessageBytes) - FRAME_HEADER_BYTES;
    this.#chunkSize = fitChunk(ctx.chunkSize, this.#maxBody);
    channel.on('message', this.#onMessage);
    channel.on('close', this.#onClose);
    if (channel.isClosed) {
      queueMicrotask(() => this.#teardown('channel closed'));
      return;
    }
    const idle = ctx.limits.idleTimeoutMs;
    if (idle > 0) {
      this.#idleTimer = setInterval(
        () => {
          if (Date.now() - this.#lastRx >= idle) this.close('client idle too long');
        },
        Math.max(10, Math.floor(idle / 4)),
      );
      this.#idleTimer.unref();
    }
    this.#sendHello();
  }

  #sendHello(): void {
    this.#send(
      encodeFrame(
        FrameKind.HELLO,
        0,
        encodeHelloBody({
          v: PROTOCOL_VERSION,
          role: 'host',
          software: this.#ctx.software,
          features: ['readdirplus', 'version'],
          readOnly: this.#ctx.readOnly,
          chunkSize: this.#chunkSize,
        }),
      ),
    );
  }

  stats(): HostSessionStats {
    let path: ReturnType<PeerChannel['pathInfo']> | undefined;
    try {
      path = this.#ch.pathInfo();
    } catch {
      path = undefined;
    }
    return {
      id: this.id,
      transport: this.#ch.kind,
      remoteAddress: path?.remoteAddress,
      connectedAt: this.#connectedAt,
      requests: this.#requests,
      bytesSent: this.#bytesSent,
      inflight: this.#running.size,
      queued: this.#queue.length,
      protocolErrors: this.#protocolErrors,
    };
  }

  /** Pushes an unsolicited event (invalidations) if the client has said HELLO. */
  pushEvent(event: PeerEvent): void {
    if (!this.#hello || this.#isClosed) return;
    this.#send(encodeFrame(FrameKind.EVENT, 0, encodeEventBody(event)));
  }

  close(reason = 'host closed the session'): void {
    if (this.#isClosed) return;
    // Say goodbye first; the channel flushes queued messages before it closes.
    this.#send(
      encodeFrame(FrameKind.EVENT, 0, encodeEventBody({ type: 'bye', reason: reason.slice(0, 256) })),
    );
    this.#teardown(reason);
  }

  #teardown(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    this.#ch.off('message', this.#onMessage);
    this.#ch.off('close', this.#onClose);
    this.#queue.length = 0;
    this.#cancelled.clear();
    this.#ch.close(reason);
    this.#ctx.onClosed(this);
    // In-flight fs calls release their fds in their own `finally`; wait for them so
    // `closed` means "nothing of this session is left".
    void Promise.allSettled(this.#settled).then(() => this.#resolveClosed());
  }

  #send(frame: Uint8Array): void {
    if (this.#ch.isClosed) return;
    this.#bytesSent += frame.byteLength;
    this.#ch.send(frame).catch(() => {});
  }

  #protocolError(id: number, message: string): void {
    this.#protocolErrors++;
    this.#ctx.logger.debug?.('protocol error from peer', { session: this.id, message });
    this.#sendError(id, { code: 'PROTOCOL_ERROR', message: message.slice(0, 1000) });
    if (this.#protocolErrors > this.#ctx.limits.maxProtocolErrors) this.close('too many protocol errors');
  }

  #sendError(id: number, body: ErrorBody): void {
    this.#send(encodeFrame(FrameKind.ERROR, id, encodeErrorBody(body)));
  }

  #handle(message: Uint8Array): void {
    if (this.#isClosed) return;
    this.#lastRx = Date.now();
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(message);
    } catch (err) {
      const id = message.byteLength >= FRAME_HEADER_BYTES ? Buffer.from(message).readUInt32BE(2) : 0;
      if (!this.#hello && isAppError(err, 'PROTOCOL_BAD_VERSION')) {
        this.#sendError(id, {
          code: 'PROTOCOL_ERROR',
          message: `protocol version mismatch: host speaks ${PROTOCOL_VERSION}`,
        });
        this.close('protocol version mismatch');
        return;
      }
      this.#protocolError(id, err instanceof Error ? err.message : 'undecodable frame');
      return;
    }
    switch (frame.kind) {
      case FrameKind.HELLO:
        this.#onHello(frame.id, frame.body);
        return;
      case FrameKind.REQUEST:
        this.#onRequest(frame.id, frame.body);
        return;
      case FrameKind.CANCEL:
        this.#onCancel(frame.id);
        return;
      case FrameKind.PING:
        this.#send(encodeFrame(FrameKind.PONG, frame.id, frame.body.subarray(0, 64)));
        return;
      case FrameKind.PONG:
      case FrameKind.EVENT:
        return;
      default:
        this.#protocolError(frame.id, `a client may not send frame kind ${frame.kind}`);
        return;
    }
  }

  #onHello(id: number, body: Uint8Array): void {
    let hello: ReturnType<typeof decodeHelloBody>;
    try {
      hello = decodeHelloBody(body);
    } catch (err) {
      this.#protocolError(id, err instanceof Error ? err.message : 'bad hello');
      return;
    }
    if (hello.v !== PROTOCOL_VERSION || hello.role !== 'client') {
      this.#sendError(id, {
        code: 'PROTOCOL_ERROR',
        message: `protocol version mismatch or wrong role: host speaks v${PROTOCOL_VERSION} to clients`,
      });
      this.close('protocol version mismatch');
      return;
    }
    // Answer every client HELLO with ours as well: a transport may drop messages that arrive
    // before the peer attached its listener, and the client repeats HELLO until it hears ours.
    if (!this.#hello || this.#requests === 0) this.#sendHello();
    this.#hello = true;
  }

  #onRequest(id: number, body: Uint8Array): void {
    if (!this.#hello) {
      this.#protocolError(id, 'REQUEST before HELLO');
      return;
    }
    if (id === 0) {
      this.#protocolError(id, 'request id 0 is reserved');
      return;
    }
    let req: FsRequest;
    try {
      req = decodeRequestBody(body);
    } catch (err) {
      this.#protocolError(id, err instanceof Error ? err.message : 'bad request');
      return;
    }
    this.#requests++;
    if (this.#queue.length >= this.#ctx.limits.maxQueued) {
      this.#sendError(id, { code: 'EBUSY', message: 'too many requests in flight' });
      return;
    }
    this.#queue.push({ id, req });
    this.#pump();
  }

  #onCancel(id: number): void {
    const i = this.#queue.findIndex((j) => j.id === id);
    if (i >= 0) this.#queue.splice(i, 1);
    else if (this.#running.has(id)) this.#cancelled.add(id);
  }

  #pump(): void {
    while (!this.#isClosed && this.#running.size < this.#ctx.limits.maxInflight && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running.add(job.id);
      const p = this.#run(job).finally(() => {
        this.#running.delete(job.id);
        this.#cancelled.delete(job.id);
        const i = this.#settled.indexOf(p);
        if (i >= 0) this.#settled.splice(i, 1);
        this.#pump();
      });
      this.#settled.push(p);
    }
  }

  async #run(job: Job): Promise<void> {
    let frame: Uint8Array;
    try {
      frame = await this.#execute(job);
    } catch (err) {
      const e = err instanceof RemoteFsError ? err : RemoteFsError.EIO('internal error on the host', err);
      if (!(err instanceof RemoteFsError)) this.#ctx.logger.error?.('request failed', { error: String(err) });
      frame = encodeFrame(
        FrameKind.ERROR,
        job.id,
        encodeErrorBody({ code: e.code, message: e.message.slice(0, 1000) }),
      );
    }
    if (this.#isClosed || this.#cancelled.has(job.id)) return;
    this.#bytesSent += frame.byteLength;
    // Backpressure with a window: a slot is released as soon as its frame is handed to the
    // channel, unless this session already has SEND_WINDOW bytes whose send has not resolved,
    // in which case the slot waits for its own send. Always waiting (the simple way) left the
    // socket idle after every drain while the next preads ran; this keeps reads overlapping
    // the drain and still bounds a session's memory to SEND_WINDOW + maxInflight frames.
    const bytes = frame.byteLength;
    this.#unsent += bytes;
    const sent = this.#ch
      .send(frame)
      .catch(() => {})
      .finally(() => {
        this.#unsent -= bytes;
      });
    if (this.#unsent > SEND_WINDOW) await sent;
  }

  async #execute({ id, req }: Job): Promise<Uint8Array> {
    const fs = this.#ctx.fs;
    const result = (value: unknown) => encodeFrame(FrameKind.RESPONSE, id, encodeResultBody(value));
    if (WRITE_OPS.has(req.op)) throw RemoteFsError.EROFS();
    switch (req.op) {
      case FsOp.STAT:
        return result(await fs.stat(req.params.path));
      case FsOp.READDIR:
        return result(await fs.readdir(req.params.path, req.params.cursor, req.params.limit, this.#maxBody));
      case FsOp.READ:
        // The answer must fit one message of this channel; clients split at the announced chunk size.
        if (req.params.length > this.#maxBody)
          throw RemoteFsError.EINVAL(
            `read length above ${this.#maxBody} bytes (this channel's message limit)`,
          );
        return fs.readFrame(id, req.params.path, req.params.offset, req.params.length, req.params.version);
      case FsOp.READLINK:
        return result({ target: await fs.readlink(req.params.path) });
      case FsOp.STATFS:
        return result(await fs.statfs());
      default:
        throw RemoteFsError.EROFS();
    }
  }
}
