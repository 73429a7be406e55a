import { watch as fsWatch } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Logger } from '../logger.js';

/** Most paths sent in one invalidate event; a bigger burst becomes `invalidate-all`. */
export const MAX_INVALIDATE_PATHS = 10_000;

export interface ShareWatcherHandlers {
  /** Every raw change, immediately (the fd cache drops fds here, before any coalescing). */
  onRaw(paths: readonly string[]): void;
  /** Coalesced batch; `null` means "too many, invalidate everything". */
  onBatch(paths: readonly string[] | null): void;
}

export interface ShareWatcher {
  /** Which backend is running: '@parcel/watcher' or 'fs.watch'. */
  readonly backend: string;
  close(): Promise<void>;
}

/**
 * Watches the share root. Paths are share-relative with '/' separators ('' is the root);
 * each changed path is reported together with its parent directory, whose listing changed.
 * Tries @parcel/watcher (inotify, recursive) and falls back to fs.watch({recursive}).
 */
export async function watchShare(
  realRoot: string,
  handlers: ShareWatcherHandlers,
  coalesceMs: number,
  logger: Logger,
): Promise<ShareWatcher> {
  let pending = new Set<string>();
  let overflow = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    timer = undefined;
    const batch = overflow ? null : [...pending];
    pending = new Set();
    overflow = false;
    if (!closed) handlers.onBatch(batch);
  };

  const onAbsolute = (absPaths: readonly string[]) => {
    if (closed) return;
    const rels: string[] = [];
    for (const abs of absPaths) {
      const rel = relative(realRoot, abs);
      if (rel.startsWith('..')) continue;
      const posix = sep === '/' ? rel : rel.split(sep).join('/');
      rels.push(posix);
      const slash = posix.lastIndexOf('/');
      rels.push(slash < 0 ? '' : posix.slice(0, slash));
    }
    if (rels.length === 0) return;
    handlers.onRaw(rels);
    for (const r of rels) pending.add(r);
    if (pending.size > MAX_INVALIDATE_PATHS) {
      overflow = true;
      pending.clear();
    }
    timer ??= setTimeout(flush, coalesceMs);
  };

  try {
    const parcel = await import('@parcel/watcher');
    const sub = await parcel.subscribe(realRoot, (err, events) => {
      if (err) {
        logger.warn?.('watcher error', { error: String(err) });
        // Lost events: tell everyone to drop everything.
        overflow = true;
        onAbsolute([realRoot]);
        return;
      }
      onAbsolute(events.map((e) => e.path));
    });
    return {
      backend: '@parcel/watcher',
      close: async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        await sub.unsubscribe();
      },
    };
  } catch (err) {
    logger.warn?.('@parcel/watcher failed; falling back to fs.watch', { error: String(err) });
  }

  const w = fsWatch(realRoot, { recursive: true }, (_event, filename) => {
    onAbsolute([filename ? `${realRoot}/${filename.toString()}` : realRoot]);
  });
  w.on('error', (err) => logger.warn?.('fs.watch error', { error: String(err) }));
  return {
    backend: 'fs.watch',
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      w.close();
    },
  };
}
