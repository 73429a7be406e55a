import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAppError } from '@wormhole/protocol';
import type { TransportSignal } from '@wormhole/transport';
import { dataChannelTransport, parseSignal } from '../src/index.js';

const FP = Array.from({ length: 32 }, () => 'AB').join(':');
const SDP = `v=0\r\no=- 1 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${FP}\r\n`;

const isBadSignal = (e: unknown) => isAppError(e, 'TRANSPORT_BAD_SIGNAL');

describe('signal validation', () => {
  it('accepts well-formed descriptions and candidates', () => {
    assert.equal(parseSignal({ type: 'description', sdp: SDP, sdpType: 'offer' }).type, 'description');
    assert.equal(
      parseSignal({
        type: 'candidate',
        candidate: 'a=candidate:1 1 UDP 2114977791 127.0.0.1 5000 typ host',
        mid: '0',
      }).type,
      'candidate',
    );
  });

  it('rejects hostile or malformed input with TRANSPORT_BAD_SIGNAL', () => {
    const bad: unknown[] = [
      null,
      'description',
      {},
      { type: 'bye' },
      { type: 'description', sdp: SDP },
      { type: 'description', sdp: SDP, sdpType: 'rollback' },
      { type: 'description', sdp: SDP, sdpType: 'offer', extra: 1 },
      { type: 'description', sdp: 'x'.repeat(100_000), sdpType: 'offer' },
      { type: 'description', sdp: `${SDP}\u0000`, sdpType: 'offer' },
      { type: 'description', sdp: SDP.replace('sha-256', 'sha-1'), sdpType: 'offer' },
      { type: 'description', sdp: SDP.replace(/a=fingerprint.*\r\n/, ''), sdpType: 'offer' },
      { type: 'description', sdp: `${SDP}a=fingerprint:sha-256 ${FP}\r\n`, sdpType: 'offer' },
      { type: 'description', sdp: 42, sdpType: 'offer' },
      { type: 'candidate', candidate: 'hello', mid: '0' },
      { type: 'candidate', candidate: 'candidate:1 1 UDP 1 127.0.0.1 1 typ host', mid: '' },
      { type: 'candidate', candidate: `candidate:${'1'.repeat(2000)}`, mid: '0' },
      { type: 'candidate', candidate: 'candidate:1\n1', mid: '0' },
      { type: 'candidate', candidate: 'candidate:1 1 UDP 1 127.0.0.1 1 typ host' },
    ];
    for (const s of bad)
      assert.throws(() => parseSignal(s as TransportSignal), isBadSignal, JSON.stringify(s));
  });

  describe('on a live session', () => {
    const transport = dataChannelTransport({ bindAddress: '127.0.0.1', connectTimeoutMs: 5000 });
    after(() => transport.close());

    it('rejects wrong roles, garbage SDP and garbage candidates', async () => {
      const ac = new AbortController();
      const host = transport.createSession('host', { signal: ac.signal });
      const client = transport.createSession('client', { signal: ac.signal });
      const offer = await new Promise<TransportSignal>((resolve) =>
        client.onSignal((s) => {
          if (s.type === 'description') resolve(s);
        }),
      );
      // The client only takes answers; the host only offers.
      assert.throws(() => client.handleSignal(offer), isBadSignal);
      assert.throws(() => host.handleSignal({ ...offer, sdpType: 'answer' }), isBadSignal);
      // Passes the schema, but libdatachannel cannot use it.
      assert.throws(
        () => host.handleSignal({ type: 'description', sdp: SDP, sdpType: 'offer' }),
        isBadSignal,
      );
      host.handleSignal(offer);
      assert.throws(() => host.handleSignal(offer), isBadSignal, 'a second description');
      assert.throws(
        () => host.handleSignal({ type: 'candidate', candidate: 'candidate:not a candidate', mid: '0' }),
        isBadSignal,
      );
      ac.abort();
      await assert.rejects(host.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
      await assert.rejects(client.connected, (e: unknown) => isAppError(e, 'TRANSPORT_ABORTED'));
      // After close, valid signals are ignored (libdatachannel would throw), bad ones still throw.
      host.handleSignal({
        type: 'candidate',
        candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host',
        mid: '0',
      });
      assert.throws(() => host.handleSignal({ type: 'nope' }), isBadSignal);
    });
  });
});
