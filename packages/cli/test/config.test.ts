import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError, loadConfig } from '@wormhole/cli';
import { assertShareAllowed } from '../src/config/allowed-paths.js';

const dir = mkdtempSync(join(tmpdir(), 'wormhole-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function envWith(
  user: string | undefined,
  policy?: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const u = join(dir, `user-${Math.random()}.toml`);
  const p = join(dir, `policy-${Math.random()}.toml`);
  if (user !== undefined) writeFileSync(u, user);
  if (policy !== undefined) writeFileSync(p, policy);
  return { HOME: dir, WORMHOLE_CONFIG: u, WORMHOLE_POLICY: p, ...extra };
}

function expectConfigError(env: NodeJS.ProcessEnv, code: string, pattern: RegExp): void {
  assert.throws(
    () => loadConfig({ env }),
    (err: unknown) => err instanceof CliError && err.code === code && pattern.test(err.message),
  );
}

describe('config', () => {
  it('uses defaults when no file exists', () => {
    const c = loadConfig({ env: envWith(undefined) });
    assert.equal(c.cache.l1Size, 256 * 1024 * 1024);
    assert.equal(c.network.signalUrl, undefined);
    assert.equal(c.sources['cache.l1_size'], 'default');
  });

  it('reads sizes with units, stun/turn lists and expands ~', () => {
    const c = loadConfig({
      env: envWith(
        `[network]\nsignal_url = "wss://signal.example.org"\nstun = ["stun:127.0.0.1:3478"]\nturn = ["turn:u:p@127.0.0.1:3478"]\n[cache]\nl1_size = "64MiB"\nl2_size = 1000000\nl2_path = "~/c.db"\n`,
      ),
    });
    assert.equal(c.network.signalUrl, 'wss://signal.example.org');
    assert.deepEqual(c.network.stun, ['stun:127.0.0.1:3478']);
    assert.equal(c.cache.l1Size, 64 * 1024 * 1024);
    assert.equal(c.cache.l2Size, 1_000_000);
    assert.equal(c.cache.l2Path, join(dir, 'c.db'));
    // Whole-file copies live beside the L2 file, with their own bound (default 10 GiB; 0 = none).
    assert.equal(c.cache.copiesDir, join(dir, 'copies'));
    assert.equal(c.cache.copiesSize, 10 * 1024 ** 3);
    const none = loadConfig({ env: envWith('[cache]\ncopies_size = 0\n') });
    assert.equal(none.cache.copiesSize, 0);
    expectConfigError(envWith('[cache]\ncopies_size = "lots"\n'), 'CLI_CONFIG_INVALID', /copies_size/);
  });

  it('names the file, line and problem for broken TOML', () => {
    expectConfigError(
      envWith('[cache\nl1_size = 1'),
      'CLI_CONFIG_PARSE',
      /user-.*\.toml: not valid TOML at line 1/,
    );
  });

  it('names the file, key and expectation for a bad value', () => {
    expectConfigError(
      envWith('[cache]\nl1_size = "lots"'),
      'CLI_CONFIG_INVALID',
      /\[cache\] l1_size: expected a size/,
    );
    expectConfigError(
      envWith('[network]\nsignal_url = "http://x"'),
      'CLI_CONFIG_INVALID',
      /\[network\] signal_url: expected a URL/,
    );
    expectConfigError(envWith('[network]\nturn = ["http://x"]'), 'CLI_CONFIG_INVALID', /\[network\] turn\.0/);
  });

  it('rejects unknown keys and sections instead of ignoring typos', () => {
    expectConfigError(
      envWith('[cache]\nl1_sise = 5'),
      'CLI_CONFIG_INVALID',
      /\[cache\]: unknown key\(s\) "l1_sise"/,
    );
    expectConfigError(envWith('[cahce]\nl1_size = 5'), 'CLI_CONFIG_INVALID', /unknown key\(s\) "cahce"/);
  });

  it('lets the policy file override the user file and the environment', () => {
    const env = envWith(
      '[network]\nsignal_url = "ws://user.example:1"\n[update]\nenabled = true',
      '[network]\nsignal_url = "wss://corp.example"\n[update]\nenabled = false\n[security]\nallowed_paths = ["/srv"]',
      { WORMHOLE_SIGNAL_URL: 'ws://env.example:2' },
    );
    const c = loadConfig({ env });
    assert.equal(c.network.signalUrl, 'wss://corp.example');
    assert.equal(c.update.enabled, false);
    assert.deepEqual(c.security.allowedPaths, ['/srv']);
    assert.match(c.sources['network.signal_url']!, /policy-/);
  });

  it('reads where FUSE runs ([mount] fuse), in-process by default, and refuses other values', () => {
    assert.equal(loadConfig({ env: envWith(undefined) }).mount.fuse, 'in-process');
    assert.equal(loadConfig({ env: envWith('[mount]\nfuse = "helper"') }).mount.fuse, 'helper');
    expectConfigError(
      envWith('[mount]\nfuse = "kernel"'),
      'CLI_CONFIG_INVALID',
      /\[mount\] fuse: Invalid option/,
    );
    assert.equal(loadConfig({ env: envWith(undefined) }).mount.binding, 'auto');
    assert.equal(
      loadConfig({ env: envWith('[mount]\nbinding = "fuse-native"') }).mount.binding,
      'fuse-native',
    );
    expectConfigError(
      envWith('[mount]\nbinding = "fuse4"'),
      'CLI_CONFIG_INVALID',
      /\[mount\] binding: Invalid option/,
    );
  });

  it('lets the environment override the user file', () => {
    const c = loadConfig({
      env: envWith('[network]\nsignal_url = "ws://user.example:1"', undefined, {
        WORMHOLE_SIGNAL_URL: 'ws://127.0.0.1:9',
      }),
    });
    assert.equal(c.network.signalUrl, 'ws://127.0.0.1:9');
    expectConfigError(
      envWith(undefined, undefined, { WORMHOLE_SIGNAL_URL: 'nope' }),
      'CLI_CONFIG_INVALID',
      /WORMHOLE_SIGNAL_URL/,
    );
  });

  it('refuses shares outside allowed_paths, including through symlinks', () => {
    const allowed = join(dir, 'allowed');
    const outside = join(dir, 'outside');
    mkdirSync(join(allowed, 'sub'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    symlinkSync(outside, join(allowed, 'sneaky'));
    assert.ok(assertShareAllowed(join(allowed, 'sub'), [allowed]).endsWith('sub'));
    for (const p of [outside, join(allowed, 'sneaky')]) {
      assert.throws(
        () => assertShareAllowed(p, [allowed]),
        (e: unknown) => e instanceof CliError && e.code === 'CLI_PATH_NOT_ALLOWED',
      );
    }
    assert.throws(
      () => assertShareAllowed(join(dir, 'missing'), undefined),
      (e: unknown) => e instanceof CliError && e.code === 'CLI_PATH_NOT_FOUND',
    );
  });
});
