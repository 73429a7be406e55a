import { join } from 'node:path';
import type { RemoteFs } from '@wormhole/engine';
import type { Stat } from '@wormhole/protocol';
import { CliError } from '../cli-error.js';

/** One thing `wormhole get` creates: a folder, a file or a symlink. */
export interface GetJob {
  readonly remote: string;
  readonly local: string;
  readonly stat: Stat;
}

/**
 * What `get` will create for `remote` (stat `st`) at `local`, in an order that never writes
 * through something it created itself: folders and files first (parents before children), then
 * symlinks. Names come from the host, so they are checked where they cross into local paths:
 * the protocol already refuses names that are not one path component, and a name listed twice
 * in one folder is refused here (a symlink and a folder of the same name would otherwise let
 * the folder's files land wherever the symlink points).
 */
export async function planGet(
  fs: Pick<RemoteFs, 'readdir'>,
  remote: string,
  local: string,
  st: Stat,
): Promise<GetJob[]> {
  const jobs: GetJob[] = [];
  const links: GetJob[] = [];
  const walk = async (r: string, l: string, s: Stat): Promise<void> => {
    (s.type === 'symlink' ? links : jobs).push({ remote: r, local: l, stat: s });
    if (s.type !== 'dir') return;
    const seen = new Set<string>();
    for (const e of await fs.readdir(r)) {
      if (seen.has(e.name))
        throw CliError.BAD_LISTING(`the share listed ${JSON.stringify(e.name)} twice in ${r}`);
      seen.add(e.name);
      await walk(r === '/' ? `/${e.name}` : `${r}/${e.name}`, join(l, e.name), e.stat);
    }
  };
  await walk(remote, local, st);
  return [...jobs, ...links];
}
