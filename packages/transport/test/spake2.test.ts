import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  P256_GROUP,
  passwordToScalar,
  RISTRETTO255_GROUP,
  Spake2,
  TransportError,
} from '@wormhole/transport';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const te = new TextEncoder();

// RFC 9382 Appendix B: SPAKE2-P256-SHA256-HKDF-HMAC, empty AAD.
const VECTORS = [
  {
    A: 'server',
    B: 'client',
    w: '2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f',
    x: '43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729',
    y: 'dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be',
    pA: '04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c',
    pB: '0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7',
    TT: '06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b741000000000000000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f',
    Ke: '0e0672dc86f8e45565d338b0540abe69',
    Ka: '15bdf72e2b35b5c9e5663168e960a91b',
    KcA: '00c12546835755c86d8c0db7851ae86f',
    KcB: 'a9fa3406c3b781b93d804485430ca27a',
    cA: '58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0',
    cB: 'd3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b',
  },
  {
    A: '',
    B: 'client',
    w: '0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae',
    x: '403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b',
    y: '903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065',
    pA: '04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a',
    pB: '04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc',
    Ke: '642f05c473c2cd79909f9a841e2f30a7',
    Ka: '0bf89b18180af97353ba198789c2b963',
    KcA: 'c6be376fc7cd1301fd0a13adf3e7bffd',
    KcB: 'b7243f4ae60440a49b3f8cab3c1fba07',
    cA: '47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b',
    cB: '3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df',
  },
  {
    A: 'server',
    B: '',
    w: '626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254',
    x: '07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633',
    y: 'b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16',
    pA: '04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0',
    pB: '040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db',
    Ke: '005184ff460da2ce59062c87733c299c',
    Ka: '3521297d736598fc0a1127600efa1afb',
    KcA: 'f3da53604f0aeecea5a33be7bddf6edf',
    KcB: '9e3f86848736f159bd92b6e107ec6799',
    cA: 'bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2',
    cB: 'c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec',
  },
  {
    A: '',
    B: '',
    w: '7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca',
    x: '8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473',
    y: 'd7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53',
    pA: '04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66',
    pB: '04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d',
    Ke: 'fc6374762ba5cf11f4b2caa08b2cd1b9',
    Ka: '907ae0e26e8d6234318d91583cd74c86',
    KcA: '5dbd2f477166b7fb6d61febbd77a5563',
    KcB: '7689b4654407a5faeffdc8f18359d8a3',
    cA: 'dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca',
    cB: 'd0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175',
  },
];

describe('SPAKE2 (RFC 9382)', () => {
  for (const v of VECTORS) {
    it(`matches Appendix B vector A='${v.A}' B='${v.B}' on P-256`, () => {
      const w = BigInt(`0x${v.w}`);
      const ids = { idA: te.encode(v.A), idB: te.encode(v.B) };
      const a = new Spake2(P256_GROUP, 'A', w, { ...ids, scalar: BigInt(`0x${v.x}`) });
      const b = new Spake2(P256_GROUP, 'B', w, { ...ids, scalar: BigInt(`0x${v.y}`) });
      assert.equal(hex(a.share), v.pA);
      assert.equal(hex(b.share), v.pB);
      const ra = a.finish(b.share);
      const rb = b.finish(a.share);
      if (v.TT) assert.equal(hex(ra.transcript), v.TT);
      for (const r of [ra, rb]) {
        assert.equal(hex(r.ke), v.Ke);
        assert.equal(hex(r.ka), v.Ka);
        assert.equal(hex(r.kcA), v.KcA);
        assert.equal(hex(r.kcB), v.KcB);
      }
      assert.equal(hex(ra.confirm), v.cA);
      assert.equal(hex(rb.confirm), v.cB);
      assert.ok(ra.verifyPeerConfirm(unhex(v.cB)));
      assert.ok(rb.verifyPeerConfirm(unhex(v.cA)));
      assert.ok(!ra.verifyPeerConfirm(unhex(v.cA)), 'a confirmation MAC is not accepted back (reflection)');
    });
  }

  it('pins the ristretto255 M and N derived from the documented seeds', () => {
    const g = RISTRETTO255_GROUP;
    assert.equal(
      hex(g.encodeElement(g.M)),
      'bced9856535a760d74ce2b5db79e5dea0fce6135054d281712693e93357ee45c',
    );
    assert.equal(
      hex(g.encodeElement(g.N)),
      '7adbc3bf9fc188db1b1126a89e145f4942d033dc2d6dc725a76eaf3cbf694e0c',
    );
    assert.notEqual(hex(g.encodeElement(g.M)), hex(g.encodeElement(g.base)));
  });

  it('agrees over ristretto255 with the same password and disagrees with a different one', () => {
    const g = RISTRETTO255_GROUP;
    const ids = { idA: te.encode('client 7'), idB: te.encode('host 7') };
    const w = passwordToScalar(te.encode('7-guitar-harbor'), g.order);
    const a = new Spake2(g, 'A', w, ids);
    const b = new Spake2(g, 'B', w, ids);
    const ra = a.finish(b.share);
    const rb = b.finish(a.share);
    assert.equal(hex(ra.ke), hex(rb.ke));
    assert.ok(ra.verifyPeerConfirm(rb.confirm) && rb.verifyPeerConfirm(ra.confirm));

    const wrong = passwordToScalar(te.encode('7-guitar-harpoon'), g.order);
    const c = new Spake2(g, 'A', wrong, ids);
    const d = new Spake2(g, 'B', w, ids);
    const rc = c.finish(d.share);
    const rd = d.finish(c.share);
    assert.notEqual(hex(rc.ke), hex(rd.ke));
    assert.ok(!rd.verifyPeerConfirm(rc.confirm));
    assert.ok(!rc.verifyPeerConfirm(rd.confirm));
  });

  it('rejects invalid, identity and degenerate peer elements with TRANSPORT_PAKE_FAILED', () => {
    for (const g of [RISTRETTO255_GROUP, P256_GROUP] as const) {
      const w = 12345n;
      const bad: Uint8Array[] = [
        new Uint8Array(0),
        new Uint8Array(32),
        new Uint8Array(65),
        new Uint8Array(33).fill(0xff),
      ];
      // pB = w·N exactly would make K the identity.
      bad.push(g.encodeElement((g.N as never as { multiply(s: bigint): never }).multiply(w)));
      for (const share of bad) {
        const a = new Spake2(g as never, 'A', w, { idA: te.encode('a'), idB: te.encode('b') });
        assert.throws(
          () => a.finish(share),
          (e: unknown) => e instanceof TransportError && e.code === 'TRANSPORT_PAKE_FAILED',
        );
      }
    }
  });

  it('maps passwords to non-zero scalars deterministically', () => {
    const g = RISTRETTO255_GROUP;
    const w1 = passwordToScalar(te.encode('x'), g.order);
    assert.equal(w1, passwordToScalar(te.encode('x'), g.order));
    assert.notEqual(w1, passwordToScalar(te.encode('y'), g.order));
    assert.ok(w1 > 0n && w1 < g.order);
  });
});
