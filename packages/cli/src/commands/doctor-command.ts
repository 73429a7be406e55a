import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { formatBytes } from '../config/byte-size.js';
import type { WormholeConfig } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** A warning does not fail the doctor run. */
  warning?: boolean;
}

async function runChecks(ctx: CommandContext, fix: boolean): Promise<Check[]> {
  const checks: Check[] = [];
  let config: WormholeConfig | undefined;
  try {
    config = loadConfig({ env: ctx.env });
    checks.push({
      name: 'config',
      ok: true,
      detail: `valid (${config.files.user}; policy ${config.files.policy})`,
    });
  } catch (err) {
    checks.push({
      name: 'config',
      ok: false,
      detail: (err as Error).message,
      fix: 'edit the file named above',
    });
  }

  const fuse = await import('@wormhole/fuse');
  let report = fuse.checkFuse();
  if (fix && !report.available && process.platform === 'linux' && process.getuid?.() === 0) {
    const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' });
    if (apt.status === 0) {
      spawnSync('apt-get', ['install', '-y', 'libfuse2', 'fuse3'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      report = fuse.checkFuse();
    }
  }
  for (const c of report.checks)
    checks.push({
      name: `fuse: ${c.name}`,
      ok: c.ok,
      detail: c.detail,
      ...(c.fix !== undefined && { fix: c.fix }),
    });

  if (report.available) {
    const pt = fuse.checkPassthrough();
    checks.push({
      name: 'fuse: passthrough',
      ok: pt.ok,
      detail: pt.detail,
      ...(pt.fix !== undefined && { fix: pt.fix }),
      warning: true,
    });
  }

  const { isSqliteAvailable } = await import('@wormhole/cache');
  const sqlite = isSqliteAvailable();
  checks.push({
    name: 'cache: sqlite',
    ok: sqlite,
    detail: sqlite
      ? 'better-sqlite3 loads'
      : 'better-sqlite3 does not load: the disk cache (L2) is off, memory cache only',
    ...(!sqlite && {
      fix: 'reinstall with build tools present (python3 make g++), e.g. `bash scripts/install-deps.sh`',
    }),
    warning: true,
  });

  const { hostNativeHelperLoaded } = await import('@wormhole/engine');
  const helper = hostNativeHelperLoaded();
  const linux = process.platform === 'linux';
  checks.push({
    name: 'share: host helper',
    ok: helper || !linux,
    detail: helper
      ? 'loaded (a listing lstat and a file open + first read each take one thread-pool job)'
      : linux
        ? 'not built: shares list and open files through node:fs (slower with many small files)'
        : `not used on ${process.platform}`,
    ...(!helper &&
      linux && {
        fix: 'rebuild with a C compiler present: `pnpm run build` (or `bash scripts/install-deps.sh`)',
      }),
    warning: true,
  });

  if (config) {
    let dir = dirname(config.cache.l2Path);
    try {
      if (fix) mkdirSync(dir, { recursive: true, mode: 0o700 });
      // A cache folder that does not exist yet is created on first use: check the nearest
      // existing ancestor is writable instead.
      while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
      const probe = join(dir, `.doctor-${process.pid}`);
      writeFileSync(probe, 'ok');
      rmSync(probe);
      checks.push({
        name: 'cache: directory',
        ok: true,
        detail: `${dir} is writable${dir !== dirname(config.cache.l2Path) ? ` (${dirname(config.cache.l2Path)} will be created)` : ''}`,
      });
      const s = statfsSync(dir);
      const free = s.bavail * s.bsize;
      checks.push({
        name: 'cache: disk space',
        ok: free >= Math.min(config.cache.l2Size, 1024 ** 3),
        detail: `${formatBytes(free)} free for a ${formatBytes(config.cache.l2Size)} cache${config.cache.copiesSize > 0 ? ` and ${formatBytes(config.cache.copiesSize)} of whole-file copies` : ''}`,
        fix: 'free disk space or lower [cache] l2_size and copies_size',
        warning: true,
      });
    } catch (err) {
      checks.push({
        name: 'cache: directory',
        ok: false,
        detail: `${dir}: ${(err as Error).message}`,
        fix: fix ? 'check the permissions of the folder above' : 'run `wormhole doctor --fix` to create it',
      });
    }

    const { createTransports, closeTransports } = await import('@wormhole/engine');
    const all = ['tls', 'webtransport', 'datachannel'] as const;
    const available = createTransports({ kinds: [...all] });
    const kinds = new Set(available.map((t) => t.kind));
    await closeTransports(available);
    for (const k of all) {
      checks.push({
        name: `transport: ${k}`,
        ok: kinds.has(k),
        detail: kinds.has(k) ? 'available' : 'its native part is missing on this machine',
        warning: true,
      });
    }

    const url = config.network.signalUrl;
    if (url === undefined) {
      checks.push({
        name: 'signal server',
        ok: true,
        detail: 'none configured: `wormhole share` runs an embedded one for LAN use',
      });
    } else {
      const { SignalClient } = await import('@wormhole/transport');
      const started = Date.now();
      try {
        const client = await SignalClient.connect(url, { timeoutMs: 5000 });
        client.close();
        checks.push({
          name: 'signal server',
          ok: true,
          detail: `${url} answered in ${Date.now() - started} ms`,
        });
      } catch (err) {
        checks.push({
          name: 'signal server',
          ok: false,
          detail: `${url}: ${(err as Error).message}`,
          fix: 'check [network] signal_url and your network',
        });
      }
    }
  }
  return checks;
}

export function registerDoctorCommand(program: Command, ctx: CommandContext): void {
  program
    .command('doctor')
    .description('check FUSE, config, cache, transports and the signal server; say exactly what to fix')
    .option('--fix', 'create missing folders and, as root on Debian/Ubuntu, install missing FUSE packages')
    .action(async (flags: { fix?: boolean }) => {
      const out = ctx.out();
      const checks = await runChecks(ctx, Boolean(flags.fix));
      for (const c of checks) {
        const mark = c.ok ? 'ok  ' : c.warning ? 'warn' : 'FAIL';
        out.event(
          'check',
          { ...c },
          `[${mark}] ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`,
        );
      }
      const failed = checks.filter((c) => !c.ok && !c.warning);
      out.event(
        'doctor',
        { ok: failed.length === 0, failed: failed.map((c) => c.name) },
        failed.length === 0 ? 'all good' : `${failed.length} problem(s)`,
      );
      if (failed.length > 0)
        throw new CliError('CLI_CHECKS_FAILED', `doctor found ${failed.length} problem(s)`);
    });
}
