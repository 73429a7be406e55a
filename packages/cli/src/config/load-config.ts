import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { CliError } from '../cli-error.js';
import { defaultPaths, expandHome } from './config-paths.js';
import { type ConfigFile, ConfigFileSchema, type WormholeConfig } from './config-schema.js';

export const DEFAULT_L1_SIZE = 256 * 1024 * 1024;
export const DEFAULT_L2_SIZE = 10 * 1024 ** 3;
/** Whole-file copies (FUSE passthrough) get their own bound beside L2's. */
export const DEFAULT_COPIES_SIZE = 10 * 1024 ** 3;

/** Reads and validates one TOML file; a missing file is `undefined`, anything else wrong throws. */
export function readConfigFile(file: string): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('CLI_CONFIG_UNREADABLE', `${file}: cannot read (${(err as Error).message})`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    const what = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CliError('CLI_CONFIG_PARSE', `${file}: not valid TOML${where}: ${what}`, { cause: err });
  }
  const res = ConfigFileSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const [section, ...rest] = issue.path.map(String);
    const key =
      section === undefined
        ? '(top level)'
        : rest.length > 0
          ? `[${section}] ${rest.join('.')}`
          : `[${section}]`;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message;
    throw new CliError('CLI_CONFIG_INVALID', `${file}: ${key}: ${message}`, {
      details: { file, key },
    });
  }
  return res.data;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/**
 * Effective config: defaults < user file < environment < system policy file. The policy file
 * (enterprise) wins for every key it sets, so users cannot override it with a flag or env var.
 * Env: WORMHOLE_CONFIG (user file path), WORMHOLE_POLICY (policy file path, for tests),
 * WORMHOLE_SIGNAL_URL.
 */
export function loadConfig(options: LoadConfigOptions = {}): WormholeConfig {
  const env = options.env ?? process.env;
  const paths = defaultPaths(env, options.platform);
  const userFile = env.WORMHOLE_CONFIG ? resolve(env.WORMHOLE_CONFIG) : paths.userConfig;
  const policyFile = env.WORMHOLE_POLICY ? resolve(env.WORMHOLE_POLICY) : paths.policyConfig;
  const user = readConfigFile(userFile);
  const policy = readConfigFile(policyFile);

  const sources: Record<string, string> = {};
  const pick = <T>(
    key: string,
    fromPolicy: T | undefined,
    fromEnv: T | undefined,
    fromUser: T | undefined,
    def: T,
  ): T => {
    if (fromPolicy !== undefined) {
      sources[key] = policyFile;
      return fromPolicy;
    }
    if (fromEnv !== undefined) {
      sources[key] = 'environment';
      return fromEnv;
    }
    if (fromUser !== undefined) {
      sources[key] = userFile;
      return fromUser;
    }
    sources[key] = 'default';
    return def;
  };

  let envSignal: string | undefined;
  if (env.WORMHOLE_SIGNAL_URL) {
    const res = ConfigFileSchema.shape.network.unwrap().shape.signal_url.safeParse(env.WORMHOLE_SIGNAL_URL);
    if (!res.success) {
      throw new CliError(
        'CLI_CONFIG_INVALID',
        `WORMHOLE_SIGNAL_URL: ${res.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    envSignal = res.data;
  }
  const allowed = pick(
    'security.allowed_paths',
    policy?.security?.allowed_paths,
    undefined,
    user?.security?.allowed_paths,
    undefined,
  );
  const l2Path = pick(
    'cache.l2_path',
    policy?.cache?.l2_path,
    env.WORMHOLE_CACHE_PATH,
    user?.cache?.l2_path,
    join(paths.cacheDir, 'chunks.db'),
  );
  const l2File = resolve(expandHome(l2Path, env));
  return {
    network: {
      signalUrl: pick(
        'network.signal_url',
        policy?.network?.signal_url,
        envSignal,
        user?.network?.signal_url,
        undefined,
      ),
      stun: pick('network.stun', policy?.network?.stun, undefined, user?.network?.stun, []),
      turn: pick('network.turn', policy?.network?.turn, undefined, user?.network?.turn, []),
      transports: pick(
        'network.transports',
        policy?.network?.transports,
        undefined,
        user?.network?.transports,
        ['tls', 'webtransport', 'datachannel'],
      ),
    },
    cache: {
      l1Size: pick('cache.l1_size', policy?.cache?.l1_size, undefined, user?.cache?.l1_size, DEFAULT_L1_SIZE),
      l2Path: l2File,
      l2Size: pick('cache.l2_size', policy?.cache?.l2_size, undefined, user?.cache?.l2_size, DEFAULT_L2_SIZE),
      // Beside the L2 file: one cache directory to clear, move or bound.
      copiesDir: join(dirname(l2File), 'copies'),
      copiesSize: pick(
        'cache.copies_size',
        policy?.cache?.copies_size,
        undefined,
        user?.cache?.copies_size,
        DEFAULT_COPIES_SIZE,
      ),
    },
    security: {
      allowedPaths: allowed?.map((p) => resolve(expandHome(p, env))),
      allowRw: pick(
        'security.allow_rw',
        policy?.security?.allow_rw,
        undefined,
        user?.security?.allow_rw,
        true,
      ),
    },
    mount: {
      fuse: pick('mount.fuse', policy?.mount?.fuse, undefined, user?.mount?.fuse, 'in-process'),
      binding: pick('mount.binding', policy?.mount?.binding, undefined, user?.mount?.binding, 'auto'),
    },
    update: {
      enabled: pick('update.enabled', policy?.update?.enabled, undefined, user?.update?.enabled, true),
    },
    sources,
    files: { user: userFile, policy: policyFile },
  };
}
