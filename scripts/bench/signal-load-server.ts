// The server side of the signal load benchmark, in its own process so the orchestrator can read
// its RSS and CPU from /proc. `signal` runs @wormhole/signal-server (memory mode, limits opened
// up for one load-generating host); `echo` is the baseline: a bare `ws` server that echoes.
//   node --conditions=@wormhole/source --import tsx scripts/bench/signal-load-server.ts signal|echo
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createSignalServer } from '../../packages/signal-server/src/index.js';

interface WsSocket {
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  send(data: Buffer, opts: { binary: boolean }): void;
}
interface WsServerLike {
  handleUpgrade(req: unknown, socket: unknown, head: Buffer, cb: (ws: WsSocket) => void): void;
}
const requireWs = createRequire(new URL('../../packages/signal-server/package.json', import.meta.url));
const { WebSocketServer } = requireWs('ws') as {
  WebSocketServer: new (opts: {
    noServer: boolean;
    perMessageDeflate: boolean;
    clientTracking: boolean;
  }) => WsServerLike;
};

const kind = process.argv[2] ?? 'signal';
if (kind === 'signal') {
  const server = await createSignalServer({
    host: '127.0.0.1',
    port: 0,
    maxConnectionsPerIp: 0,
    maxRooms: 1_000_000,
    rateLimit: { messagesPerSec: 1_000_000, burst: 1_000_000 },
    logger: 'warn',
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const http = createServer((_req, res) => res.end('ok'));
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }),
  );
  http.listen(0, '127.0.0.1', () => {
    const addr = http.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(`${JSON.stringify({ url: `ws://127.0.0.1:${port}` })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
