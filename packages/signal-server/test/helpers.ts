import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerMessage, type ServerMessage } from '@wormhole/protocol';
import WebSocket, { type ClientOptions } from 'ws';

/** A real WebSocket client that records every server message, validated against the protocol schema. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private nextRef = 0;
  closed = false;
  /** The server's `hello`. */
  hello: Extract<ServerMessage, { type: 'hello' }> | undefined;
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('server sent a binary frame');
      this.messages.push(parseServerMessage(data as Buffer, 1 << 20));
      for (const w of this.waiters) w();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      for (const w of this.waiters) w();
    });
    ws.on('error', () => {});
  }

  /** Connects and waits for `hello`. */
  static async connect(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, opts);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
    client.hello = (await client.next((m) => m.type === 'hello')) as Extract<
      ServerMessage,
      { type: 'hello' }
    >;
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  /** Waits for (and consumes) the first recorded message matching `pred`. */
  next(pred: (m: ServerMessage) => boolean = () => true, timeoutMs = 3000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = this.messages.findIndex(pred);
        if (i >= 0) {
          const [m] = this.messages.splice(i, 1);
          cleanup();
          resolve(m as ServerMessage);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timeout waiting for a message; have ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      const waiter = (): void => {
        check();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /** Sends `msg` with a fresh `ref` and resolves with the reply carrying that ref. */
  async request<T extends ServerMessage['type']>(
    msg: Record<string, unknown>,
    timeoutMs = 3000,
  ): Promise<ServerMessage & { ref?: string }> {
    const ref = `r${++this.nextRef}`;
    this.send({ ...msg, ref });
    return this.next((m) => 'ref' in m && m.ref === ref, timeoutMs) as Promise<ServerMessage & { type: T }>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    this.ws.close();
    await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
    if (!this.closed) this.ws.terminate();
  }
}

/** Asserts that `m` is a message of `type` and narrows it. */
export function expectType<T extends ServerMessage['type']>(
  m: ServerMessage,
  type: T,
): Extract<ServerMessage, { type: T }> {
  if (m.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(m)}`);
  return m as Extract<ServerMessage, { type: T }>;
}

/** Asserts that `m` is an error with `code`. */
export function expectError(m: ServerMessage, code: string): void {
  if (m.type !== 'error' || m.code !== code)
    throw new Error(`expected error ${code}, got ${JSON.stringify(m)}`);
}

/** A free TCP port on 127.0.0.1 (for child processes that must be told their port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A self-signed ECDSA P-256 certificate for 127.0.0.1 / localhost, made with openssl in a temp dir. */
export function selfSignedCert(): {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'wh-sig-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  fn: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
