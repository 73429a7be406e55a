// The framing decoder against every way a byte stream can cut messages: byte by byte, random
// cuts, headers split across chunks, empty messages, and the size limit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { FramingError, LengthPrefixDecoder, lengthHeader } from '@wormhole/transport/direct';

function stream(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => [lengthHeader(m.byteLength), m]));
}

function decodeCut(bytes: Buffer, cuts: number[], max = 1 << 20): Buffer[] {
  const d = new LengthPrefixDecoder(max);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.byteLength]) {
    // Copies: a real socket hands over fresh buffers, and views must survive later pushes.
    out.push(...d.push(Buffer.from(bytes.subarray(prev, c))));
    prev = c;
  }
  assert.equal(d.bufferedBytes, 0);
  return out;
}

describe('LengthPrefixDecoder', () => {
  const messages = [0, 1, 3, 4, 5, 100, 16_384, 70_000, 0, 262_144, 7].map((n) => randomBytes(n));
  const bytes = stream(messages);

  it('decodes one whole chunk and random cuts identically', () => {
    assert.deepEqual(decodeCut(bytes, []), messages);
    for (let round = 0; round < 50; round++) {
      const cuts = Array.from({ length: 1 + (round % 40) }, () =>
        Math.floor(Math.random() * bytes.byteLength),
      ).sort((a, b) => a - b);
      assert.deepEqual(decodeCut(bytes, cuts), messages);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const small = stream([randomBytes(9), Buffer.alloc(0), randomBytes(2)]);
    const cuts = Array.from({ length: small.byteLength - 1 }, (_, i) => i + 1);
    assert.equal(decodeCut(small, cuts).length, 3);
  });

  it('rejects an announced size above the limit before buffering it', () => {
    const d = new LengthPrefixDecoder(1000);
    assert.throws(() => d.push(lengthHeader(1001)), FramingError);
    const e = new LengthPrefixDecoder(1000);
    e.push(lengthHeader(1001).subarray(0, 2));
    assert.throws(() => e.push(lengthHeader(1001).subarray(2)), FramingError);
  });
});
