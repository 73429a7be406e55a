import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PeerChannel, TransportSignal } from '@wormhole/transport';
import { tlsTransport } from '@wormhole/transport-tls';
import { dialChannel } from './net-channel.js';

const script = fileURLToPath(new URL('../fixtures/host-process.ts', import.meta.url));

/** A running host child process and a way to dial it (tls: ask it for a session signal). */
export interface HostProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Opens a new PeerChannel to this host process. */
  dial(): Promise<PeerChannel>;
  stats(): Promise<{ clients: number; fds: number; openFiles: number }>;
  touch(path: string, data: string): void;
  kill(): Promise<void>;
}

const clientTransport = tlsTransport({ connectTimeoutMs: 3000 });

/** Closes the shared client-side TLS transport (call once at the end of a test file). */
export function closeClientTransport(): Promise<void> {
  return clientTransport.close();
}

export async function startHostProcess(root: string, mode: 'tls' | 'net', port = 0): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@wormhole/source', '--import', 'tsx', script, root, mode, String(port)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = once(child, 'exit');
  let req = 0;
  const waiters = new Map<number, (m: Record<string, unknown>) => void>();
  const ready = new Promise<{ port: number }>((resolve, reject) => {
    child.on('message', (m: Record<string, unknown>) => {
      if (m.type === 'ready') resolve(m as { port: number });
      else if (typeof m.req === 'number') waiters.get(m.req)?.(m);
    });
    child.once('exit', (code) => reject(new Error(`host process exited early (${code})`)));
  });
  const ask = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      if (!child.connected) return reject(new Error('host process is gone'));
      const id = ++req;
      const t = setTimeout(() => {
        waiters.delete(id);
        reject(new Error('host process did not answer'));
      }, 5000);
      waiters.set(id, (m) => {
        clearTimeout(t);
        waiters.delete(id);
        resolve(m);
      });
      child.send({ type, req: id });
    });
  const { port: bound } = await ready;
  return {
    child,
    port: bound,
    async dial() {
      if (mode === 'net') return dialChannel(bound);
      const m = await ask('session');
      const session = clientTransport.createSession('client', { signal: new AbortController().signal });
      session.handleSignal(m.signal as TransportSignal);
      return session.connected;
    },
    stats: () => ask('stats') as Promise<never>,
    touch(path, data) {
      child.send({ type: 'touch', path, data });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
