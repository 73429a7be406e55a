import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeErrorBody,
  decodeEventBody,
  decodeHelloBody,
  decodeReaddirResult,
  decodeRequestBody,
  decodeStat,
  encodeErrorBody,
  encodeEventBody,
  encodeHelloBody,
  encodeRequestBody,
  encodeResultBody,
  FsOp,
  ProtocolError,
  packBody,
  type Stat,
} from '@wormhole/protocol';

const stat: Stat = {
  type: 'file',
  size: 10,
  mode: 0o100644,
  mtimeMs: 1.5,
  ctimeMs: 2,
  atimeMs: 3,
  nlink: 1,
  ino: 99,
  version: '99:10:1500000',
};

describe('fs messages', () => {
  it('round-trips requests, results, errors, events and hello', () => {
    assert.deepEqual(decodeRequestBody(encodeRequestBody(FsOp.STAT, { path: 'a' })), {
      op: FsOp.STAT,
      params: { path: 'a' },
    });
    assert.deepEqual(
      decodeRequestBody(encodeRequestBody(FsOp.READDIR, { path: '', cursor: 5, limit: 100 })).params,
      {
        path: '',
        cursor: 5,
        limit: 100,
      },
    );
    assert.deepEqual(decodeStat(encodeResultBody(stat)), stat);
    assert.deepEqual(decodeReaddirResult(encodeResultBody({ entries: [{ name: 'ü ñ', stat }], next: 3 })), {
      entries: [{ name: 'ü ñ', stat }],
      next: 3,
    });
    assert.deepEqual(decodeErrorBody(encodeErrorBody({ code: 'ENOENT', message: 'no' })), {
      code: 'ENOENT',
      message: 'no',
    });
    assert.deepEqual(decodeEventBody(encodeEventBody({ type: 'invalidate', paths: ['a', 'b/c'] })), {
      type: 'invalidate',
      paths: ['a', 'b/c'],
    });
    const hello = { v: 1, role: 'host' as const, software: 'wormhole/0.1.0', features: ['readdirplus'] };
    assert.deepEqual(decodeHelloBody(encodeHelloBody(hello)), hello);
  });

  it('reads an unknown error code from a peer as EIO rather than trusting it', () => {
    assert.equal(decodeErrorBody(packBody({ code: 'EVIL', message: 'x' })).code, 'EIO');
  });

  it('rejects out-of-range params with typed errors', () => {
    const bad = [
      packBody({ path: 'a', offset: -1, length: 1 }),
      packBody({ path: 'a', offset: 0, length: 10 * 1024 * 1024 }),
      packBody({ path: 1, offset: 0, length: 1 }),
      packBody({ path: 'a'.repeat(5000), offset: 0, length: 1 }),
    ];
    for (const b of bad) {
      const body = new Uint8Array(1 + b.byteLength);
      body[0] = FsOp.READ;
      body.set(b, 1);
      assert.throws(
        () => decodeRequestBody(body),
        (e: unknown) => e instanceof ProtocolError && e.code === 'PROTOCOL_BAD_BODY',
      );
    }
    assert.throws(
      () => decodeRequestBody(Uint8Array.of(200)),
      (e: unknown) => e instanceof ProtocolError && e.code === 'PROTOCOL_UNKNOWN_OP',
    );
  });

  it('fuzz: random bodies for every decoder only ever throw ProtocolError', () => {
    const decoders = [
      decodeRequestBody,
      decodeStat,
      decodeReaddirResult,
      decodeErrorBody,
      decodeEventBody,
      decodeHelloBody,
    ];
    for (let i = 0; i < 10_000; i++) {
      const bytes = randomBytes(i % 96);
      if (i % 5 === 0 && bytes.length > 0) bytes[0] = [1, 2, 3, 4, 5][i % 5]!;
      for (const decode of decoders) {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `${decode.name}: ${String(err)}`);
        }
      }
    }
  });
});
