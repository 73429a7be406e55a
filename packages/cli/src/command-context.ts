import type { Output } from './output.js';

/** What every command gets: the environment and the output channel chosen by the global flags. */
export interface CommandContext {
  readonly env: NodeJS.ProcessEnv;
  /** Output for the current invocation (respects --json). */
  out(): Output;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); commands that stay up await it. */
  readonly interrupted: Promise<NodeJS.Signals>;
}
