import type { Options, SingleBar } from 'cli-progress';
import type { Output } from './output.js';

/**
 * A progress bar on stderr when it is a terminal and the output is for people (not `--json`).
 * cli-progress is loaded only then: importing it cost ~8 ms of every command's start.
 */
export async function terminalBar(out: Output, options: Options): Promise<SingleBar | undefined> {
  if (out.json || !process.stderr.isTTY) return undefined;
  const { SingleBar } = await import('cli-progress');
  return new SingleBar({ stream: process.stderr, ...options });
}
