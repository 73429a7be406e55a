import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { registerCacheCommands } from './cache-command.js';
import { registerConfigCommands } from './config-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerGetCommand } from './get-command.js';
import { registerMountCommand } from './mount-command.js';
import { registerShareCommand } from './share-command.js';
import { registerSignalCommand } from './signal-command.js';
import { registerStatusCommand } from './status-command.js';

/** The full command table; each command lives in its own file. */
export function registerCommands(program: Command, ctx: CommandContext): void {
  registerShareCommand(program, ctx);
  registerMountCommand(program, ctx);
  registerGetCommand(program, ctx);
  registerStatusCommand(program, ctx);
  registerCacheCommands(program, ctx);
  registerDoctorCommand(program, ctx);
  registerSignalCommand(program, ctx);
  registerConfigCommands(program, ctx);
}
