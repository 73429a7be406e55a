import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';

export function registerSignalCommand(program: Command, ctx: CommandContext): void {
  program
    .command('signal')
    .description('run a signal (rendezvous) server in the foreground; see apps/signal for the deployable one')
    .option('--bind <host:port>', 'address to listen on', '0.0.0.0:8080')
    .option('--tls-cert <file>', 'PEM certificate (serve wss://, TLS 1.3)')
    .option('--tls-key <file>', 'PEM private key')
    .action(async (flags: { bind: string; tlsCert?: string; tlsKey?: string }) => {
      const { createSignalServer } = await import('@wormhole/signal-server');
      const m = /^(.*):([0-9]{1,5})$/.exec(flags.bind);
      if (!m || Number(m[2]) > 65535) throw CliError.USAGE('--bind must be HOST:PORT');
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
        throw CliError.USAGE('--tls-cert and --tls-key go together');
      const server = await createSignalServer({
        host: m[1]!.replace(/^\[|\]$/g, ''),
        port: Number(m[2]),
        logger: ctx.out().json ? 'info' : 'warn',
        ...(flags.tlsCert !== undefined && {
          tls: { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey!) },
        }),
      });
      ctx
        .out()
        .event(
          'listening',
          { url: server.url, http: server.httpUrl },
          `signal server on ${server.url} (health: ${server.httpUrl}/health)`,
        );
      await ctx.interrupted;
      await server.drain();
      await server.close();
    });
}
