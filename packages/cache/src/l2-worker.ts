// Worker-thread entry of the L2 writer (see l2-writer.ts). Started by l2-writer-host.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterInit } from './l2-messages.js';
import { openL2 } from './l2-schema.js';
import { createWriter } from './l2-writer.js';

const port = parentPort;
if (port === null) throw new Error('l2-worker must run in a worker thread');
const init = workerData as WriterInit;
const post = (m: FromWriter, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
try {
  const conn = openL2(init.path, init.busyTimeoutMs, init.hash);
  const dispatch = createWriter(conn, init.maxBytes, post);
  port.on('message', (m: ToWriter) => dispatch(m));
  post({ t: 'ready', hash: conn.hashAlgorithm });
} catch (err) {
  const e = err as { code?: unknown; message?: unknown };
  post({
    t: 'openError',
    code: typeof e.code === 'string' ? e.code : 'CACHE_L2_OPEN_FAILED',
    message: String(e.message),
  });
}
