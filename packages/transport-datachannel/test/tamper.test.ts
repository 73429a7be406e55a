// What a signal server that rewrites SDP fingerprints achieves: nothing but a failed connection.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAppError } from '@wormhole/protocol';
import type { TransportSignal } from '@wormhole/transport';
import { dataChannelTransport } from '../src/index.js';
import { loadNative } from '../src/native.js';
import { startPair } from './helpers.js';

/** Flips the first byte of the a=fingerprint value. */
function tamper(sdp: string): string {
  return sdp.replace(/a=fingerprint:sha-256 ([0-9A-F]{2})/i, (_m, b: string) => {
    const flipped = (Number.parseInt(b, 16) ^ 0xff).toString(16).toUpperCase().padStart(2, '0');
    return `a=fingerprint:sha-256 ${flipped}`;
  });
}

function fp(sdp: string): string {
  return (/a=fingerprint:sha-256 (\S+)/.exec(sdp)?.[1] ?? '').replace(/:/g, '').toLowerCase();
}

describe('tampered SDP fingerprint', () => {
  const transport = dataChannelTransport({ bindAddress: '127.0.0.1', connectTimeoutMs: 5000 });
  after(() => transport.close());

  for (const victim of ['host', 'client'] as const) {
    it(`a rewritten ${victim} fingerprint makes the connection fail on both sides`, async () => {
      const { hostSession, clientSession } = startPair(transport, transport, {
        filter: (from, s: TransportSignal) =>
          from === victim && s.type === 'description' && typeof s.sdp === 'string'
            ? { ...s, sdp: tamper(s.sdp) }
            : s,
      });
      const started = Date.now();
      const results = await Promise.allSettled([hostSession.connected, clientSession.connected]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok(
          isAppError(r.reason, 'TRANSPORT_CONNECT_FAILED') || isAppError(r.reason, 'TRANSPORT_TIMEOUT'),
          String(r.status === 'rejected' ? r.reason : ''),
        );
      }
      // libdatachannel aborts the DTLS handshake: it fails fast, not by timeout.
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    });
  }

  it('remoteFingerprint() is computed from the certificate seen in DTLS, not copied from the SDP', async () => {
    // Proof of the binding's premise, at the native layer: with libdatachannel's own check
    // switched off, a tampered SDP still connects, and remoteFingerprint() reports the real
    // peer certificate (what the peer MACs), not the forged SDP value. So with the check on
    // (always, in this package) a forged fingerprint cannot both connect and mirror.
    const native = loadNative();
    assert.ok(native);
    const config = { iceServers: [], bindAddress: '127.0.0.1', disableFingerprintVerification: true };
    const a = new native.PeerConnection('a', config);
    const b = new native.PeerConnection('b', config);
    try {
      let forged = '';
      // Each callback type has its own native queue, so a candidate can arrive before the
      // description it belongs to: hold candidates until the remote description is set. Nothing
      // may throw out of a native callback (that is std::terminate, the whole process), so
      // every call is guarded and a failure fails the test through `broken`.
      let broken: unknown;
      const guard = (fn: () => void) => {
        try {
          fn();
        } catch (err) {
          broken ??= err;
        }
      };
      const held = { a: [] as Array<[string, string]>, b: [] as Array<[string, string]> };
      const ready = { a: false, b: false };
      const setRemote = (side: 'a' | 'b', sdp: string, type: string) => {
        const pc = side === 'a' ? a : b;
        guard(() => pc.setRemoteDescription(sdp, type as 'offer' | 'answer'));
        ready[side] = true;
        for (const [c, m] of held[side].splice(0)) guard(() => pc.addRemoteCandidate(c, m));
      };
      const addCandidate = (side: 'a' | 'b', c: string, m: string) => {
        if (!ready[side]) held[side].push([c, m]);
        else guard(() => (side === 'a' ? a : b).addRemoteCandidate(c, m));
      };
      a.onLocalDescription((sdp, type) => {
        const t = tamper(sdp);
        forged = fp(t);
        setRemote('b', t, type);
      });
      b.onLocalDescription((sdp, type) => setRemote('a', sdp, type));
      a.onLocalCandidate((c, m) => addCandidate('b', c, m));
      b.onLocalCandidate((c, m) => addCandidate('a', c, m));
      b.onDataChannel(() => {});
      const dc = a.createDataChannel('x');
      await new Promise<void>((resolve, reject) => {
        dc.onOpen(resolve);
        setTimeout(() => reject(new Error('no open')), 5000).unref();
      });
      assert.equal(broken, undefined, String(broken));
      const real = fp(a.localDescription()?.sdp ?? '');
      const seen = b.remoteFingerprint().value.replace(/:/g, '').toLowerCase();
      assert.notEqual(forged, real);
      assert.equal(fp(b.remoteDescription()?.sdp ?? ''), forged, 'b was given the forged SDP');
      assert.equal(seen, real, 'remoteFingerprint() is the certificate actually presented');
      dc.close();
    } finally {
      a.close();
      b.close();
    }
  });
});
