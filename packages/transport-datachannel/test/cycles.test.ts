import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/cycles.ts', import.meta.url));

describe('resource use', () => {
  it('50 connect/close cycles grow no fds or handles, and the process exits by itself', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', fixture, '50'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    assert.equal(signal, null, 'killed: the process did not exit by itself');
    assert.equal(code, 0);
    const result = JSON.parse(output) as {
      samples: { fds: number; handles: number }[];
      setupMs: number[];
      nativeUsers: number;
    };
    assert.equal(result.setupMs.length, 50);
    assert.equal(result.samples.length, 10);
    assert.equal(result.nativeUsers, 0);
    // Compare the end with round 2 (after warm-up: libdatachannel's thread pool, tsx caches).
    const warm = result.samples[1]!;
    const last = result.samples[9]!;
    assert.ok(last.fds <= warm.fds + 2, `fds ${warm.fds} -> ${last.fds}`);
    assert.ok(last.handles <= warm.handles, `handles ${warm.handles} -> ${last.handles}`);
    const sorted = [...result.setupMs].sort((a, b) => a - b);
    console.log(
      `# setup p50 ${sorted[24]?.toFixed(1)} ms, p99 ${sorted[49]?.toFixed(1)} ms; fds ${warm.fds}->${last.fds}`,
    );
  });
});
