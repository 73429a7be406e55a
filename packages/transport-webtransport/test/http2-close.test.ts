// The library's HTTP/2 mode closes a WebTransport session's HTTP/2 stream in
// Http2CapsuleParser#closeHttp2Stream. Unpatched it called `close(code)` and then `destroy()` at
// once; when node had deferred the RST_STREAM (a socket write in flight), destroy() removed the
// stream while nghttp2 still had DATA scheduled for it, and the next send spun forever inside
// node's Http2Session::SendPendingData (seen in first-byte runs: host at ~100 % CPU, memory
// growing by GBs, SIGTERM ignored). The patch (patches/@fails-components__webtransport@1.6.8.patch)
// only closes and lets node destroy the stream once nghttp2 has closed it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

interface CapsuleParserProto {
  closeHttp2Stream(this: { stream: http2.Http2Stream }, code: number): void;
}

async function capsuleParser(): Promise<CapsuleParserProto> {
  // Not exported by the package: reach the file next to its entry point.
  const entry = import.meta.resolve('@fails-components/webtransport');
  const mod = (await import(new URL('./http2/node/capsuleparser.js', entry).href)) as {
    Http2CapsuleParser: { prototype: CapsuleParserProto };
  };
  return mod.Http2CapsuleParser.prototype;
}

describe('HTTP/2 mode: closing a session stream', () => {
  it('closes with RST_STREAM but leaves the destroy to node (no destroy while the RST may be deferred)', async () => {
    const proto = await capsuleParser();
    const server = http2.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', () => {});
    try {
      const serverStream = once(server, 'stream') as Promise<[http2.ServerHttp2Stream]>;
      const req = client.request({ ':method': 'POST', ':path': '/' });
      req.on('error', () => {});
      req.resume();
      req.write(Buffer.from('hello'));
      const [stream] = await serverStream;
      stream.on('error', () => {});
      stream.respond({ ':status': 200 });
      stream.write(Buffer.alloc(1024, 1));
      stream.on('data', () => {});

      const reqClosed = once(req, 'close');
      proto.closeHttp2Stream.call({ stream }, 0);
      assert.equal(stream.destroyed, false, 'destroyed synchronously: a deferred RST_STREAM would be lost');
      assert.equal(stream.closed, true);

      // The RST_STREAM reaches the peer...
      const deadline = AbortSignal.timeout(5000);
      const timedOut = once(deadline, 'abort').then(() => assert.fail('timed out'));
      await Promise.race([reqClosed, timedOut]);
      assert.equal(req.rstCode, 0);
      // A second close (both of the library's close paths may call it) is harmless.
      proto.closeHttp2Stream.call({ stream }, 0);
      // ...and node destroys the stream itself once nghttp2 has closed it.
      const destroyed = stream.destroyed ? Promise.resolve() : once(stream, 'close');
      await Promise.race([destroyed, timedOut]);
      assert.equal(stream.destroyed, true);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
