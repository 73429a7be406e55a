import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DirEntry, Stat } from '@wormhole/protocol';
import { CliError } from '../src/cli-error.js';
import { planGet } from '../src/commands/get-plan.js';

function stat(type: Stat['type']): Stat {
  return { type, size: 1, mode: 0o644, mtimeMs: 0, ctimeMs: 0, atimeMs: 0, nlink: 1, ino: 1, version: 'v' };
}

/** A share as `readdir` answers: folder path → entries. */
function share(listing: Record<string, DirEntry[]>) {
  return {
    readdir: async (path: string): Promise<DirEntry[]> => {
      const entries = listing[path];
      if (entries === undefined) throw new Error(`no listing for ${path}`);
      return entries;
    },
  };
}

describe('wormhole get: what it will create', () => {
  it('folders and files first, parents before children, symlinks last', async () => {
    const fs = share({
      '/': [
        { name: 'link', stat: stat('symlink') },
        { name: 'd', stat: stat('dir') },
        { name: 'f', stat: stat('file') },
      ],
      '/d': [
        { name: 'inner-link', stat: stat('symlink') },
        { name: 'g', stat: stat('file') },
      ],
    });
    const jobs = await planGet(fs, '/', '/dst', stat('dir'));
    assert.deepEqual(
      jobs.map((j) => [j.remote, j.local, j.stat.type]),
      [
        ['/', '/dst', 'dir'],
        ['/d', join('/dst', 'd'), 'dir'],
        ['/d/g', join('/dst', 'd', 'g'), 'file'],
        ['/f', join('/dst', 'f'), 'file'],
        ['/link', join('/dst', 'link'), 'symlink'],
        ['/d/inner-link', join('/dst', 'd', 'inner-link'), 'symlink'],
      ],
    );
  });

  it('refuses a name listed twice in one folder (a symlink and a folder of the same name)', async () => {
    const fs = share({
      '/': [
        { name: 'x', stat: stat('symlink') },
        { name: 'x', stat: stat('dir') },
      ],
      '/x': [{ name: 'passwd', stat: stat('file') }],
    });
    await assert.rejects(
      planGet(fs, '/', '/dst', stat('dir')),
      (e: unknown) =>
        e instanceof CliError && e.code === 'CLI_BAD_LISTING' && /"x" twice in \//.test(e.message),
    );
  });

  it('a single file or symlink is one job', async () => {
    const fs = share({});
    assert.deepEqual(await planGet(fs, '/a.txt', '/dst/a.txt', stat('file')), [
      { remote: '/a.txt', local: '/dst/a.txt', stat: stat('file') },
    ]);
  });
});
