import type { AttrCache } from './attr-cache.js';
import { ERRNO, errnoFromError } from './errno.js';
import type { Attr, FileSystem } from './file-system.js';
import { toNativeStat } from './fuse-ops.js';
import { ATTR_FIELDS, type Fuse3Addon, type Fuse3Handle, type Fuse3OpHandler, Op } from './fuse3-addon.js';
import type { ResolvedMountOptions } from './options.js';

/** Writes `a` (owner-mapped, blocks defaulted) into `out` at record `index`. */
function packAttr(a: Attr, o: ResolvedMountOptions, out: Float64Array, index = 0): Float64Array {
  const s = toNativeStat(a, o);
  const i = index * ATTR_FIELDS;
  out[i] = s.mode;
  out[i + 1] = s.size;
  out[i + 2] = a.mtimeMs;
  out[i + 3] = a.atimeMs;
  out[i + 4] = a.ctimeMs;
  out[i + 5] = s.nlink;
  out[i + 6] = s.uid;
  out[i + 7] = s.gid;
  out[i + 8] = s.blocks;
  return out;
}

/** `parts` cut to at most `max` bytes in total (a FileSystem must not answer more than asked). */
function clip(parts: Uint8Array[], max: number): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  // The usual case, on every read: nothing to cut, no new array.
  if (total <= max) return parts;
  let left = max;
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (left <= 0) break;
    out.push(p.byteLength > left ? p.subarray(0, left) : p);
    left -= Math.min(p.byteLength, left);
  }
  return out;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * The handler the libfuse3 binding calls for each request, over a FileSystem. Every request
 * ends in exactly one reply: results, a FileSystem error's errno, or EIO for anything else
 * (including a throw of our own).
 */
export function createFuse3Handler(
  fs: FileSystem,
  cache: AttrCache,
  o: ResolvedMountOptions,
  addon: Fuse3Addon,
  handle: () => Fuse3Handle,
): Fuse3OpHandler {
  const attrT = o.attrTimeoutS;
  const entryT = o.entryTimeoutS;
  const keepCache = o.kernelCache !== 'none';
  const fail = (id: number) => (err: unknown) => {
    addon.replyErr(handle(), id, -errnoFromError(err));
  };
  const attrOf = async (path: string): Promise<Attr> => {
    const hit = cache.get(path);
    if (hit !== undefined) return hit;
    const attr = await fs.getattr(path);
    cache.set(path, attr);
    return attr;
  };
  const fresh = async (path: string): Promise<Attr> => {
    cache.invalidate(path);
    return attrOf(path);
  };
  const mutating = <K extends keyof FileSystem>(name: K): NonNullable<FileSystem[K]> => {
    const f = fs[name];
    if (o.readOnly || typeof f !== 'function')
      throw Object.assign(new Error(`${name}: read-only`), { code: 'EROFS' });
    return (f as (...args: unknown[]) => unknown).bind(fs) as NonNullable<FileSystem[K]>;
  };

  async function setattr(
    path: string,
    mask: number,
    size: number,
    mode: number,
    atime: number,
    mtime: number,
  ) {
    if (mask !== 0) {
      if (size >= 0) await mutating('truncate')(path, size);
      if (mode >= 0) await mutating('chmod')(path, mode & 0o7777);
      if (atime !== -2 || mtime !== -2) {
        const cur = await fresh(path);
        const now = Date.now();
        const at = atime === -1 ? now : atime === -2 ? cur.atimeMs : atime;
        const mt = mtime === -1 ? now : mtime === -2 ? cur.mtimeMs : mtime;
        await mutating('utimens')(path, at, mt);
      }
    }
    return fresh(path);
  }

  function dispatch(
    ...[op, id, path, a, b, c, d, e, path2, data]: Parameters<Fuse3OpHandler>
  ): Promise<unknown> {
    const h = handle();
    switch (op) {
      case Op.lookup:
        return attrOf(path).then((attr) =>
          addon.replyEntry(h, id, packAttr(attr, o, new Float64Array(ATTR_FIELDS)), attrT, entryT),
        );
      case Op.getattr:
        return attrOf(path).then((attr) =>
          addon.replyAttr(h, id, packAttr(attr, o, new Float64Array(ATTR_FIELDS)), attrT),
        );
      case Op.readlink:
        return fs.readlink(path).then((target) => addon.replyReadlink(h, id, target));
      case Op.open:
        return fs
          .open(path, a)
          .then((fh) =>
            addon.replyOpen(h, id, fh, keepCache, o.passthrough ? fs.passthroughPath?.(fh) : undefined),
          );
      case Op.read:
        if (fs.readv !== undefined)
          return fs.readv(path, a, b, c).then((parts) => addon.replyDataV(h, id, clip(parts, c)));
        return fs
          .read(path, a, b, c)
          .then((bytes) => addon.replyData(h, id, bytes.byteLength > c ? bytes.subarray(0, c) : bytes));
      case Op.release:
        return fs.release(path, a).then(() => addon.replyErr(h, id, 0));
      case Op.opendir:
        return fs.readdir(path).then((entries) => {
          const names: string[] = new Array(entries.length);
          const attrs = new Float64Array(entries.length * ATTR_FIELDS);
          cache.setListing(path, entries);
          for (let i = 0; i < entries.length; i++) {
            const entry = entries[i]!;
            names[i] = entry.name;
            if (entry.attr !== undefined) packAttr(entry.attr, o, attrs, i);
          }
          return addon.replyDir(h, id, names, attrs, attrT, entryT);
        });
      case Op.statfs:
        return fs
          .statfs()
          .then((s) =>
            addon.replyStatfs(
              h,
              id,
              Float64Array.of(s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.namemax),
            ),
          );
      case Op.write: {
        const write = mutating('write');
        return write(path, a, data ?? new Uint8Array(0), b).then((n) => {
          cache.invalidate(path);
          return addon.replyWrite(h, id, n);
        });
      }
      case Op.create:
        return mutating('create')(path, a).then(async (fh) => {
          cache.invalidate(parentOf(path));
          const attr = await fresh(path);
          return addon.replyCreate(
            h,
            id,
            packAttr(attr, o, new Float64Array(ATTR_FIELDS)),
            attrT,
            entryT,
            fh,
            false,
          );
        });
      case Op.setattr:
        return setattr(path, a, b, c, d, e).then((attr) =>
          addon.replyAttr(h, id, packAttr(attr, o, new Float64Array(ATTR_FIELDS)), attrT),
        );
      case Op.unlink:
      case Op.rmdir:
        return mutating(op === Op.unlink ? 'unlink' : 'rmdir')(path).then(() => {
          cache.invalidate(path);
          cache.invalidate(parentOf(path));
          return addon.replyErr(h, id, 0);
        });
      case Op.mkdir:
        return mutating('mkdir')(path, a).then(async () => {
          cache.invalidate(parentOf(path));
          const attr = await fresh(path);
          return addon.replyEntry(h, id, packAttr(attr, o, new Float64Array(ATTR_FIELDS)), attrT, entryT);
        });
      case Op.rename: {
        const to = path2 ?? '';
        return mutating('rename')(path, to).then(() => {
          for (const p of [path, to, parentOf(path), parentOf(to)]) cache.invalidate(p);
          return addon.replyErr(h, id, 0);
        });
      }
      case Op.flush:
        return (fs.flush?.(path, a) ?? Promise.resolve()).then(() => addon.replyErr(h, id, 0));
      case Op.fsync:
        return (fs.fsync?.(path, a, b !== 0) ?? Promise.resolve()).then(() => addon.replyErr(h, id, 0));
      default:
        addon.replyErr(h, id, ERRNO.ENOSYS);
        return Promise.resolve();
    }
  }

  return (...args) => {
    try {
      dispatch(...args).catch(fail(args[1]));
    } catch (err) {
      fail(args[1])(err);
    }
  };
}
