import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedSlabs } from '../src/shared-slabs.js';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('SharedSlabs (shared ring for the L2 writer)', () => {
  test('packs batches into one shared ring, reuses regions first-in first-out, wraps, falls back when full', () => {
    const s = new SharedSlabs(100);
    const a = s.pack([bytes(30, 1), bytes(20, 2)]);
    assert.ok(a[0]!.buffer instanceof SharedArrayBuffer);
    assert.equal(a[0]!.buffer, a[1]!.buffer, 'one batch, one ring');
    assert.deepEqual([a[0]!.byteOffset, a[1]!.byteOffset], [0, 30]);
    assert.deepEqual([...a[1]!], [...bytes(20, 2)]);
    const b = s.pack([bytes(40, 3)]); // 50..90
    assert.equal(b[0]!.byteOffset, 50);
    const c = s.pack([bytes(20, 4)]); // does not fit after 90 nor before 0: own memory
    assert.notEqual(c[0]!.buffer, a[0]!.buffer);
    assert.deepEqual([...c[0]!], [...bytes(20, 4)]);
    s.release(); // a's region (0..50) is free again
    const d = s.pack([bytes(45, 5)]);
    assert.equal(d[0]!.buffer, a[0]!.buffer);
    assert.equal(d[0]!.byteOffset, 0, 'wrapped to the start');
    assert.deepEqual([...b[0]!], [...bytes(40, 3)], 'regions in flight are never overwritten');
    const e = s.pack([bytes(10, 6)]); // wrapped: only 45..50 free
    assert.notEqual(e[0]!.buffer, a[0]!.buffer);
    s.release(); // b
    s.release(); // c (own memory)
    s.release(); // d
    s.release(); // e
    const f = s.pack([bytes(100, 7)]);
    assert.equal(f[0]!.byteOffset, 0, 'empty ring starts over');
    assert.notEqual(s.pack([bytes(101, 8)])[0]!.buffer, f[0]!.buffer, 'larger than the ring: own memory');
    s.clear();
  });
});
