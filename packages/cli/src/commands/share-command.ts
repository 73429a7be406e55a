import type { SignalServer } from '@wormhole/signal-server';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { assertShareAllowed } from '../config/allowed-paths.js';
import { defaultPaths } from '../config/config-paths.js';
import { loadConfig } from '../config/load-config.js';
import { lanAddress, shareStateFile, transportConfig } from '../runtime-config.js';
import { publishRunState, type RunState, removeRunState } from '../status-registry.js';

interface ShareFlags {
  rw?: boolean;
  signal?: string;
  words?: string;
  transports?: string;
  signalPort?: string;
}

export function registerShareCommand(program: Command, ctx: CommandContext): void {
  program
    .command('share')
    .description('share a folder; prints a join code and serves until interrupted')
    .argument('<path>', 'folder to share')
    .option('--rw', 'let peers write (read-only by default)')
    .option(
      '--signal <url>',
      'signal server (default: [network] signal_url, else an embedded one on this machine)',
    )
    .option('--words <n>', 'secret words in the join code (2-8)', '2')
    .option('--transports <list>', 'comma list of tls,webtransport,datachannel')
    .option('--signal-port <port>', 'port of the embedded signal server', '0')
    .action(async (path: string, flags: ShareFlags) => {
      const { closeTransports, createFileTicketStore, createTransports, startShare } = await import(
        '@wormhole/engine'
      );
      const { createSignalServer } = await import('@wormhole/signal-server');
      const out = ctx.out();
      const config = loadConfig({ env: ctx.env });
      const root = assertShareAllowed(path, config.security.allowedPaths);
      if (flags.rw) {
        throw new CliError(
          'CLI_USAGE',
          'read-write shares are not available in this version; share read-only (drop --rw)',
        );
      }
      const words = Number(flags.words);
      if (!Number.isInteger(words) || words < 2 || words > 8) throw CliError.USAGE('--words must be 2-8');
      let signalUrl = flags.signal ?? config.network.signalUrl;
      let embedded: SignalServer | undefined;
      if (signalUrl === undefined) {
        // Nobody configured a signal server: run one here so two people can try Wormhole with
        // nothing deployed; the code carries its address.
        const port = Number(flags.signalPort);
        embedded = await createSignalServer({ host: ctx.env.WORMHOLE_LISTEN_HOST ?? '0.0.0.0', port });
        signalUrl = `ws://${lanAddress(ctx.env)}:${embedded.port}`;
      }
      const store = createFileTicketStore(shareStateFile(ctx.env, root));
      const transports = createTransports(transportConfig(config, flags.transports, ctx.env));
      const stateDir = defaultPaths(ctx.env).stateDir;
      let share: Awaited<ReturnType<typeof startShare>> | undefined;
      try {
        const room = store.nameplate();
        share = await startShare({
          root,
          signalUrl,
          transports,
          codeWords: words,
          ticketStore: store,
          includeSignalUrl: embedded !== undefined,
          ...(room !== undefined && { room }),
        });
        const s = share;
        store.setNameplate(s.nameplate);
        const startedAt = Date.now();
        const publish = () => {
          const state: RunState = {
            pid: process.pid,
            kind: 'share',
            startedAt,
            updatedAt: Date.now(),
            path: root,
            code: s.code,
            signalUrl,
            readOnly: true,
            peers: s.peers().map((p) => ({
              id: p.id,
              transport: p.path.transport,
              localCandidate: p.path.localCandidateType,
              remoteCandidate: p.path.remoteCandidateType,
              relayed: p.path.relayed,
              protocol: p.path.protocol,
              ...(p.path.remoteAddress !== undefined && { remoteAddress: p.path.remoteAddress }),
              bytesSent: p.bytesSent,
              bytesReceived: 0,
            })),
          };
          publishRunState(stateDir, state);
        };
        const showCode = (code: string, reason: string) =>
          out.event(
            'code',
            {
              code,
              nameplate: s.nameplate,
              signalUrl,
              embeddedSignal: embedded !== undefined,
              reason,
              path: root,
            },
            reason === 'initial'
              ? `Sharing ${root} (read-only)\nJoin code: ${code}\nOn the other computer: wormhole mount ${code} ~/mnt/share`
              : `New join code (${reason}): ${code}`,
          );
        showCode(s.code, 'initial');
        s.on('code', (e) => {
          store.setNameplate(e.nameplate);
          if (e.reason !== 'initial') showCode(e.code, e.reason);
          publish();
        });
        s.on('peer-connected', (p) => {
          out.event(
            'peer-connected',
            {
              id: p.id,
              transport: p.path.transport,
              local: p.path.localCandidateType,
              remote: p.path.remoteCandidateType,
              relayed: p.path.relayed,
              protocol: p.path.protocol,
              resumed: p.resumed,
            },
            `peer ${p.id} connected over ${p.path.transport} (${p.path.relayed ? 'relayed' : 'direct'})`,
          );
          publish();
        });
        s.on('peer-disconnected', (p) => {
          out.event('peer-disconnected', { id: p.id }, `peer ${p.id} disconnected`);
          publish();
        });
        s.on('pake-failed', (e) =>
          out.event('pake-failed', { code: e.error.code }, 'someone tried a wrong code: that code is burned'),
        );
        s.on('signal-lost', (e) =>
          out.event(
            'signal-lost',
            { code: e.code, message: e.message },
            `signal server lost: ${e.message} (retrying)`,
          ),
        );
        publish();
        const timer = setInterval(publish, 2000);
        const sig = await ctx.interrupted;
        clearInterval(timer);
        out.event('stopping', { signal: sig }, 'stopping share');
      } finally {
        removeRunState(stateDir);
        await share?.close();
        await closeTransports(transports);
        await embedded?.close();
      }
    });
}
