import type { RemoteFs } from '@wormhole/engine';
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { formatBytes } from '../config/byte-size.js';
import { defaultPaths } from '../config/config-paths.js';
import { loadConfig } from '../config/load-config.js';
import { terminalBar } from '../progress-bar.js';
import { transportConfig } from '../runtime-config.js';
import { listRunStates } from '../status-registry.js';

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** The cache as `wormhole mount` opens it (L2 and the whole-file copies), for the commands below. */
function cacheFiles(config: ReturnType<typeof loadConfig>) {
  return {
    l2Path: config.cache.l2Path,
    l2MaxBytes: config.cache.l2Size,
    ...(config.cache.copiesSize > 0 && {
      copiesDir: config.cache.copiesDir,
      copiesMaxBytes: config.cache.copiesSize,
    }),
  };
}

export function registerCacheCommands(program: Command, ctx: CommandContext): void {
  const cache = program.command('cache').description('inspect and manage the chunk cache');

  cache
    .command('stats')
    .description('entries, bytes, hit rates (per running mount), evictions')
    .action(async () => {
      const { openChunkCache } = await import('@wormhole/cache');
      const config = loadConfig({ env: ctx.env });
      const c = await openChunkCache({ ...cacheFiles(config), requireL2: false });
      try {
        const s = c.stats();
        const mounts = listRunStates(defaultPaths(ctx.env).stateDir).filter(
          (r) => r.kind === 'mount' && r.cache,
        );
        const lines = [
          `L2 ${config.cache.l2Path}: ${s.l2.available ? `${s.l2.entries} chunks, ${formatBytes(s.l2.bytes)} of ${formatBytes(config.cache.l2Size)}` : `unavailable (${s.l2.error ?? 'not configured'})`}`,
          `L1 limit per mount: ${formatBytes(config.cache.l1Size)}`,
          ...(s.copies === undefined
            ? []
            : [
                `whole-file copies ${s.copies.dir}: ${s.copies.files} file${s.copies.files === 1 ? '' : 's'}, ${formatBytes(s.copies.bytes)} of ${formatBytes(s.copies.maxBytes)}`,
              ]),
          ...mounts.map(
            (m) =>
              `mount ${m.path} (pid ${m.pid}): L1 ${m.cache!.l1.entries} chunks ${formatBytes(m.cache!.l1.bytes)} hit ${pct(m.cache!.l1.hitRate)}, ` +
              `L2 hit ${pct(m.cache!.l2.hitRate)}, evictions L1 ${m.cache!.l1.evictions} L2 ${m.cache!.l2.evictions}, ` +
              `L2 writes skipped (writer behind) ${m.cache!.l2.writesDropped ?? 0}, ` +
              `fetches ${m.cache!.fetches} (read-ahead ${m.cache!.readAheadFetches})`,
          ),
        ];
        ctx.out().event(
          'cache-stats',
          {
            l2: {
              path: config.cache.l2Path,
              available: s.l2.available,
              entries: s.l2.entries,
              bytes: s.l2.bytes,
              maxBytes: config.cache.l2Size,
            },
            ...(s.copies === undefined
              ? {}
              : {
                  copies: {
                    dir: s.copies.dir,
                    files: s.copies.files,
                    bytes: s.copies.bytes,
                    maxBytes: s.copies.maxBytes,
                  },
                }),
            mounts: mounts.map((m) => ({ path: m.path, pid: m.pid, ...m.cache })),
          },
          lines.join('\n'),
        );
      } finally {
        await c.close();
      }
    });

  cache
    .command('clear')
    .description('drop every cached chunk')
    .action(async () => {
      const { openChunkCache } = await import('@wormhole/cache');
      const config = loadConfig({ env: ctx.env });
      const c = await openChunkCache(cacheFiles(config));
      try {
        const before = c.stats();
        await c.clear();
        const copies = before.copies ?? { files: 0, bytes: 0 };
        ctx.out().event(
          'cache-cleared',
          {
            chunks: before.l2.entries,
            bytes: before.l2.bytes,
            copies: copies.files,
            copyBytes: copies.bytes,
          },
          `cleared ${before.l2.entries} chunks (${formatBytes(before.l2.bytes)}) and ${copies.files} whole-file copies (${formatBytes(copies.bytes)})`,
        );
      } finally {
        await c.close();
      }
    });

  cache
    .command('verify')
    .description('rehash every cached chunk; corrupt ones are reported and dropped')
    .action(async () => {
      const { openChunkCache } = await import('@wormhole/cache');
      const out = ctx.out();
      const config = loadConfig({ env: ctx.env });
      const c = await openChunkCache(cacheFiles(config));
      try {
        const bar = await terminalBar(out, { format: '{bar} {value}/{total} chunks' });
        let started = false;
        const report = await c.verify((p) => {
          if (!started) {
            bar?.start(p.total, 0);
            started = true;
          }
          bar?.update(p.checked);
        });
        bar?.stop();
        out.event(
          'cache-verified',
          { ...report },
          `checked ${report.checked} chunks: ${report.corrupt} corrupt (dropped)` +
            (report.copies === undefined
              ? ''
              : `; ${report.copies.checked} whole-file copies: ${report.copies.corrupt} corrupt (removed)`),
        );
      } finally {
        await c.close();
      }
    });

  cache
    .command('warm')
    .description('prefetch a remote file or folder into the cache, with a progress bar')
    .argument('<code>', 'join code of the share')
    .argument('<path>', 'file or folder inside the share')
    .option('--signal <url>', 'signal server')
    .option('--transports <list>', 'comma list of tls,webtransport,datachannel')
    .action(async (code: string, path: string, flags: { signal?: string; transports?: string }) => {
      const { createChunkReader, DEFAULT_CHUNK_SIZE, openChunkCache } = await import('@wormhole/cache');
      const { closeTransports, connectShare, createTransports } = await import('@wormhole/engine');
      const out = ctx.out();
      const config = loadConfig({ env: ctx.env });
      const transports = createTransports(transportConfig(config, flags.transports, ctx.env));
      const c = await openChunkCache({
        l1MaxBytes: 64 * 1024 * 1024,
        l2Path: config.cache.l2Path,
        l2MaxBytes: config.cache.l2Size,
      });
      const signalUrl = flags.signal ?? config.network.signalUrl;
      let fs: RemoteFs | undefined;
      try {
        fs = await connectShare({ code, transports, ...(signalUrl !== undefined && { signalUrl }) });
        const remote = fs;
        const reader = createChunkReader({
          cache: c,
          chunkSize: DEFAULT_CHUNK_SIZE,
          readAhead: false,
          fetchChunk: (file, version, index, signal) =>
            remote.read(file, index * DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, version, { signal }),
        });
        const files: Array<{ path: string; version: string; size: number }> = [];
        const walk = async (p: string) => {
          const st = await remote.stat(p);
          if (st.type === 'file') files.push({ path: p, version: st.version, size: st.size });
          else if (st.type === 'dir')
            for (const e of await remote.readdir(p)) await walk(p === '/' ? `/${e.name}` : `${p}/${e.name}`);
        };
        await walk(path.startsWith('/') ? path : `/${path}`);
        const total = files.reduce((n, f) => n + f.size, 0);
        const bar = await terminalBar(out, { format: '{bar} {percentage}% | {value}/{total} bytes' });
        bar?.start(total, 0);
        let base = 0;
        for (const f of files) {
          await reader.warm(f.path, f.version, f.size, (p) => {
            bar?.update(base + p.doneBytes);
            if (out.json) out.event('progress', { file: f.path, bytes: base + p.doneBytes, total });
          });
          base += f.size;
        }
        bar?.stop();
        reader.close();
        out.event(
          'cache-warmed',
          { files: files.length, bytes: total },
          `warmed ${files.length} file(s), ${formatBytes(total)}`,
        );
      } finally {
        await fs?.close();
        await c.close();
        await closeTransports(transports);
      }
    });
}
