import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { formatBytes } from '../config/byte-size.js';
import { defaultPaths } from '../config/config-paths.js';
import { listRunStates } from '../status-registry.js';

export function registerStatusCommand(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description('active shares and mounts on this machine: peers, transport, candidate types, throughput')
    .action(() => {
      const out = ctx.out();
      const states = listRunStates(defaultPaths(ctx.env).stateDir);
      if (states.length === 0) out.info('no active shares or mounts');
      for (const s of states) {
        const lines = [
          `${s.kind} ${s.path}  (pid ${s.pid}${s.code ? `, code ${s.code}` : ''}${s.connected === false ? ', DISCONNECTED' : ''})`,
          ...s.peers.map(
            (p) =>
              `  peer ${p.id}: ${p.transport} ${p.localCandidate}/${p.remoteCandidate}${p.relayed ? ' (relayed)' : ' (direct)'}${p.protocol ? ` over ${p.protocol}` : ''}` +
              `${p.remoteAddress ? ` ${p.remoteAddress}` : ''}  sent ${formatBytes(p.bytesSent)}  received ${formatBytes(p.bytesReceived)}`,
          ),
          ...(s.throughput
            ? [
                `  throughput: ${formatBytes(s.throughput.receiveBps)}/s in, ${formatBytes(s.throughput.sendBps)}/s out`,
              ]
            : []),
        ];
        out.event('status', { ...s }, lines.join('\n'));
      }
    });
}
