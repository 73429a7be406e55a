// A minimal signal server speaking packages/protocol's signal messages, for tests until (and
// beside) packages/signal-server: the layering rules forbid transport depending on it. It
// doubles as the *malicious* signal server: `tamper` may rewrite any relayed payload.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type ClientMessage,
  encodeSignalMessage,
  parseClientMessage,
  type ServerMessage,
} from '@wormhole/protocol';
import { WebSocket, WebSocketServer } from 'ws';

export type Tamper = (payload: string, from: string, to: string) => string;

export interface TestSignalServer {
  readonly url: string;
  /** Replace to start tampering with relayed payloads. */
  tamper: Tamper | undefined;
  /** Every relayed payload, as received. */
  readonly log: { from: string; to: string; payload: string }[];
  rooms(): string[];
  close(): Promise<void>;
}

export async function createTestSignalServer(
  opts: { tamper?: Tamper; heartbeatMs?: number } = {},
): Promise<TestSignalServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const rooms = new Map<string, Map<string, WebSocket>>();
  const where = new Map<WebSocket, { room: string; peerId: string }>();
  const server: TestSignalServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    tamper: opts.tamper,
    log: [],
    rooms: () => [...rooms.keys()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
  const send = (ws: WebSocket, m: ServerMessage): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeSignalMessage(m));
  };
  const leave = (ws: WebSocket): void => {
    const w = where.get(ws);
    if (!w) return;
    where.delete(ws);
    const room = rooms.get(w.room);
    if (!room) return;
    room.delete(w.peerId);
    if (room.size === 0) rooms.delete(w.room);
    for (const other of room.values()) send(other, { type: 'peer-left', room: w.room, peerId: w.peerId });
  };
  wss.on('connection', (ws) => {
    send(ws, {
      type: 'hello',
      v: 1,
      serverId: 'test',
      maxMessageBytes: 65536,
      heartbeatMs: opts.heartbeatMs ?? 30000,
    });
    ws.on('close', () => leave(ws));
    ws.on('message', (data) => {
      let m: ClientMessage;
      try {
        m = parseClientMessage(data.toString());
      } catch {
        send(ws, { type: 'error', code: 'SIGNAL_BAD_MESSAGE', message: 'bad message' });
        return;
      }
      const err = (code: Extract<ServerMessage, { type: 'error' }>['code']): void =>
        send(ws, { type: 'error', ref: m.ref, code, message: code });
      const peerId = randomBytes(6).toString('hex');
      switch (m.type) {
        case 'create': {
          if (where.has(ws)) return err('SIGNAL_ALREADY_IN_ROOM');
          let room = m.room;
          if (room && rooms.has(room)) return err('SIGNAL_ROOM_EXISTS');
          while (!room || rooms.has(room)) room = String(1 + Math.floor(Math.random() * 999));
          rooms.set(room, new Map([[peerId, ws]]));
          where.set(ws, { room, peerId });
          return send(ws, { type: 'created', ref: m.ref, room, peerId, expiresAt: Date.now() + 3600_000 });
        }
        case 'join': {
          if (where.has(ws)) return err('SIGNAL_ALREADY_IN_ROOM');
          const room = rooms.get(m.room);
          if (!room) return err('SIGNAL_ROOM_NOT_FOUND');
          const peers = [...room.keys()];
          for (const other of room.values()) send(other, { type: 'peer-joined', room: m.room, peerId });
          room.set(peerId, ws);
          where.set(ws, { room: m.room, peerId });
          return send(ws, { type: 'joined', ref: m.ref, room: m.room, peerId, peers });
        }
        case 'relay': {
          const w = where.get(ws);
          if (!w) return err('SIGNAL_NOT_IN_ROOM');
          const room = rooms.get(w.room)!;
          const targets = m.to ? [m.to] : [...room.keys()].filter((p) => p !== w.peerId);
          if (m.to && !room.has(m.to)) return err('SIGNAL_PEER_NOT_FOUND');
          for (const to of targets) {
            server.log.push({ from: w.peerId, to, payload: m.payload });
            const payload = server.tamper ? server.tamper(m.payload, w.peerId, to) : m.payload;
            send(room.get(to)!, { type: 'relay', from: w.peerId, payload });
          }
          return;
        }
        case 'leave':
          leave(ws);
          return send(ws, { type: 'left', ref: m.ref });
        case 'ping':
          return send(ws, { type: 'pong', ref: m.ref });
        case 'turn-credentials':
          return send(ws, {
            type: 'turn-credentials',
            ref: m.ref,
            urls: ['turn:127.0.0.1:3478'],
            username: 'u',
            credential: 'c',
            ttlSeconds: 60,
          });
      }
    });
  });
  return server;
}
