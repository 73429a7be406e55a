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

  for (const victim of ['host', 'client'] as const) {
    it(`a DTLS failure after ICE connected (${victim}'s first fingerprint rewritten) is retried once on a new PeerConnection, and connects`, async () => {
      // What a DTLS flight from another association on a busy host does (certificate verify
      // failed, then state failed): here forced by rewriting the first generation only.
      const seen: Array<{ from: string; type: unknown; gen: unknown }> = [];
      const { hostSession, clientSession } = startPair(transport, transport, {
        filter: (from, s: TransportSignal) => {
          seen.push({ from, type: s.type, gen: s.gen });
          return from === victim &&
            s.type === 'description' &&
            s.gen === undefined &&
            typeof s.sdp === 'string'
            ? { ...s, sdp: tamper(s.sdp) }
            : s;
        },
      });
      const [host, client] = await Promise.all([hostSession.connected, clientSession.connected]);
      try {
        assert.deepEqual(
          seen.filter((x) => x.type === 'description').map((x) => `${x.from}:${String(x.gen ?? 0)}`),
          ['client:0', 'host:0', 'client:1', 'host:1'],
        );
        // The binding both sides MAC is the second PeerConnection's, and it mirrors.
        assert.deepEqual(host.binding(), { local: client.binding().remote, remote: client.binding().local });
        const got = new Promise<Uint8Array>((r) => host.once('message', r));
        await client.send(Buffer.from('after restart'));
        assert.equal(Buffer.from(await got).toString(), 'after restart');
      } finally {
        client.close();
        host.close();
      }
    });
  }

  it('a signal of a generation the session never reached is refused as TRANSPORT_BAD_SIGNAL', () => {
    const { hostSession, clientSession } = startPair(transport, transport, { filter: () => undefined });
    try {
      // A host never restarts on its own, so a client is never sent generation 1 first; a host
      // only takes generation 1 as a new offer.
      const candidate = (gen: number) => ({
        type: 'candidate',
        candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host',
        mid: '0',
        gen,
      });
      for (const [session, gen] of [
        [clientSession, 1],
        [hostSession, 1],
        [hostSession, 2],
      ] as const) {
        assert.throws(
          () => session.handleSignal(candidate(gen)),
          (e) => isAppError(e, 'TRANSPORT_BAD_SIGNAL'),
        );
      }
    } finally {
      hostSession.close();
      clientSession.close();
    }
  });

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
