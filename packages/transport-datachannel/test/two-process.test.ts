import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ChannelBinding } from '@wormhole/transport';
import { dataChannelTransport, MAX_MESSAGE_BYTES } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/peer-process.ts', import.meta.url));

describe('host in another process', () => {
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1' });
  after(() => transport.close());

  /** Spawns the host child and connects to it; the child's control lines land in `seen`. */
  async function connectToChild() {
    const child = spawn(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', fixture, 'host', 'echo'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const exited = once(child, 'exit');
    const seen: { binding?: ChannelBinding; closed?: unknown } = {};
    try {
      const session = transport.createSession('client', { signal: new AbortController().signal });
      session.onSignal((signal) => child.stdin.write(`${JSON.stringify({ signal })}\n`));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as {
          signal?: Record<string, unknown>;
          binding?: ChannelBinding;
          closed?: unknown;
        };
        if (msg.signal !== undefined) session.handleSignal(msg.signal);
        if (msg.binding !== undefined) seen.binding = msg.binding;
        if (msg.closed !== undefined) seen.closed = msg.closed;
      });
      return { child, exited, seen, channel: await session.connected };
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  it('connects over stdin/stdout signalling, echoes in order, closes, and the child exits by itself', async () => {
    // One retry of the connect only: a loopback ICE check between two processes failed once in a
    // fresh-clone CI run (TRANSPORT_CONNECT_FAILED after 0.4 s, "ICE closed", host candidates
    // both sides; 0 of 32 runs alone or under CPU load reproduced it). A second failure fails.
    const { child, exited, seen, channel } = await connectToChild().catch((err: unknown) => {
      console.log(`# loopback datachannel connect failed (${(err as Error).message}): retrying once`);
      return connectToChild();
    });
    try {
      const sizes = Array.from({ length: 300 }, (_v, i) => (i % 10 === 0 ? MAX_MESSAGE_BYTES : 8 + i));
      const echoed: Uint8Array[] = [];
      const allBack = new Promise<void>((resolve) =>
        channel.on('message', (m) => {
          echoed.push(m);
          if (echoed.length === sizes.length) resolve();
        }),
      );
      for (const [i, size] of sizes.entries()) {
        const m = new Uint8Array(size).fill(i & 0xff);
        new DataView(m.buffer).setUint32(0, i);
        await channel.send(m);
      }
      await allBack;
      echoed.forEach((m, i) => {
        assert.equal(m.byteLength, sizes[i]);
        assert.equal(new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0), i);
      });
      // Binding mirrors across processes.
      const childBinding = seen.binding;
      assert.ok(childBinding);
      assert.equal(childBinding.local, channel.binding().remote);
      assert.equal(childBinding.remote, channel.binding().local);
      channel.close();
      const [code] = (await Promise.race([
        exited,
        new Promise((_r, reject) =>
          setTimeout(() => reject(new Error('child did not exit within 10 s')), 10_000),
        ),
      ])) as [number | null];
      assert.equal(code, 0);
      const childClosed = seen.closed;
      assert.deepEqual(childClosed, { local: false, reason: (childClosed as { reason: string }).reason });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
