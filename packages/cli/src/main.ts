import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeFor } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { registerCommands } from './commands/register-commands.js';
import { createOutput, type Output } from './output.js';

/**
 * Runs the `wormhole` command line. Returns the exit code instead of exiting, so tests can
 * call it in-process and the bin decides when the process ends.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command('wormhole');
  let output: Output | undefined;
  const interrupted = new Promise<NodeJS.Signals>((resolve) => {
    const on = (sig: NodeJS.Signals) => resolve(sig);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  const ctx: CommandContext = {
    env,
    out: () => {
      output ??= createOutput(Boolean(program.opts().json));
      return output;
    },
    interrupted,
  };
  program
    .description('Share a folder; mount it on another computer, peer to peer, end-to-end encrypted.')
    .option('--json', 'print one JSON object per line (for scripts)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  registerCommands(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT.OK;
      ctx.out().error(Object.assign(new Error(err.message.replace(/^error: /, '')), { code: 'CLI_USAGE' }));
      return EXIT.USAGE;
    }
    ctx.out().error(err);
    return exitCodeFor(err);
  }
}
