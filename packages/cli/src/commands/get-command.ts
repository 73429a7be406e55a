import { once } from 'node:events';
import { createWriteStream, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RemoteFs } from '@wormhole/engine';
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { formatBytes } from '../config/byte-size.js';
import { loadConfig } from '../config/load-config.js';
import type { Output } from '../output.js';
import { terminalBar } from '../progress-bar.js';
import { transportConfig } from '../runtime-config.js';
import { type GetJob, planGet } from './get-plan.js';

interface GetFlags {
  signal?: string;
  transports?: string;
}

/** Bytes of a file being written that may wait in memory while the next chunks arrive. */
const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

/** Copies one file, its chunks streamed in order (RemoteFs keeps a window in flight), to a temp name renamed at the end. */
async function copyFile(fs: RemoteFs, job: GetJob, onBytes: (n: number) => void): Promise<void> {
  const tmp = `${job.local}.wormhole-part`;
  // A deep write buffer: with the default 16 KiB every 256 KiB chunk waited for its write before
  // the next was taken, so the read window refilled only between writes (scripts/bench/get.sh).
  const out = createWriteStream(tmp, { mode: job.stat.mode & 0o777, highWaterMark: WRITE_BUFFER_BYTES });
  try {
    for await (const chunk of fs.readChunks(job.remote, 0, job.stat.size, job.stat.version)) {
      if (!out.write(chunk)) await once(out, 'drain');
      onBytes(chunk.byteLength);
    }
    out.end();
    await once(out, 'finish');
    renameSync(tmp, job.local);
  } catch (err) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}

function progress(
  out: Output,
  total: number,
  bar: SingleBar | undefined,
): { add(n: number): void; stop(): void } {
  let done = 0;
  let lastJson = 0;
  const started = Date.now();
  bar?.start(total, 0, { done: '0 B', size: formatBytes(total), speed: '0 B' });
  return {
    add(n) {
      done += n;
      const speed = done / Math.max(0.001, (Date.now() - started) / 1000);
      bar?.update(done, { done: formatBytes(done), speed: formatBytes(speed) });
      if (out.json && Date.now() - lastJson > 500) {
        lastJson = Date.now();
        out.event('progress', { bytes: done, total, bytesPerSecond: Math.round(speed) });
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export function registerGetCommand(program: Command, ctx: CommandContext): void {
  program
    .command('get')
    .description('copy a file or folder out of a share, with a progress bar')
    .argument('<code>', 'join code')
    .argument('<remote>', 'path inside the share ("/" for everything)')
    .argument('<local>', 'where to put it')
    .option('--signal <url>', 'signal server (default: the one in the code, else [network] signal_url)')
    .option('--transports <list>', 'comma list of tls,webtransport,datachannel')
    .action(async (code: string, remotePath: string, localPath: string, flags: GetFlags) => {
      const { closeTransports, connectShare, createTransports } = await import('@wormhole/engine');
      const out = ctx.out();
      const config = loadConfig({ env: ctx.env });
      const transports = createTransports(transportConfig(config, flags.transports, ctx.env));
      const signalUrl = flags.signal ?? config.network.signalUrl;
      let transport = '';
      const started = Date.now();
      let fs: RemoteFs | undefined;
      try {
        fs = await connectShare({
          code,
          transports,
          ...(signalUrl !== undefined && { signalUrl }),
          onPath: (p) => {
            transport = `${p.transport} (${p.relayed ? 'relayed' : 'direct'})`;
          },
        });
        const remote = remotePath.startsWith('/') ? remotePath : `/${remotePath}`;
        const st = await fs.stat(remote);
        const jobs = await planGet(fs, remote, resolve(localPath), st);
        const total = jobs.reduce((n, j) => n + (j.stat.type === 'file' ? j.stat.size : 0), 0);
        out.event(
          'connected',
          { transport, files: jobs.length, bytes: total },
          `connected over ${transport}; ${jobs.length} item(s), ${formatBytes(total)}`,
        );
        const bar = progress(
          out,
          total,
          await terminalBar(out, {
            format: '{bar} {percentage}% | {done} / {size} | {speed}/s | ETA {eta_formatted}',
            hideCursor: true,
          }),
        );
        try {
          for (const job of jobs) {
            if (job.stat.type === 'dir') mkdirSync(job.local, { recursive: true });
            else if (job.stat.type === 'symlink') {
              mkdirSync(dirname(job.local), { recursive: true });
              rmSync(job.local, { force: true });
              symlinkSync(await fs.readlink(job.remote), job.local);
            } else if (job.stat.type === 'file') {
              mkdirSync(dirname(job.local), { recursive: true });
              await copyFile(fs, job, (n) => bar.add(n));
            }
          }
        } finally {
          bar.stop();
        }
        const seconds = (Date.now() - started) / 1000;
        out.event(
          'done',
          {
            files: jobs.length,
            bytes: total,
            seconds,
            bytesPerSecond: Math.round(total / Math.max(seconds, 0.001)),
          },
          `copied ${formatBytes(total)} in ${seconds.toFixed(1)} s (${formatBytes(total / Math.max(seconds, 0.001))}/s)`,
        );
      } finally {
        await fs?.close();
        await closeTransports(transports);
      }
    });
}
