// Malformed, truncated, oversized and unknown frames from one client: typed PROTOCOL_ERROR
// answers, the session closes after too many, the host and a second client carry on.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  decodeErrorBody,
  decodeFrame,
  encodeFrame,
  encodeHelloBody,
  encodeRequestBody,
  FrameKind,
  FsOp,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from '@wormhole/protocol';
import type { PeerChannel } from '@wormhole/transport';
import { type Served, serve, tempDir } from './helpers/fixture.js';
import { dialChannel } from './helpers/net-channel.js';

const hello = (v = PROTOCOL_VERSION) =>
  encodeFrame(FrameKind.HELLO, 0, encodeHelloBody({ v, role: 'client', software: 'test', features: [] }));

/** Collects decoded frames from a raw channel. */
function recorder(ch: PeerChannel) {
  const frames: { kind: number; id: number; body: Uint8Array }[] = [];
  let closed = false;
  ch.on('message', (m) => frames.push(decodeFrame(m)));
  ch.on('close', () => {
    closed = true;
  });
  const waitFor = async (pred: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), 'condition not reached in time');
  };
  const errorFor = async (id: number) => {
    await waitFor(() => frames.some((f) => f.kind === FrameKind.ERROR && f.id === id));
    return decodeErrorBody(frames.find((f) => f.kind === FrameKind.ERROR && f.id === id)!.body);
  };
  return { frames, errorFor, waitFor, isClosed: () => closed };
}

describe('malformed frames', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let s: Served;

  before(async () => {
    dir = await tempDir();
    writeFileSync(join(dir.path, 'f.txt'), 'good data');
    s = await serve(dir.path, { watch: false });
  });
  after(async () => {
    await s?.close();
    await dir?.remove();
  });

  it('answers each with a typed error, closes the abuser, and leaves the other client unaffected', async () => {
    const bad = await dialChannel(s.server.port);
    const rec = recorder(bad);
    await bad.send(hello());
    const goodRead = async () =>
      assert.equal(Buffer.from(await s.fs.read('/f.txt', 0, 100)).toString(), 'good data');

    const raw = (bytes: number[] | Uint8Array) => bad.send(Uint8Array.from(bytes));
    const withId = (kind: number, id: number, body: number[] = []) => {
      const b = Buffer.alloc(6 + body.length);
      b[0] = PROTOCOL_VERSION;
      b[1] = kind;
      b.writeUInt32BE(id, 2);
      b.set(body, 6);
      return b;
    };
    // Truncated header (no id known: answered with id 0).
    await raw([1, 2]);
    assert.equal((await rec.errorFor(0)).code, 'PROTOCOL_ERROR');
    await goodRead();
    // Unknown frame kind, bad version byte, unknown op, bad msgpack, schema violation, oversized.
    await raw(withId(99, 11));
    assert.equal((await rec.errorFor(11)).code, 'PROTOCOL_ERROR');
    const badVersion = withId(FrameKind.REQUEST, 12);
    badVersion[0] = 77;
    await raw(badVersion);
    assert.equal((await rec.errorFor(12)).code, 'PROTOCOL_ERROR');
    await raw(withId(FrameKind.REQUEST, 13, [200, 0x80]));
    assert.equal((await rec.errorFor(13)).code, 'PROTOCOL_ERROR');
    await raw(withId(FrameKind.REQUEST, 14, [FsOp.STAT, 0xc1, 0xc1]));
    assert.equal((await rec.errorFor(14)).code, 'PROTOCOL_ERROR');
    await bad.send(
      encodeFrame(
        FrameKind.REQUEST,
        15,
        encodeRequestBody(FsOp.READ, { path: 'f.txt', offset: 0, length: 1 }).subarray(0, 5),
      ),
    );
    assert.equal((await rec.errorFor(15)).code, 'PROTOCOL_ERROR');
    await raw(
      withId(FrameKind.REQUEST, 16, [FsOp.READ, ...Buffer.from([0x81, 0xa4, 0x70, 0x61, 0x74, 0x68, 0x05])]),
    );
    assert.equal((await rec.errorFor(16)).code, 'PROTOCOL_ERROR');
    const huge = Buffer.alloc(MAX_FRAME_BYTES + 10);
    huge[0] = PROTOCOL_VERSION;
    huge[1] = FrameKind.REQUEST;
    huge.writeUInt32BE(17, 2);
    await raw(huge);
    assert.equal((await rec.errorFor(17)).code, 'PROTOCOL_ERROR');
    // Responses are not for clients to send.
    await raw(withId(FrameKind.DATA, 18, [1, 2, 3]));
    assert.equal((await rec.errorFor(18)).code, 'PROTOCOL_ERROR');
    // A well-formed write op on a read-only share: EROFS, not a protocol error.
    await bad.send(encodeFrame(FrameKind.REQUEST, 19, encodeRequestBody(FsOp.UNLINK, { path: 'f.txt' })));
    assert.equal((await rec.errorFor(19)).code, 'EROFS');
    await goodRead();
    // A valid request still works on the abusive session until it runs out of chances.
    await bad.send(
      encodeFrame(
        FrameKind.REQUEST,
        20,
        encodeRequestBody(FsOp.READ, { path: 'f.txt', offset: 0, length: 4 }),
      ),
    );
    await rec.waitFor(() => rec.frames.some((f) => f.kind === FrameKind.DATA && f.id === 20));
    assert.equal(s.host.clients().length, 2);
    for (let i = 0; i < 20 && !bad.isClosed; i++) await raw([9]).catch(() => {});
    await rec.waitFor(() => rec.isClosed());
    await rec.waitFor(() => s.host.clients().length === 1);
    assert.ok(
      rec.frames.some((f) => f.kind === FrameKind.EVENT),
      'the host says bye before closing',
    );
    await goodRead();
    assert.equal(s.fs.connected, true);
  });

  it('closes a session whose HELLO speaks another protocol version', async () => {
    const ch = await dialChannel(s.server.port);
    const rec = recorder(ch);
    await ch.send(hello(PROTOCOL_VERSION + 1));
    await rec.waitFor(() => rec.isClosed());
    assert.equal((await rec.errorFor(0)).code, 'PROTOCOL_ERROR');
    assert.ok(rec.frames[0]?.kind === FrameKind.HELLO, 'the host greets first');
  });

  it('refuses requests sent before HELLO', async () => {
    const ch = await dialChannel(s.server.port);
    const rec = recorder(ch);
    await ch.send(encodeFrame(FrameKind.REQUEST, 5, encodeRequestBody(FsOp.STAT, { path: '' })));
    assert.equal((await rec.errorFor(5)).code, 'PROTOCOL_ERROR');
    ch.close();
  });
});
