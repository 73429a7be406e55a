import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { registerConfigCommands } from './config-command.js';
import { registerStatusCommand } from './status-command.js';

/** The full command table; each command lives in its own file. */
export function registerCommands(program: Command, ctx: CommandContext): void {
  registerStatusCommand(program, ctx);
  registerConfigCommands(program, ctx);
}
