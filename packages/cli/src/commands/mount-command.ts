import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PathInfo } from '@wormhole/transport';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { defaultPaths } from '../config/config-paths.js';
import { loadConfig } from '../config/load-config.js';
import { transportConfig } from '../runtime-config.js';
import { publishRunState, removeRunState } from '../status-registry.js';

interface MountFlags {
  signal?: string;
  transports?: string;
  fuse?: string;
}

export function registerMountCommand(program: Command, ctx: CommandContext): void {
  program
    .command('mount')
    .description('mount a shared folder by its join code; stays in the foreground (Ctrl-C unmounts)')
    .argument('<code>', 'join code, e.g. 7-guitar-harbor')
    .argument('<mountpoint>', 'empty folder to mount on (created if missing)')
    .option('--signal <url>', 'signal server (default: the one in the code, else [network] signal_url)')
    .option('--transports <list>', 'comma list of tls,webtransport,datachannel')
    .option('--fuse <mode>', 'where FUSE runs: in-process or helper (default: [mount] fuse, else in-process)')
    .action(async (code: string, mountpoint: string, flags: MountFlags) => {
      const { closeTransports, createTransports, mountShare } = await import('@wormhole/engine');
      const { isAvailable: fuseAvailable } = await import('@wormhole/fuse');
      const out = ctx.out();
      const config = loadConfig({ env: ctx.env });
      if (flags.fuse !== undefined && flags.fuse !== 'in-process' && flags.fuse !== 'helper') {
        throw new CliError(
          'CLI_USAGE',
          `--fuse must be in-process or helper, not ${JSON.stringify(flags.fuse)}`,
        );
      }
      const fuseMode = flags.fuse ?? config.mount.fuse;
      if (!fuseAvailable()) {
        throw new CliError(
          'CLI_FUSE_UNAVAILABLE',
          'FUSE is not usable on this machine: run `wormhole doctor` to see what is missing',
        );
      }
      mkdirSync(dirname(config.cache.l2Path), { recursive: true, mode: 0o700 });
      const transports = createTransports(transportConfig(config, flags.transports, ctx.env));
      const stateDir = defaultPaths(ctx.env).stateDir;
      let path: PathInfo | undefined;
      let connected = true;
      const signalUrl = flags.signal ?? config.network.signalUrl;
      try {
        const mounted = await mountShare({
          code,
          mountpoint,
          transports,
          ...(signalUrl !== undefined && { signalUrl }),
          cache: {
            l1MaxBytes: config.cache.l1Size,
            l2Path: config.cache.l2Path,
            l2MaxBytes: config.cache.l2Size,
            ...(config.cache.copiesSize > 0 && {
              copiesDir: config.cache.copiesDir,
              copiesMaxBytes: config.cache.copiesSize,
            }),
          },
          mount: { inProcess: fuseMode === 'in-process', binding: config.mount.binding },
          onPath: (p) => {
            path = p;
          },
        });
        const startedAt = Date.now();
        const publish = () =>
          publishRunState(stateDir, {
            pid: process.pid,
            kind: 'mount',
            startedAt,
            updatedAt: Date.now(),
            path: mounted.mount.mountpoint,
            connected,
            cache: (() => {
              const c = mounted.cache.stats();
              const r = mounted.reader.stats();
              const tier = (t: typeof c.l1) => ({
                entries: t.entries,
                bytes: t.bytes,
                hitRate: t.hitRate,
                evictions: t.evictions,
              });
              return {
                l1: tier(c.l1),
                l2: { ...tier(c.l2), writesDropped: c.l2.writesDropped },
                readAheadFetches: r.readAheadFetches,
                fetches: r.fetches,
                ...(c.copies === undefined
                  ? {}
                  : { copies: { files: c.copies.files, bytes: c.copies.bytes, ...mounted.copyStats() } }),
              };
            })(),
            peers: path
              ? [
                  {
                    id: 'host',
                    transport: path.transport,
                    localCandidate: path.localCandidateType,
                    remoteCandidate: path.remoteCandidateType,
                    relayed: path.relayed,
                    protocol: path.protocol,
                    ...(path.remoteAddress !== undefined && { remoteAddress: path.remoteAddress }),
                    bytesSent: 0,
                    bytesReceived: mounted.reader.stats().fetches * mounted.reader.chunkSize,
                  },
                ]
              : [],
          });
        mounted.remote.on('connection', (e) => {
          connected = e.state !== 'disconnected';
          if (e.pathInfo) path = e.pathInfo;
          out.event(
            'connection',
            { state: e.state, reason: e.reason },
            `host ${e.state}${e.reason ? `: ${e.reason}` : ''}`,
          );
          publish();
        });
        out.event(
          'mounted',
          { mountpoint: mounted.mount.mountpoint, transport: path?.transport, relayed: path?.relayed },
          `Mounted at ${mounted.mount.mountpoint} over ${path?.transport ?? '?'} (${path?.relayed ? 'relayed' : 'direct'}). Ctrl-C to unmount.`,
        );
        publish();
        const timer = setInterval(publish, 2000);
        const unmountedOutside = new Promise<'unmounted'>((resolve) =>
          mounted.mount.once('unmounted', () => resolve('unmounted')),
        );
        const why = await Promise.race([ctx.interrupted, unmountedOutside]);
        clearInterval(timer);
        await mounted.close();
        out.event(
          'unmounted',
          { mountpoint: mounted.mount.mountpoint, reason: why },
          `Unmounted ${mounted.mount.mountpoint}`,
        );
      } finally {
        removeRunState(stateDir);
        await closeTransports(transports);
      }
    });

  program
    .command('unmount')
    .alias('umount')
    .description('unmount a Wormhole mount (also clears a stale one left by a killed process)')
    .argument('<mountpoint>')
    .action(async (mountpoint: string) => {
      const { findFuseMount, unmount } = await import('@wormhole/fuse');
      if (!findFuseMount(mountpoint)) {
        throw new CliError('CLI_NOT_MOUNTED', `${mountpoint} is not a mounted Wormhole (FUSE) file system`);
      }
      await unmount(mountpoint);
      ctx.out().event('unmounted', { mountpoint }, `Unmounted ${mountpoint}`);
    });
}
