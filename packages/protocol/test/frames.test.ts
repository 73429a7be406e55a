import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeFrame,
  decodeRequestBody,
  encodeFrame,
  encodeLengthPrefixedFrame,
  encodeRequestBody,
  FrameDecoder,
  FrameKind,
  FsOp,
  ProtocolError,
} from '@wormhole/protocol';

describe('peer frames', () => {
  it('round-trips a request', () => {
    const wire = encodeFrame(
      FrameKind.REQUEST,
      0xfffffffe,
      encodeRequestBody(FsOp.READ, { path: 'a/b', offset: 5, length: 10 }),
    );
    const frame = decodeFrame(wire);
    assert.equal(frame.kind, FrameKind.REQUEST);
    assert.equal(frame.id, 0xfffffffe);
    assert.deepEqual(decodeRequestBody(frame.body), {
      op: FsOp.READ,
      params: { path: 'a/b', offset: 5, length: 10 },
    });
  });

  it('decodes length-prefixed frames split at every byte boundary', () => {
    const a = encodeLengthPrefixedFrame(FrameKind.DATA, 1, randomBytes(1000));
    const b = encodeLengthPrefixedFrame(FrameKind.PING, 2);
    const all = Buffer.concat([a, b]);
    for (let cut = 0; cut <= all.length; cut++) {
      const dec = new FrameDecoder();
      const frames = [...dec.push(all.subarray(0, cut)), ...dec.push(all.subarray(cut))];
      assert.equal(frames.length, 2);
      assert.deepEqual(Buffer.from(frames[0]!.body), Buffer.from(a.subarray(10)));
      assert.equal(frames[1]!.kind, FrameKind.PING);
      dec.end();
    }
  });

  it('random and truncated bytes only ever throw ProtocolError', () => {
    const valid = encodeFrame(
      FrameKind.REQUEST,
      3,
      encodeRequestBody(FsOp.READDIR, { path: 'x', limit: 10 }),
    );
    for (let i = 0; i < 20_000; i++) {
      const bytes =
        i % 2 === 0
          ? randomBytes(i % 64)
          : Buffer.from(valid.subarray(0, i % valid.length)).map((v, j) => (j === i % 7 ? v ^ 0xff : v));
      try {
        const f = decodeFrame(bytes);
        if (f.kind === FrameKind.REQUEST) decodeRequestBody(f.body);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`);
      }
      try {
        new FrameDecoder(4096).push(bytes);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`);
      }
    }
  });
});
