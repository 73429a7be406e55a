import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseBind, parseConfig } from '@wormhole/signal';

const cfg = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const c = parseConfig(argv, env);
  if (c === 'help') throw new Error('unexpected help');
  return c;
};

describe('wormhole-signal configuration', () => {
  it('parses --bind, defaults, and env; flags override env', () => {
    const c = cfg(['--bind', '0.0.0.0:8080'], {
      SIGNAL_MAX_ROOMS: '20',
      LOG_LEVEL: 'warn',
      SIGNAL_ROOM_TIMEOUT: '90',
    });
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.maxRooms, 20);
    assert.equal(c.server.roomTimeoutSec, 90);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.shutdownTimeoutMs, 10_000);
    const o = cfg(['--bind', '[::1]:0', '--max-rooms', '7', '--log-level', 'debug'], {
      SIGNAL_MAX_ROOMS: '20',
      LOG_LEVEL: 'warn',
    });
    assert.equal(o.server.host, '::1');
    assert.equal(o.server.maxRooms, 7);
    assert.equal(o.logLevel, 'debug');
    const r = cfg(['--bind', '127.0.0.1:1'], {
      REDIS_URL: 'redis://127.0.0.1:6379',
      SIGNAL_MAX_PEERS_PER_ROOM: '4',
      SIGNAL_MAX_MESSAGE_BYTES: '4096',
    });
    assert.equal(r.server.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(r.server.maxPeersPerRoom, 4);
    assert.equal(r.server.maxMessageBytes, 4096);
    assert.equal(parseConfig(['--help'], {}), 'help');
  });

  it('errors name the variable or flag at fault', () => {
    const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [[], {}, /--bind HOST:PORT is required/],
      [['--bind', 'nope'], {}, /--bind: expected HOST:PORT/],
      [['--bind', '1.2.3.4:70000'], {}, /--bind/],
      [['--bind', ':1'], { SIGNAL_MAX_ROOMS: 'many' }, /--bind/],
      [['--bind', '127.0.0.1:1'], { SIGNAL_MAX_ROOMS: 'many' }, /^SIGNAL_MAX_ROOMS: .*"many"/],
      [['--bind', '127.0.0.1:1', '--max-rooms', '0'], {}, /^--max-rooms: /],
      [['--bind', '127.0.0.1:1'], { SIGNAL_ROOM_TIMEOUT: '-5' }, /^SIGNAL_ROOM_TIMEOUT: /],
      [['--bind', '127.0.0.1:1'], { SIGNAL_MAX_PEERS_PER_ROOM: '1' }, /^SIGNAL_MAX_PEERS_PER_ROOM: /],
      [['--bind', '127.0.0.1:1'], { LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
      [['--bind', '127.0.0.1:1'], { REDIS_URL: 'localhost:6379' }, /^REDIS_URL: must be a redis:\/\//],
      [['--bind', '127.0.0.1:1', '--tls-cert', '/x'], {}, /--tls-cert and --tls-key/],
      [
        ['--bind', '127.0.0.1:1', '--tls-cert', '/nonexistent', '--tls-key', '/x'],
        {},
        /--tls-cert: cannot read/,
      ],
      [['--bind', '127.0.0.1:1', '--turn-url', 'turn:x'], {}, /--turn-url needs --turn-secret-file/],
      [['--bind', '127.0.0.1:1', '--frobnicate'], {}, /unknown option/],
    ];
    for (const [argv, env, re] of bad) {
      assert.throws(
        () => parseConfig(argv, env),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `${argv.join(' ')}: ${String(err)}`);
          assert.match(err.message, re);
          return true;
        },
      );
    }
    assert.throws(() => parseBind('[::]:x', '--bind'), ConfigError);
  });

  it('reads TURN settings; the secret comes from the file, trimmed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-signal-cfg-'));
    try {
      const file = join(dir, 'secret');
      writeFileSync(file, 's3cret\n');
      const c = cfg([
        '--bind',
        '127.0.0.1:0',
        '--turn-url',
        'turn:a:3478',
        '--turn-url',
        'turns:b:5349',
        '--turn-secret-file',
        file,
        '--turn-ttl',
        '120',
      ]);
      assert.deepEqual(c.server.turn, {
        urls: ['turn:a:3478', 'turns:b:5349'],
        secret: 's3cret',
        ttlSec: 120,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
