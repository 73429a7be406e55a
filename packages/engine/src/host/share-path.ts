import { MAX_NAME_BYTES, MAX_PATH_BYTES } from '@wormhole/protocol';
import { RemoteFsError } from '../remote-fs-error.js';

// Lone UTF-16 surrogates cannot be encoded as UTF-8: Node would silently turn them into U+FFFD,
// so two different wire strings could name one file. Refuse them instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Parses a path a peer sent into components below the share root, purely lexically.
 * Accepts 'a/b', '' and '/' (the root). Rejects, with a typed RemoteFsError:
 * NUL bytes, backslashes and unencodable strings (EINVAL), absolute paths other than '/'
 * and `..` that climbs above the root (EACCES), names over 255 bytes or paths over 4096 bytes
 * (ENAMETOOLONG). `.` and empty segments are dropped; `..` inside the root is folded.
 * Lexical folding is safe because the walker never follows a symlink to get here: the result
 * is only ever walked component by component from the root's directory fd.
 */
export function parseSharePath(path: unknown): string[] {
  if (typeof path !== 'string') throw RemoteFsError.EINVAL('path must be a string');
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES)
    throw RemoteFsError.ENAMETOOLONG(`path longer than ${MAX_PATH_BYTES} bytes`);
  if (path.includes('\0')) throw RemoteFsError.EINVAL('path contains a NUL byte');
  if (path.includes('\\')) throw RemoteFsError.EINVAL('path contains a backslash');
  if (LONE_SURROGATE.test(path)) throw RemoteFsError.EINVAL('path is not valid UTF-8');
  if (path === '/' || path === '') return [];
  if (path.startsWith('/')) throw RemoteFsError.EACCES('absolute paths are not accepted');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw RemoteFsError.EACCES('path escapes the share root');
      out.pop();
      continue;
    }
    if (Buffer.byteLength(seg, 'utf8') > MAX_NAME_BYTES)
      throw RemoteFsError.ENAMETOOLONG(`name longer than ${MAX_NAME_BYTES} bytes`);
    out.push(seg);
  }
  return out;
}
