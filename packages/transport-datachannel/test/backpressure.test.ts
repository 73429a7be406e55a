import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dataChannelTransport, MAX_MESSAGE_BYTES } from '../src/index.js';
import { connectPair } from './helpers.js';

describe('backpressure', () => {
  const highWaterMarkBytes = 1024 * 1024;
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1', highWaterMarkBytes });
  after(() => transport.close());

  it('moves 256 MiB in 256 KiB messages with bufferedAmount bounded', async () => {
    const { host, client } = await connectPair(transport);
    try {
      const total = 256 * 1024 * 1024;
      const count = total / MAX_MESSAGE_BYTES;
      let received = 0;
      let messages = 0;
      let outOfOrder = 0;
      const done = new Promise<void>((resolve) => {
        host.on('message', (m) => {
          if (new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0) !== messages) outOfOrder += 1;
          messages += 1;
          received += m.byteLength;
          if (received === total) resolve();
        });
      });
      const chunk = new Uint8Array(MAX_MESSAGE_BYTES).fill(0x5a);
      let maxBuffered = 0;
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        new DataView(chunk.buffer).setUint32(0, i);
        await client.send(chunk);
        maxBuffered = Math.max(maxBuffered, client.bufferedAmount());
      }
      await done;
      const seconds = (performance.now() - started) / 1000;
      assert.equal(messages, count);
      assert.equal(outOfOrder, 0);
      // send() resolves at or below the mark, then one more message may be queued on top.
      assert.ok(maxBuffered <= highWaterMarkBytes, `bufferedAmount peaked at ${maxBuffered}`);
      console.log(
        `# 256 MiB in ${seconds.toFixed(2)} s (${(total / 1e6 / seconds).toFixed(0)} MB/s), max buffered ${maxBuffered}`,
      );
    } finally {
      host.close();
      client.close();
    }
  });
});
