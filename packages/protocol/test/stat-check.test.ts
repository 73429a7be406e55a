import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeReaddirResult,
  decodeRequestBody,
  decodeStat,
  encodeRequestBody,
  encodeResultBody,
  FsOp,
  isEntryName,
  isReaddirResult,
  isReadParams,
  isStatParams,
  isWireStat,
  MAX_PATH_BYTES,
  MAX_READ_BYTES,
  MAX_READDIR_PAGE,
  ProtocolError,
  ReaddirResultSchema,
  ReadParamsSchema,
  StatParamsSchema,
  StatSchema,
} from '@wormhole/protocol';

// A small deterministic PRNG, so a failure names a seed that reproduces it.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  undefined,
  true,
  '',
  'x'.repeat(129),
  'x'.repeat(1025),
  -1,
  -0,
  0.5,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  0xffffffff,
  0x100000000,
  0o177777,
  0o200000,
  [],
  {},
  [1, 2],
  new Uint8Array(3),
  'file',
  'dir',
  'socket',
];

function validStat(r: () => number) {
  const types = ['file', 'dir', 'symlink', 'other'] as const;
  return {
    type: types[Math.floor(r() * 4)]!,
    size: Math.floor(r() * 2 ** 40),
    mode: Math.floor(r() * 0o177777),
    mtimeMs: r() * 2e12,
    ctimeMs: r() * 2e12,
    atimeMs: r() * 2e12,
    nlink: Math.floor(r() * 10),
    ino: Math.floor(r() * 2 ** 50),
    version: `${Math.floor(r() * 1e9)}:${Math.floor(r() * 1e6)}`,
  };
}

/** Replaces, deletes or adds one property somewhere in `value` (a fresh copy). */
function mutate(value: unknown, r: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const targets: Record<string, unknown>[] = [copy];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (typeof v === 'object' && v !== null) {
      targets.push(v as Record<string, unknown>);
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(copy.entries ?? copy.stat ?? undefined);
  const target = targets[Math.floor(r() * targets.length)]!;
  const keys = Object.keys(target);
  const pick = r();
  if (pick < 0.15 || keys.length === 0) target[`extra${Math.floor(r() * 3)}`] = 1;
  else if (pick < 0.3) delete target[keys[Math.floor(r() * keys.length)]!];
  else target[keys[Math.floor(r() * keys.length)]!] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
  return copy;
}

describe('hand-written Stat/listing checks (in front of the zod schemas)', () => {
  it('accept every valid value and never what the schema rejects (10,000 valid, 20,000 mutated)', () => {
    let acceptedMutants = 0;
    for (let seed = 0; seed < 10_000; seed++) {
      const r = rng(seed);
      const stat = validStat(r);
      const page: { entries: unknown[]; next?: number } = {
        entries: Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => ({
          name: `n${i}`,
          stat: validStat(r),
        })),
      };
      if (r() < 0.5) page.next = Math.floor(r() * 1000);
      assert.ok(isWireStat(stat), `seed ${seed}: a valid stat was refused`);
      assert.ok(isReaddirResult(page, MAX_READDIR_PAGE), `seed ${seed}: a valid page was refused`);

      const badStat = mutate({ stat }, r) as { stat: unknown };
      const badPage = mutate(page, r);
      for (const [fast, schema, v] of [
        [isWireStat(badStat.stat), StatSchema, badStat.stat],
        [isReaddirResult(badPage, MAX_READDIR_PAGE), ReaddirResultSchema, badPage],
      ] as const) {
        const slow = schema.safeParse(v).success;
        if (fast) {
          acceptedMutants++;
          assert.ok(slow, `seed ${seed}: check accepted what the schema rejects: ${JSON.stringify(v)}`);
        }
      }
    }
    // Mutations that keep a value valid (a number swapped for another in range) are rare but
    // must exist, or the comparison above proved nothing about acceptance.
    assert.ok(acceptedMutants > 0);
  });

  it('decoders: valid bodies round-trip, invalid ones fail with the schema message', () => {
    const stat = validStat(rng(1));
    assert.deepEqual(decodeStat(encodeResultBody(stat)), stat);
    const page = { entries: [{ name: 'a', stat }], next: 5 };
    assert.deepEqual(decodeReaddirResult(encodeResultBody(page)), page);
    assert.throws(
      () => decodeStat(encodeResultBody({ ...stat, nlink: -1 })),
      (e: unknown) => e instanceof ProtocolError && /stat result: nlink: /.test(e.message),
    );
    assert.throws(
      () => decodeReaddirResult(encodeResultBody({ entries: [{ name: '', stat }] })),
      (e: unknown) => e instanceof ProtocolError && /readdir result: entries\.0\.name: /.test(e.message),
    );
    assert.throws(
      () =>
        decodeReaddirResult(
          encodeResultBody({ entries: Array(MAX_READDIR_PAGE + 1).fill({ name: 'a', stat }) }),
        ),
      (e: unknown) => e instanceof ProtocolError,
    );
  });

  it('a listing entry must be one path component: a hostile host cannot name its way out', () => {
    const stat = validStat(rng(2));
    const hostile = [
      '.',
      '..',
      '../x',
      '../../etc/passwd',
      'a/b',
      '/abs',
      'x/',
      'nul\0byte',
      'x'.repeat(1025),
    ];
    for (const name of hostile) {
      assert.equal(isEntryName(name), false, JSON.stringify(name));
      assert.throws(
        () =>
          decodeReaddirResult(
            encodeResultBody({
              entries: [
                { name: 'ok', stat },
                { name, stat },
              ],
            }),
          ),
        (e: unknown) =>
          e instanceof ProtocolError &&
          /readdir result: entries\.1\.name: a name must be one path component/.test(e.message),
        JSON.stringify(name),
      );
    }
    // Names a file system can hold stay fine: dots inside, spaces, unicode, backslashes.
    for (const name of [
      '...',
      '.hidden',
      'a..b',
      'with space',
      'ünï cödé ✓',
      'back\\slash',
      'x'.repeat(1024),
    ]) {
      assert.equal(isEntryName(name), true, JSON.stringify(name));
      const page = { entries: [{ name, stat }] };
      assert.deepEqual(decodeReaddirResult(encodeResultBody(page)), page);
    }
  });
});

describe('hand-written request checks (READ and STAT params, in front of the zod schemas)', () => {
  function validRead(r: () => number): Record<string, unknown> {
    const v: Record<string, unknown> = {
      path: `dir${Math.floor(r() * 100)}/f${Math.floor(r() * 1e6)}.bin`,
      offset: Math.floor(r() * 2 ** 40),
      length: Math.floor(r() * (MAX_READ_BYTES + 1)),
    };
    if (r() < 0.7) v.version = `${Math.floor(r() * 1e9)}:${Math.floor(r() * 1e6)}`;
    return v;
  }

  it('accept every valid value and never what the schema rejects (10,000 valid, 20,000 mutated)', () => {
    let acceptedMutants = 0;
    for (let seed = 0; seed < 10_000; seed++) {
      const r = rng(seed);
      const read = validRead(r);
      const stat = { path: read.path };
      assert.ok(isReadParams(read), `seed ${seed}: valid read params refused`);
      assert.ok(isStatParams(stat), `seed ${seed}: valid stat params refused`);
      for (const [check, schema, v] of [
        [isReadParams, ReadParamsSchema, (mutate({ stat: read }, r) as { stat: unknown }).stat],
        [isStatParams, StatParamsSchema, (mutate({ stat }, r) as { stat: unknown }).stat],
      ] as const) {
        if (!check(v)) continue;
        acceptedMutants++;
        assert.ok(
          schema.safeParse(v).success,
          `seed ${seed}: accepted what the schema rejects: ${JSON.stringify(v)}`,
        );
      }
    }
    assert.ok(acceptedMutants > 0);
  });

  it('bounds: path length, read length and version as the schema has them; decodeRequestBody agrees', () => {
    const ok = { path: 'a', offset: 0, length: MAX_READ_BYTES, version: 'v'.repeat(128) };
    assert.ok(isReadParams(ok));
    for (const bad of [
      { ...ok, length: MAX_READ_BYTES + 1 },
      { ...ok, version: 'v'.repeat(129) },
      { ...ok, path: 'p'.repeat(MAX_PATH_BYTES + 1) },
      { ...ok, offset: -1 },
      { ...ok, offset: 0.5 },
      { path: 'a', offset: 0 },
      { ...ok, extra: 1 },
    ]) {
      assert.equal(isReadParams(bad), false, JSON.stringify(bad));
      assert.equal(ReadParamsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
    // Stricter than the schema is allowed (zod then decides): a `version` key holding undefined.
    assert.equal(isReadParams({ ...ok, version: undefined }), false);
    assert.equal(ReadParamsSchema.safeParse({ ...ok, version: undefined }).success, true);
    assert.deepEqual(decodeRequestBody(encodeRequestBody(FsOp.READ, ok)), { op: FsOp.READ, params: ok });
    assert.throws(
      () => decodeRequestBody(encodeRequestBody(FsOp.READ, { ...ok, length: MAX_READ_BYTES + 1 })),
      (e: unknown) => e instanceof ProtocolError && /op 3 params: length: /.test(e.message),
    );
    assert.equal(isStatParams({ path: 'p'.repeat(MAX_PATH_BYTES) }), true);
    assert.equal(isStatParams({ path: 'p'.repeat(MAX_PATH_BYTES + 1) }), false);
    assert.throws(
      () => decodeRequestBody(encodeRequestBody(FsOp.STAT, { path: 1 } as never)),
      (e: unknown) => e instanceof ProtocolError && /op 1 params: path: /.test(e.message),
    );
  });
});
