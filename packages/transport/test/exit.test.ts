// Nothing may leak: a full host + dial + resume round in a child process must let it exit by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

it('the process exits on its own after rendezvous, failures and close (no leaked handles)', async () => {
  const file = fileURLToPath(new URL('./helpers/exit-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@wormhole/source', '--import', 'tsx', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  assert.equal(code, 0, `child exited by itself (output: ${out})`);
  assert.match(out, /done/);
});
