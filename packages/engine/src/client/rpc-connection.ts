import {
  decodeErrorBody,
  decodeEventBody,
  decodeFrame,
  decodeHelloBody,
  encodeFrame,
  encodeHelloBody,
  encodeRequestBody,
  FrameKind,
  type FsOp,
  type FsParams,
  type Hello,
  isFsErrorCode,
  type PeerEvent,
  PROTOCOL_VERSION,
} from '@wormhole/protocol';
import type { PeerChannel } from '@wormhole/transport';
import { EngineError } from '../engine-error.js';
import { RemoteFsError } from '../remote-fs-error.js';

/** Malformed frames from a host tolerated before the client drops the connection. */
const MAX_BAD_FRAMES = 16;
/** Client HELLO is repeated at this interval until the host's HELLO arrives. */
const HELLO_RETRY_MS = 250;

interface Pending {
  readonly resolve: (body: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly expect: FrameKind;
}

/** Liveness: PING when quiet for `intervalMs`; give up when nothing arrived for `deadAfterMs`. */
export interface KeepaliveOptions {
  readonly intervalMs: number;
  readonly deadAfterMs: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * One live channel to a host: HELLO exchange, request ids, the table of pending calls and
 * their timers, CANCEL on abort/timeout. It never reconnects; `RemoteFs` replaces it.
 */
export class RpcConnection {
  readonly channel: PeerChannel;
  readonly hello: Promise<Hello>;
  readonly #pending = new Map<number, Pending>();
  readonly #onEvent: (event: PeerEvent) => void;
  readonly #onDown: (reason: string) => void;
  #nextId = 1;
  #closed = false;
  #badFrames = 0;
  #lastRx = Date.now();
  #keepalive: NodeJS.Timeout | undefined;
  #helloResolve!: (h: Hello) => void;
  #helloReject!: (e: Error) => void;
  readonly #onMessage = (m: Uint8Array) => this.#handle(m);
  readonly #onClose = (info: { reason: string }) => this.#shutdown(info.reason || 'channel closed');

  constructor(
    channel: PeerChannel,
    onEvent: (e: PeerEvent) => void,
    onDown: (reason: string) => void,
    keepalive?: KeepaliveOptions,
  ) {
    this.channel = channel;
    this.#onEvent = onEvent;
    this.#onDown = onDown;
    this.hello = new Promise<Hello>((res, rej) => {
      this.#helloResolve = res;
      this.#helloReject = rej;
    });
    this.hello.catch(() => {});
    channel.on('message', this.#onMessage);
    channel.on('close', this.#onClose);
    if (channel.isClosed) {
      queueMicrotask(() => this.#shutdown('channel closed'));
      return;
    }
    if (keepalive) {
      // A host that vanished without a FIN (partition, frozen process) would otherwise make
      // every call wait out its own timeout forever; declaring the channel dead reconnects.
      this.#keepalive = setInterval(
        () => {
          const quiet = Date.now() - this.#lastRx;
          if (quiet >= keepalive.deadAfterMs) this.close(`host silent for ${quiet} ms`);
          else if (quiet >= keepalive.intervalMs)
            this.channel.send(encodeFrame(FrameKind.PING, 0)).catch(() => {});
        },
        Math.max(10, Math.floor(keepalive.intervalMs / 2)),
      );
      this.#keepalive.unref();
    }
    // HELLO is idempotent and the host answers each one with its own, so repeating it until
    // the host's arrives survives a transport that drops messages sent before a listener was
    // attached on either side.
    const sendHello = () =>
      channel
        .send(
          encodeFrame(
            FrameKind.HELLO,
            0,
            encodeHelloBody({
              v: PROTOCOL_VERSION,
              role: 'client',
              software: 'wormhole-engine/0.1',
              features: [],
            }),
          ),
        )
        .catch(() => {});
    void sendHello();
    let gotHello = false;
    const retry = setInterval(() => {
      if (gotHello || this.#closed) clearInterval(retry);
      else void sendHello();
    }, HELLO_RETRY_MS);
    retry.unref();
    this.hello.then(
      () => {
        gotHello = true;
        clearInterval(retry);
      },
      () => clearInterval(retry),
    );
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  get inflight(): number {
    return this.#pending.size;
  }

  /** Sends one request; resolves with the RESPONSE or DATA body. */
  call<O extends FsOp>(
    op: O,
    params: FsParams<O>,
    expect: FrameKind,
    opts: CallOptions,
  ): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(RemoteFsError.ENOTCONN());
    if (opts.signal?.aborted) return Promise.reject(EngineError.ABORTED());
    const id = this.#allocId();
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        finish();
        this.#cancel(id);
        reject(EngineError.ABORTED());
      };
      const finish = () => {
        this.#pending.delete(id);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      timer = setTimeout(() => {
        finish();
        this.#cancel(id);
        reject(RemoteFsError.ETIMEDOUT(opts.timeoutMs));
      }, opts.timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        expect,
        resolve: (b) => {
          finish();
          resolve(b);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      });
      // Awaiting send is the backpressure: the caller's promise cannot settle before the
      // request left, and a full channel delays new requests instead of buffering without end.
      this.channel
        .send(encodeFrame(FrameKind.REQUEST, id, encodeRequestBody(op, params)))
        .catch((err: unknown) => {
          const p = this.#pending.get(id);
          if (p) p.reject(this.#closed ? RemoteFsError.ENOTCONN() : RemoteFsError.EIO('send failed', err));
        });
    });
  }

  close(reason = 'client closed'): void {
    this.channel.close(reason);
    this.#shutdown(reason);
  }

  #allocId(): number {
    // u32, never 0, skipping ids still pending after a wrap.
    do {
      this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    } while (this.#pending.has(this.#nextId));
    return this.#nextId;
  }

  #cancel(id: number): void {
    if (this.#closed) return;
    this.channel.send(encodeFrame(FrameKind.CANCEL, id)).catch(() => {});
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.channel.off('message', this.#onMessage);
    this.channel.off('close', this.#onClose);
    this.#helloReject(RemoteFsError.ENOTCONN(`connection closed before HELLO: ${reason}`));
    const err = RemoteFsError.ENOTCONN(`connection to the host lost: ${reason}`);
    for (const p of [...this.#pending.values()]) p.reject(err);
    this.#pending.clear();
    if (!this.channel.isClosed) this.channel.close(reason);
    this.#onDown(reason);
  }

  #bad(why: string): void {
    if (++this.#badFrames > MAX_BAD_FRAMES) this.close(`host sent too many malformed frames (${why})`);
  }

  #handle(message: Uint8Array): void {
    this.#lastRx = Date.now();
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(message);
    } catch (err) {
      this.#bad(err instanceof Error ? err.message : 'undecodable');
      return;
    }
    switch (frame.kind) {
      case FrameKind.HELLO: {
        try {
          const hello = decodeHelloBody(frame.body);
          if (hello.v !== PROTOCOL_VERSION || hello.role !== 'host') {
            const err = EngineError.VERSION_MISMATCH(PROTOCOL_VERSION, hello.v);
            this.#helloReject(err);
            this.close(err.message);
            return;
          }
          this.#helloResolve(hello);
        } catch (err) {
          this.#helloReject(EngineError.PROTOCOL_VIOLATION('host sent a bad HELLO', err));
          this.close('bad hello');
        }
        return;
      }
      case FrameKind.RESPONSE:
      case FrameKind.DATA: {
        const p = this.#pending.get(frame.id);
        if (!p) return; // cancelled or timed out: the late answer is dropped
        if (p.expect !== frame.kind)
          p.reject(RemoteFsError.EIO(`host answered with frame kind ${frame.kind}`));
        else p.resolve(frame.body);
        return;
      }
      case FrameKind.ERROR: {
        let body: ReturnType<typeof decodeErrorBody>;
        try {
          body = decodeErrorBody(frame.body);
        } catch {
          body = { code: 'EIO', message: 'undecodable error from host' };
        }
        const p = this.#pending.get(frame.id);
        if (!p) return;
        const code = isFsErrorCode(body.code) ? body.code : 'EIO';
        p.reject(RemoteFsError.of(code, body.message));
        return;
      }
      case FrameKind.EVENT: {
        let event: PeerEvent;
        try {
          event = decodeEventBody(frame.body);
        } catch (err) {
          this.#bad(err instanceof Error ? err.message : 'bad event');
          return;
        }
        if (event.type === 'bye') {
          this.close(`host said bye: ${event.reason}`);
          return;
        }
        this.#onEvent(event);
        return;
      }
      case FrameKind.PING:
        this.channel.send(encodeFrame(FrameKind.PONG, frame.id, frame.body.subarray(0, 64))).catch(() => {});
        return;
      default:
        return;
    }
  }
}
