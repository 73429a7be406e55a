import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '@wormhole/protocol';
import { dataChannelTransport, parseIceServer, redactIceServer } from '../src/index.js';

describe('ICE server parsing', () => {
  it('parses stun, turn over udp/tcp and turns', () => {
    assert.deepEqual(parseIceServer('stun:127.0.0.1:3478'), { hostname: '127.0.0.1', port: 3478 });
    assert.deepEqual(parseIceServer('turn:u:p@turn.example.org:3478'), {
      hostname: 'turn.example.org',
      port: 3478,
      username: 'u',
      password: 'p',
      relayType: 'TurnUdp',
    });
    assert.equal(parseIceServer('turn:u:p@h:1?transport=udp').relayType, 'TurnUdp');
    assert.equal(parseIceServer('turn:u:p@h:1?transport=tcp').relayType, 'TurnTcp');
    assert.equal(parseIceServer('turns:u:p@h:5349').relayType, 'TurnTls');
    assert.deepEqual(parseIceServer('turn:us%40er:p%3Aw@[::1]:3478'), {
      hostname: '::1',
      port: 3478,
      username: 'us@er',
      password: 'p:w',
      relayType: 'TurnUdp',
    });
  });

  it('rejects malformed servers without echoing the password', () => {
    for (const bad of [
      'stun:host',
      'stun:u:p@host:1',
      'turn:host:3478',
      'turn:u:p@host:99999',
      'turn:u:secret@host:1?transport=sctp',
      'http://host:1',
      'turn:u:secret@host:1 extra',
    ]) {
      assert.throws(
        () => parseIceServer(bad),
        (err: unknown) => isAppError(err, 'TRANSPORT_UNAVAILABLE') && !err.message.includes('secret'),
        bad,
      );
    }
    assert.equal(redactIceServer('turn:alice:secret@h:1'), 'turn:alice:***@h:1');
  });

  it('validates transport options at construction', () => {
    const bad: Parameters<typeof dataChannelTransport>[0][] = [
      { maxMessageBytes: 256 * 1024 + 1 },
      { maxMessageBytes: 0 },
      { connectTimeoutMs: -1 },
      { portRangeBegin: 5000, portRangeEnd: 4000 },
      { portRangeBegin: 70000 },
      { iceTransportPolicy: 'relay' },
      { iceTransportPolicy: 'relay', iceServers: ['stun:h:1'] },
      { highWaterMarkBytes: -5 },
    ];
    for (const options of bad) {
      assert.throws(
        () => dataChannelTransport(options),
        (e: unknown) => isAppError(e, 'TRANSPORT_UNAVAILABLE'),
      );
    }
    const ok = dataChannelTransport({ iceTransportPolicy: 'relay', iceServers: ['turn:u:p@127.0.0.1:3478'] });
    assert.equal(ok.kind, 'datachannel');
    assert.equal(Object.prototype.toString.call(ok), '[object @wormhole/transport-datachannel]');
    assert.equal(ok.isAvailable(), true);
  });
});
