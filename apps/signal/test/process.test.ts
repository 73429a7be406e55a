import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseServerMessage, type ServerMessage } from '@wormhole/protocol';
import WebSocket from 'ws';

const START = fileURLToPath(new URL('../src/start.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/wormhole-signal.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface Running {
  child: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; ms: number }>;
}

/** Spawns the command and waits until it logs "signal server listening". */
async function spawnSignal(args: string[], env: NodeJS.ProcessEnv, viaBin = false): Promise<Running> {
  const argv = viaBin ? [BIN, ...args] : ['--conditions=@wormhole/source', '--import', 'tsx', START, ...args];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let killedAt = 0;
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, ms: Date.now() - killedAt })),
  );
  child.kill = ((orig) =>
    function (this: ChildProcess, sig?: NodeJS.Signals | number) {
      killedAt = Date.now();
      return orig.call(this, sig);
    })(child.kill);
  const end = Date.now() + 15_000;
  while (!lines.some((l) => l.includes('signal server listening'))) {
    if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}): ${stderr}`);
    if (Date.now() > end) throw new Error(`no startup line; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  return { child, lines, exit };
}

function client(
  url: string,
): Promise<{ ws: WebSocket; msgs: ServerMessage[]; next: (t: string) => Promise<ServerMessage> }> {
  const ws = new WebSocket(url);
  const msgs: ServerMessage[] = [];
  ws.on('message', (d) => msgs.push(parseServerMessage(d as Buffer)));
  ws.on('error', () => {});
  const next = async (type: string): Promise<ServerMessage> => {
    const end = Date.now() + 5000;
    for (;;) {
      const i = msgs.findIndex((m) => m.type === type);
      if (i >= 0) return msgs.splice(i, 1)[0] as ServerMessage;
      if (Date.now() > end) throw new Error(`no ${type}; have ${JSON.stringify(msgs)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, msgs, next }));
    ws.once('error', reject);
  });
}

describe('wormhole-signal as a process', () => {
  it('serves rooms and HTTP, logs JSON lines without secrets or payloads, and on SIGTERM tells clients and exits 0 within the bound', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'wh-signal-proc-'));
    const secret = 'very-secret-turn-key-4711';
    writeFileSync(join(dir, 'turn.secret'), `${secret}\n`);
    const run = await spawnSignal(
      [
        '--bind',
        `127.0.0.1:${port}`,
        '--turn-url',
        'turn:127.0.0.1:3478',
        '--turn-secret-file',
        join(dir, 'turn.secret'),
        '--shutdown-timeout',
        '4',
      ],
      { LOG_LEVEL: 'trace', SIGNAL_MAX_ROOMS: '100' },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/health`)).status, 200);
      assert.equal((await fetch(`${base}/ready`)).status, 200);
      assert.match(await (await fetch(`${base}/metrics`)).text(), /wormhole_active_rooms 0/);
      const a = await client(`ws://127.0.0.1:${port}`);
      const b = await client(`ws://127.0.0.1:${port}`);
      a.ws.send(JSON.stringify({ type: 'create' }));
      const created = (await a.next('created')) as Extract<ServerMessage, { type: 'created' }>;
      b.ws.send(JSON.stringify({ type: 'join', room: created.room }));
      await b.next('joined');
      const payload = 'PAYLOAD-MUST-NOT-BE-LOGGED';
      b.ws.send(JSON.stringify({ type: 'relay', payload }));
      assert.equal(((await a.next('relay')) as { payload: string }).payload, payload);
      a.ws.send(JSON.stringify({ type: 'turn-credentials' }));
      await a.next('turn-credentials');

      run.child.kill('SIGTERM');
      assert.deepEqual(await a.next('closing'), { type: 'closing', reason: 'shutdown' });
      assert.deepEqual(await b.next('closing'), { type: 'closing', reason: 'shutdown' });
      const { code, ms } = await run.exit;
      assert.equal(code, 0);
      assert.ok(ms < 4000, `exited after ${ms} ms`);

      const all = run.lines.join('\n');
      assert.equal(all.includes(secret), false, 'TURN secret in logs');
      assert.equal(all.includes(payload), false, 'payload in logs');
      for (const line of run.lines) {
        const rec = JSON.parse(line) as { time?: string; level?: string; msg?: string };
        assert.ok(rec.time && rec.level && rec.msg, `log line lacks time/level/msg: ${line}`);
      }
      assert.ok(
        run.lines.some((l) => {
          const r = JSON.parse(l) as { msg: string; room?: string };
          return r.msg === 'room created' && r.room === created.room;
        }),
        'room id logged',
      );
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with a message naming the variable on bad env', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@wormhole/source', '--import', 'tsx', START, '--bind', '127.0.0.1:0'],
      {
        env: { ...process.env, SIGNAL_MAX_ROOMS: 'lots' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /SIGNAL_MAX_ROOMS/);
  });

  it('the built bin (bin/wormhole-signal.js → dist) serves /ready and stops on SIGTERM', {
    skip: existsSync(DIST) ? false : 'apps/signal is not built (pnpm run build)',
  }, async () => {
    const port = await freePort();
    const run = await spawnSignal(['--bind', `127.0.0.1:${port}`], { LOG_LEVEL: 'info' }, true);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });
});
