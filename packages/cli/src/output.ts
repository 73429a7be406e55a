/**
 * Everything a command prints goes through here: human lines on stdout (progress on stderr),
 * or with --json exactly one JSON object per line on stdout, so scripts can parse the stream.
 */
export interface Output {
  readonly json: boolean;
  /** A result or state change. Human mode prints `text`; JSON mode prints `{ event, ...data }`. */
  event(event: string, data: Record<string, unknown>, text?: string): void;
  /** Human-only chatter (hints); nothing in JSON mode. */
  info(text: string): void;
  /** An error, as `{ event: 'error', code, message }` in JSON mode. */
  error(err: unknown): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    event(event, data, text) {
      if (json) stdout.write(`${JSON.stringify({ event, ...data })}\n`);
      else if (text !== undefined) stdout.write(`${text}\n`);
    },
    info(text) {
      if (!json) stderr.write(`${text}\n`);
    },
    error(err) {
      const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'ERROR';
      const message = err instanceof Error ? err.message : String(err);
      if (json) stdout.write(`${JSON.stringify({ event: 'error', code, message })}\n`);
      else stderr.write(`wormhole: ${message}${code !== 'ERROR' ? ` [${code}]` : ''}\n`);
    },
  };
}
