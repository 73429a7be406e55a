import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface TestTree {
  readonly root: string;
  /** sha256 hex per relative path of every regular file written. */
  readonly hashes: Map<string, string>;
  readonly bigFile: string;
  readonly bigSize: number;
}

/**
 * Builds the tree the end-to-end tests read: one big random file, an empty file, unicode and
 * space names, a directory of `manyFiles` small files, nesting, and a symlink inside the share.
 */
export function makeTestTree(root: string, opts: { bigMiB: number; manyFiles: number }): TestTree {
  const hashes = new Map<string, string>();
  mkdirSync(root, { recursive: true });
  const put = (rel: string, data: Uint8Array) => {
    writeFileSync(join(root, rel), data);
    hashes.set(rel, createHash('sha256').update(data).digest('hex'));
  };
  const bigSize = opts.bigMiB * 1024 * 1024;
  const fd = openSync(join(root, 'big.bin'), 'w');
  const h = createHash('sha256');
  const block = 4 * 1024 * 1024;
  for (let off = 0; off < bigSize; off += block) {
    const b = randomBytes(Math.min(block, bigSize - off));
    h.update(b);
    writeSync(fd, b);
  }
  closeSync(fd);
  hashes.set('big.bin', h.digest('hex'));
  put('empty.txt', new Uint8Array(0));
  put('naïve café 日本語.txt', Buffer.from('unicode ✓\n'));
  put('with space.txt', Buffer.from('spaces\n'));
  mkdirSync(join(root, 'a/b/c'), { recursive: true });
  put('a/b/c/deep.txt', randomBytes(200_000));
  mkdirSync(join(root, 'many'));
  for (let i = 0; i < opts.manyFiles; i++)
    put(`many/f${String(i).padStart(5, '0')}`, Buffer.from(`file ${i}\n`));
  symlinkSync('a/b/c/deep.txt', join(root, 'link-to-deep'));
  return { root, hashes, bigFile: 'big.bin', bigSize };
}
