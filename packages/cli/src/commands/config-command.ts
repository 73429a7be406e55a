import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { loadConfig } from '../config/load-config.js';

export function registerConfigCommands(program: Command, ctx: CommandContext): void {
  const config = program
    .command('config')
    .description('show where the configuration lives and what is in effect');
  config
    .command('path')
    .description('print the user and policy config file paths')
    .action(() => {
      const c = loadConfig({ env: ctx.env });
      ctx
        .out()
        .event(
          'config-path',
          { user: c.files.user, policy: c.files.policy },
          `user:   ${c.files.user}\npolicy: ${c.files.policy}`,
        );
    });
  config
    .command('show')
    .description('print the effective configuration and which file set each key')
    .action(() => {
      const c = loadConfig({ env: ctx.env });
      const { sources, files, ...values } = c;
      const lines = [
        `# user file:   ${files.user}`,
        `# policy file: ${files.policy}`,
        ...Object.entries(sources).map(([key, src]) => {
          const [section, name] = key.split('.') as [keyof typeof values, string];
          const camel = name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
          const value = (values[section] as Record<string, unknown>)[camel];
          return `${key} = ${JSON.stringify(value ?? null)}   # ${src}`;
        }),
      ];
      ctx.out().event('config', { config: values, sources, files }, lines.join('\n'));
    });
}
