import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the user's config, cache and runtime state live on this platform. */
export interface ConfigPaths {
  userConfig: string;
  policyConfig: string;
  cacheDir: string;
  stateDir: string;
}

export function defaultPaths(env: NodeJS.ProcessEnv = process.env, platform = process.platform): ConfigPaths {
  const home = env.HOME ?? homedir();
  if (platform === 'win32') {
    const appData = env.APPDATA ?? join(home, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
    const programData = env.ProgramData ?? 'C:\\ProgramData';
    return {
      userConfig: join(appData, 'Wormhole', 'config.toml'),
      policyConfig: join(programData, 'Wormhole', 'config.toml'),
      cacheDir: join(local, 'Wormhole', 'Cache'),
      stateDir: join(local, 'Wormhole', 'State'),
    };
  }
  if (platform === 'darwin') {
    return {
      userConfig: join(home, 'Library', 'Application Support', 'Wormhole', 'config.toml'),
      policyConfig: '/Library/Application Support/Wormhole/config.toml',
      cacheDir: join(home, 'Library', 'Caches', 'Wormhole'),
      stateDir: join(home, 'Library', 'Application Support', 'Wormhole', 'state'),
    };
  }
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  const cacheHome = env.XDG_CACHE_HOME || join(home, '.cache');
  const stateHome = env.XDG_STATE_HOME || join(home, '.local', 'state');
  return {
    userConfig: join(configHome, 'wormhole', 'config.toml'),
    policyConfig: '/etc/wormhole/config.toml',
    cacheDir: join(cacheHome, 'wormhole'),
    stateDir: join(stateHome, 'wormhole'),
  };
}

/** Expands a leading `~/` the way a shell would, so config paths can be written portably. */
export function expandHome(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (p === '~') return env.HOME ?? homedir();
  if (p.startsWith('~/')) return join(env.HOME ?? homedir(), p.slice(2));
  return p;
}
