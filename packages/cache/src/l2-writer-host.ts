import { Worker } from 'node:worker_threads';
import { CacheError, type CacheErrorCode } from './cache-error.js';
import type { FromWriter, ToWriter, WriterInit } from './l2-messages.js';
import { openL2 } from './l2-schema.js';
import { createWriter } from './l2-writer.js';

/** Where the L2 writer runs. */
export type WriterMode = 'worker' | 'inline';

/** A started writer: send messages, receive replies. */
export interface WriterChannel {
  send(m: ToWriter): void;
  onMessage(fn: (m: FromWriter) => void): void;
  /** Keeps the process alive while `true` (requests or writes pending). */
  setActive(active: boolean): void;
  onFailure(fn: (err: CacheError) => void): void;
  terminate(): Promise<void>;
}

/**
 * Starts the worker. In source form (tests, dev) this module is a `.ts` file run by tsx,
 * whose hooks are not inherited by worker threads on Node 20: a tiny eval'd bootstrap
 * registers tsx in the worker and then imports `l2-worker.ts`. Built, it is plain `.js`.
 */
function spawnWorker(init: WriterInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./l2-worker.ts', here).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(new URL('./l2-worker.js', here), { workerData: init });
}

/**
 * Starts the writer. The channel is usable at once: messages sent before the thread has opened
 * its connection wait in the thread's port (its handler is installed once the file is open), so
 * nothing waits for the thread to start (~150 ms: it loads its own copy of Node's internals and
 * SQLite). A thread that cannot open the file, or dies before it did, is reported through
 * `onFailure` like any later failure (L2 then stops taking writes).
 */
export function startWriter(init: WriterInit, mode: WriterMode): WriterChannel {
  if (mode === 'inline') return startInline(init);
  let worker: Worker;
  try {
    worker = spawnWorker(init);
  } catch {
    // Source form without tsx resolvable (another TS loader): same writer, main thread.
    return startInline(init);
  }
  let listener: (m: FromWriter) => void = () => {};
  let failure: ((err: CacheError) => void) | undefined;
  // The first failure only (an open error is followed by the thread's exit); one that comes
  // before anyone listens is kept for the first listener.
  let failed = false;
  let early: CacheError | undefined;
  const fail = (err: CacheError) => {
    if (failed) return;
    failed = true;
    if (failure === undefined) early = err;
    else failure(err);
  };
  let ready = false;
  worker.on('message', (m: FromWriter) => {
    if (ready) {
      listener(m);
      return;
    }
    if (m.t === 'ready') ready = true;
    else if (m.t === 'openError') {
      fail(new CacheError(m.code as CacheErrorCode, m.message));
      void worker.terminate();
    }
  });
  worker.on('error', (cause) => fail(CacheError.L2_IO('The L2 writer thread failed', { cause })));
  worker.on('exit', (code) =>
    fail(
      CacheError.L2_IO(
        ready
          ? `The L2 writer thread exited (${code})`
          : `The L2 writer thread exited (${code}) before starting`,
      ),
    ),
  );
  worker.unref();
  return {
    send: (m) => worker.postMessage(m),
    onMessage: (fn) => {
      listener = fn;
    },
    setActive: (active) => (active ? worker.ref() : worker.unref()),
    onFailure: (fn) => {
      failure = fn;
      if (early !== undefined) fn(early);
    },
    terminate: async () => {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** Same writer on the main thread ("deferred batches"); used when measuring, or without workers. */
function startInline(init: WriterInit): WriterChannel {
  let conn: ReturnType<typeof openL2>;
  try {
    conn = openL2(init.path, init.busyTimeoutMs, init.hash);
  } catch (err) {
    // As the thread reports it: through onFailure, not a throw from whatever wrote first.
    const failure =
      err instanceof CacheError
        ? err
        : CacheError.L2_IO('The L2 writer could not open its file', { cause: err });
    return {
      send: () => {},
      onMessage: () => {},
      setActive: () => {},
      onFailure: (fn) => fn(failure),
      terminate: async () => {},
    };
  }
  let listener: (m: FromWriter) => void = () => {};
  // The inline writer hands replies over in a later macrotask like the worker would.
  const dispatch = createWriter(conn, init.maxBytes, (m) => setImmediate(() => listener(m)));
  return {
    // Deferred: each batch runs in its own macrotask, so I/O callbacks interleave with batches.
    send: (m) => setImmediate(() => dispatch(m)),
    onMessage: (fn) => {
      listener = fn;
    },
    setActive: () => {},
    onFailure: () => {},
    terminate: async () => {
      if (conn.db.open) conn.db.close();
    },
  };
}
