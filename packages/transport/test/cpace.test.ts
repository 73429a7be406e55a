// CPace (draft-irtf-cfrg-cpace-21, CPACE-X25519-SHA512): the draft's test vectors (appendix
// A.1, A.3, B.1), its low-order points, and the exchange the rendezvous runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CPace, calculateGenerator, generatorString, lvCat, prependLen, x25519 } from '../src/cpace.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array | undefined): string =>
  b === undefined ? 'undefined' : Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

// B.1.1 inputs
const PRS = ascii('Password');
const CI = hex('0b415f696e69746961746f720b425f726573706f6e646572');
const SID = hex('7e4b4791d6a8ef019b936c79fb7f2c57');
const YA = hex('21b4f4bd9e64ed355c3eb676a28ebedaf6d8f17bdc365995b319097153044080');
const YB = hex('848b0779ff415f0af4ea14df9dd1d3c29ac41d836c7808896c4eba19c51ac40a');

describe('CPace X25519/SHA-512 (draft test vectors)', () => {
  it('prepend_len and lv_cat (A.1)', () => {
    assert.equal(toHex(prependLen(new Uint8Array(0))), '00');
    assert.equal(toHex(prependLen(ascii('1234'))), '0431323334');
    const r127 = Uint8Array.from({ length: 127 }, (_, i) => i);
    const r128 = Uint8Array.from({ length: 128 }, (_, i) => i);
    assert.equal(toHex(prependLen(r127).subarray(0, 2)), '7f00');
    assert.equal(prependLen(r127).length, 128);
    assert.equal(toHex(prependLen(r128).subarray(0, 3)), '800100');
    assert.equal(prependLen(r128).length, 130);
    assert.equal(
      toHex(lvCat(ascii('1234'), ascii('5'), new Uint8Array(0), ascii('678'))),
      '043132333401350003363738',
    );
  });

  it('generator string and generator (B.1.1)', () => {
    const gs = generatorString(PRS, CI, SID);
    assert.equal(gs.length, 170);
    assert.equal(
      toHex(gs),
      '0843506163653235350850617373776f72646d' +
        '00'.repeat(109) +
        '180b415f696e69746961746f720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f2c57',
    );
    assert.equal(
      toHex(calculateGenerator(PRS, CI, SID)),
      'd04bf6d41f6a289632a2e929fa29bebd51092512a7829fdde7d314b62f05a73f',
    );
  });

  it('messages, K and ISK in the initiator-responder setting (B.1.2-B.1.5)', () => {
    const a = new CPace('A', PRS, { ci: CI, sid: SID, ad: ascii('ADa'), scalar: YA });
    const b = new CPace('B', PRS, { ci: CI, sid: SID, ad: ascii('ADb'), scalar: YB });
    assert.equal(toHex(a.share), '1d13c89278cdadd826f6d8d7f887701430f8380ddc17611cdd6dc989ce0c9f32');
    assert.equal(toHex(b.share), '248cccf6d5cdc3646f0ad593f9e6cef4e69d4945f8372e623512ecea32185623');
    const ra = a.isk(b.share, ascii('ADb'));
    const rb = b.isk(a.share, ascii('ADa'));
    const K = '5b067effbdc0b2a0e1d907b21ebb25cfedb96a852179a847c37e43ee71322c6b';
    assert.equal(toHex(ra.K), K);
    assert.equal(toHex(rb.K), K);
    assert.equal(
      toHex(ra.transcript),
      '201d13c89278cdadd826f6d8d7f887701430f8380ddc17611cdd6dc989ce0c9f320341446120248cccf6d5cdc3646f0ad593f9e6cef4e69d4945f8372e623512ecea3218562303414462',
    );
    const ISK =
      '6e19b875f7a561d6b3ca3dbb9ef42ac55de3e717881018204b8922b4d5e53bb2aa82c300bea7b65d2b671da71922ddf6472301b79bc270adfa8bf413285f2263';
    assert.equal(toHex(ra.isk), ISK);
    assert.equal(toHex(rb.isk), ISK);
  });

  it('scalar_mult_vfy on low-order and non-canonical points (B.1.10)', () => {
    const s = hex('af46e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449aff');
    const neutral = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const u of neutral)
      assert.equal(x25519(s, hex(u)), undefined, `u=${u} must give the neutral element`);
    const valid: Array<[string, string]> = [
      [
        'daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
        'd8e2c776bbacd510d09fd9278b7edcd25fc5ae9adfba3b6e040e8d3b71b21806',
      ],
      [
        'dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
        'c85c655ebe8be44ba9c0ffde69f2fe10194458d137f09bbff725ce58803cdb38',
      ],
      [
        'd9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
        'db64dafa9b8fdd136914e61461935fe92aa372cb056314e1231bc4ec12417456',
      ],
      [
        'cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
        'e062dcd5376d58297be2618c7498f55baa07d7e03184e8aada20bca28888bf7a',
      ],
      [
        '4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7',
        '993c6ad11c4c29da9a56f7691fd0ff8d732e49de6250b6c2e80003ff4629a175',
      ],
    ];
    for (const [u, q] of valid) assert.equal(toHex(x25519(s, hex(u))), q, `u=${u}`);
  });
});

describe('CPace exchange as the rendezvous runs it', () => {
  const ci = lvCat(ascii('client 7'), ascii('host 7'));
  const aad = ascii('wormhole-v2');

  it('same code: same keys, both confirmations verify', () => {
    const a = new CPace('A', ascii('purple-sausage'), { ci, aad });
    const b = new CPace('B', ascii('purple-sausage'), { ci, aad });
    const ra = a.finish(b.share);
    const rb = b.finish(a.share);
    assert.deepEqual(ra.ke, rb.ke);
    assert.equal(ra.ke.length, 32);
    assert.ok(rb.verifyPeerConfirm(ra.confirm));
    assert.ok(ra.verifyPeerConfirm(rb.confirm));
    assert.notDeepEqual(ra.confirm, rb.confirm);
  });

  it('a different code, channel or aad: keys differ and the confirmations fail', () => {
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
      [ascii('purple-sausage'), ci, aad],
      [ascii('purple-sausagf'), ci, aad],
      [ascii('purple-sausage'), lvCat(ascii('client 8'), ascii('host 7')), aad],
    ];
    const a = new CPace('A', cases[0]![0], { ci: cases[0]![1], aad: cases[0]![2] });
    for (const [prs, c] of cases.slice(1)) {
      const aa = new CPace('A', cases[0]![0], { ci: cases[0]![1], aad });
      const b = new CPace('B', prs, { ci: c, aad });
      const ra = aa.finish(b.share);
      const rb = b.finish(aa.share);
      assert.notDeepEqual(ra.ke, rb.ke);
      assert.equal(rb.verifyPeerConfirm(ra.confirm), false);
      assert.equal(ra.verifyPeerConfirm(rb.confirm), false);
    }
    const b2 = new CPace('B', cases[0]![0], { ci, aad: ascii('wormhole-v1') });
    const ra = a.finish(b2.share);
    assert.equal(b2.finish(a.share).verifyPeerConfirm(ra.confirm), false);
  });

  it('a low-order or malformed peer share fails with TRANSPORT_PAKE_FAILED', () => {
    for (const bad of [
      new Uint8Array(32),
      hex('0100000000000000000000000000000000000000000000000000000000000000'),
      new Uint8Array(31),
    ]) {
      const a = new CPace('A', ascii('x'), { ci });
      assert.throws(
        () => a.finish(bad),
        (e: unknown) => (e as { code?: string }).code === 'TRANSPORT_PAKE_FAILED',
      );
    }
  });

  it('a share is fresh every run (random scalar)', () => {
    const s1 = new CPace('A', ascii('x'), { ci }).share;
    const s2 = new CPace('A', ascii('x'), { ci }).share;
    assert.notDeepEqual(s1, s2);
  });
});
