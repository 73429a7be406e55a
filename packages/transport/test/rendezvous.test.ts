import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJoinCode, WORDLIST } from '@wormhole/protocol';
import {
  type CodeEvent,
  createMemoryTicketStore,
  dialRendezvous,
  type HostRendezvous,
  hostRendezvous,
  type PeerChannel,
  type PeerInfo,
  TransportError,
} from '@wormhole/transport';
import { createMemoryTransport } from '@wormhole/transport/testing';
import { createTestSignalServer, type TestSignalServer } from './helpers/test-signal-server.js';

const te = new TextEncoder();

async function startHost(
  server: TestSignalServer,
  extra: Partial<Parameters<typeof hostRendezvous>[0]> = {},
) {
  const channels: { channel: PeerChannel; peer: PeerInfo }[] = [];
  const codes: CodeEvent[] = [];
  const host = await hostRendezvous({
    signalUrl: server.url,
    transports: [createMemoryTransport()],
    onChannel: (channel, peer) => {
      channels.push({ channel, peer });
      channel.on('message', (m) => void channel.send(m).catch(() => {}));
    },
    ...extra,
  });
  host.on('code', (e) => codes.push(e));
  return { host, channels, codes };
}

async function echo(ch: PeerChannel, text: string): Promise<string> {
  const got = new Promise<Uint8Array>((r) => ch.once('message', r));
  await ch.send(te.encode(text));
  return new TextDecoder().decode(await got);
}

const codeOf = (e: unknown): string => (e instanceof TransportError ? e.code : `not typed: ${String(e)}`);
const nextCode = (h: HostRendezvous): Promise<CodeEvent> => new Promise((r) => h.once('code', r));

describe('rendezvous through a signal server', () => {
  let server: TestSignalServer;
  before(async () => {
    server = await createTestSignalServer();
  });
  after(async () => {
    await server.close();
  });

  it('right code ⇒ authenticated channel over the memory transport, code carries @host:port when asked', async () => {
    const { host, channels } = await startHost(server, { includeSignalUrl: true });
    try {
      assert.match(host.code, /^[1-9][0-9]*-[a-z]+-[a-z]+@127\.0\.0\.1:\d+$/);
      assert.equal(parseJoinCode(host.code).nameplate, host.nameplate);
      const res = await dialRendezvous({ code: host.code, transports: [createMemoryTransport()] });
      assert.equal(res.path.transport, 'datachannel');
      assert.equal(res.resumed, false);
      assert.equal(await echo(res.channel, 'hi'), 'hi');
      assert.equal(channels.length, 1);
      assert.equal(channels[0]!.peer.resumed, false);
      res.channel.close();
    } finally {
      await host.close();
    }
  });

  it('several clients at once each get their own PAKE and channel', async () => {
    const { host, channels } = await startHost(server);
    try {
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          dialRendezvous({ code: host.code, signalUrl: server.url, transports: [createMemoryTransport()] }),
        ),
      );
      for (const [i, r] of results.entries()) assert.equal(await echo(r.channel, `c${i}`), `c${i}`);
      assert.equal(channels.length, 3);
      for (const r of results) r.channel.close();
    } finally {
      await host.close();
    }
  });

  it('the first transport to authenticate wins; the loser is closed', async () => {
    const { host } = await startHost(server, {
      transports: [
        createMemoryTransport({ kind: 'webtransport', neverConnect: true }),
        createMemoryTransport({ kind: 'tls' }),
      ],
    });
    try {
      const res = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [
          createMemoryTransport({ kind: 'webtransport', neverConnect: true }),
          createMemoryTransport({ kind: 'tls' }),
        ],
      });
      assert.equal(res.channel.kind, 'tls');
      res.channel.close();
    } finally {
      await host.close();
    }
  });

  it('a transport the race holds back (raceDelayMs) is never started by the client when another wins first', async () => {
    const started: string[] = [];
    const { host } = await startHost(server, {
      transports: [
        createMemoryTransport({ kind: 'tls' }),
        createMemoryTransport({ kind: 'webtransport', onSession: (r) => started.push(`host:${r}`) }),
      ],
    });
    try {
      const res = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [
          createMemoryTransport({ kind: 'tls' }),
          createMemoryTransport({
            kind: 'webtransport',
            raceDelayMs: 60_000,
            onSession: (r) => started.push(`client:${r}`),
          }),
        ],
      });
      assert.equal(res.channel.kind, 'tls');
      // The host starts every kind (its side only waits); the client never dialled the held one.
      assert.deepEqual(started, ['host:host']);
      res.channel.close();
    } finally {
      await host.close();
    }
  });

  it('a held-back transport starts at once when every other attempt has failed, and wins', async () => {
    const { host } = await startHost(server, {
      transports: [createMemoryTransport({ kind: 'tls' }), createMemoryTransport({ kind: 'webtransport' })],
    });
    try {
      const t0 = Date.now();
      const res = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [
          createMemoryTransport({ kind: 'tls', failClient: true }),
          createMemoryTransport({ kind: 'webtransport', raceDelayMs: 60_000 }),
        ],
      });
      assert.equal(res.channel.kind, 'webtransport');
      assert.ok(Date.now() - t0 < 10_000, 'waited for the delay instead of starting at once');
      assert.equal(await echo(res.channel, 'held'), 'held');
      res.channel.close();
    } finally {
      await host.close();
    }
  });

  it('alone, a transport with a race delay starts at once', async () => {
    const { host } = await startHost(server, {
      transports: [createMemoryTransport({ kind: 'webtransport' })],
    });
    try {
      const res = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport({ kind: 'webtransport', raceDelayMs: 60_000 })],
        timeoutMs: 10_000,
      });
      assert.equal(res.channel.kind, 'webtransport');
      res.channel.close();
    } finally {
      await host.close();
    }
  });

  it('wrong code ⇒ TRANSPORT_PAKE_FAILED, the code is burned, the old nameplate is gone', async () => {
    const { host } = await startHost(server);
    try {
      const old = parseJoinCode(host.code);
      const wrongWord = old.words[0] === WORDLIST[0] ? WORDLIST[1]! : WORDLIST[0]!;
      const wrong = [old.nameplate, wrongWord, ...old.words.slice(1)].join('-');
      const burned = nextCode(host);
      const failed = new Promise((r) => host.once('pake-failed', r));
      const err = await dialRendezvous({
        code: wrong,
        signalUrl: server.url,
        transports: [createMemoryTransport()],
      }).catch((e) => e);
      assert.equal(codeOf(err), 'TRANSPORT_PAKE_FAILED');
      await failed;
      const fresh = await burned;
      assert.equal(fresh.reason, 'burned');
      assert.notEqual(fresh.nameplate, old.nameplate);
      const again = await dialRendezvous({
        code: `${old.nameplate}-${old.words.join('-')}`,
        signalUrl: server.url,
        transports: [createMemoryTransport()],
      }).catch((e) => e);
      assert.equal(codeOf(again), 'TRANSPORT_SIGNAL_ERROR');
      assert.equal(again.details.code, 'SIGNAL_ROOM_NOT_FOUND');
      const ok = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport()],
      });
      ok.channel.close();
    } finally {
      await host.close();
    }
  });

  it('resumption: a ticket reconnects without the code (and rotates); a forged ticket is refused without burning', async () => {
    const store = createMemoryTicketStore();
    const { host, channels } = await startHost(server, { ticketStore: store });
    try {
      const first = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport()],
      });
      first.channel.close();
      const second = await dialRendezvous({ resume: first.resume, transports: [createMemoryTransport()] });
      assert.equal(second.resumed, true);
      assert.equal(await echo(second.channel, 'again'), 'again');
      assert.equal(channels.at(-1)!.peer.resumed, true);
      assert.notEqual(second.resume.id, first.resume.id);
      second.channel.close();
      const codeBefore = host.code;
      const reused = await dialRendezvous({
        resume: first.resume,
        transports: [createMemoryTransport()],
      }).catch((e) => e);
      assert.equal(codeOf(reused), 'TRANSPORT_RESUME_REFUSED', 'a used ticket is spent');
      const forged = { ...second.resume, secret: Buffer.alloc(32, 1).toString('base64url') };
      const err = await dialRendezvous({ resume: forged, transports: [createMemoryTransport()] }).catch(
        (e) => e,
      );
      assert.equal(codeOf(err), 'TRANSPORT_RESUME_REFUSED');
      assert.equal(host.code, codeBefore, 'no burn');
      const third = await dialRendezvous({ resume: second.resume, transports: [createMemoryTransport()] });
      third.channel.close();
    } finally {
      await host.close();
    }
  });

  it('a restarted host reclaims its nameplate and honours persisted tickets', async () => {
    const store = createMemoryTicketStore();
    const a = await startHost(server, { ticketStore: store });
    const nameplate = a.host.nameplate;
    const first = await dialRendezvous({
      code: a.host.code,
      signalUrl: server.url,
      transports: [createMemoryTransport()],
    });
    first.channel.close();
    await a.host.close();
    const b = await startHost(server, { ticketStore: store, room: nameplate });
    try {
      assert.equal(b.host.nameplate, nameplate);
      const res = await dialRendezvous({ resume: first.resume, transports: [createMemoryTransport()] });
      assert.equal(res.resumed, true);
      res.channel.close();
    } finally {
      await b.host.close();
    }
  });

  it('no common transport ⇒ TRANSPORT_UNAVAILABLE', async () => {
    const { host } = await startHost(server, { transports: [createMemoryTransport({ kind: 'tls' })] });
    try {
      const err = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport()],
      }).catch((e) => e);
      assert.equal(codeOf(err), 'TRANSPORT_UNAVAILABLE');
    } finally {
      await host.close();
    }
  });

  it('abort and timeout reject with typed errors', async () => {
    const { host } = await startHost(server, { transports: [createMemoryTransport({ neverConnect: true })] });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const e1 = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport({ neverConnect: true })],
        signal: ac.signal,
      }).catch((e) => e);
      assert.equal(codeOf(e1), 'TRANSPORT_ABORTED');
      const e2 = await dialRendezvous({
        code: host.code,
        signalUrl: server.url,
        transports: [createMemoryTransport({ neverConnect: true })],
        timeoutMs: 200,
      }).catch((e) => e);
      assert.equal(codeOf(e2), 'TRANSPORT_TIMEOUT');
      const e3 = await dialRendezvous({
        code: `5-${WORDLIST[0]}-${WORDLIST[1]}`,
        signalUrl: 'ws://127.0.0.1:1',
        transports: [],
      }).catch((e) => e);
      assert.equal(codeOf(e3), 'TRANSPORT_SIGNAL_UNREACHABLE');
    } finally {
      await host.close();
    }
  });
});

describe('malicious signal server', () => {
  let server: TestSignalServer;
  before(async () => {
    server = await createTestSignalServer();
  });
  after(async () => {
    await server.close();
  });

  const swapChar = (s: string, i: number): string =>
    s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const tampers: [string, (p: string) => string][] = [
    // Sealed payloads carry the transport signals (fingerprints, addresses): rewrite their bytes.
    [
      'flips a byte of sealed signals',
      (p) => (p.startsWith('S1.') ? swapChar(p, 3 + Math.floor(Math.random() * (p.length - 3))) : p),
    ],
    // Swap the PAKE share for one of the server's own (a MITM on the PAKE).
    [
      'substitutes PAKE shares',
      (p) => {
        if (!p.startsWith('H1.')) return p;
        const m = JSON.parse(p.slice(3));
        if (m.share)
          m.share = Buffer.from(p.includes('pake-a') ? 'a' : 'b').toString('base64url') + m.share.slice(2);
        return `H1.${JSON.stringify(m)}`;
      },
    ],
  ];

  for (const [name, tamper] of tampers) {
    it(`${name} ⇒ refused every time (20 tries)`, async () => {
      for (let i = 0; i < 20; i++) {
        server.tamper = undefined;
        const { host, channels } = await startHost(server);
        try {
          server.tamper = tamper;
          const err = await dialRendezvous({
            code: host.code,
            signalUrl: server.url,
            transports: [createMemoryTransport()],
            timeoutMs: 5000,
          }).catch((e) => e);
          assert.ok(err instanceof TransportError, `try ${i}: refused with a typed error`);
          assert.ok(
            [
              'TRANSPORT_DECRYPT_FAILED',
              'TRANSPORT_PAKE_FAILED',
              'TRANSPORT_CONNECT_FAILED',
              'TRANSPORT_BAD_SIGNAL',
            ].includes(err.code),
            err.code,
          );
          assert.equal(channels.length, 0);
        } finally {
          await host.close();
        }
      }
      server.tamper = undefined;
    });
  }

  it('a transport-level MITM (certificate swapped) ⇒ TRANSPORT_BINDING_MISMATCH every time (20 tries)', async () => {
    for (let i = 0; i < 20; i++) {
      const { host, channels } = await startHost(server);
      try {
        const mitm = createMemoryTransport({
          tamperRemoteFingerprint: (fp) => (fp[0] === '0' ? '1' : '0') + fp.slice(1),
        });
        const err = await dialRendezvous({
          code: host.code,
          signalUrl: server.url,
          transports: [mitm],
          timeoutMs: 5000,
        }).catch((e) => e);
        assert.equal(codeOf(err), 'TRANSPORT_BINDING_MISMATCH');
        assert.equal(channels.length, 0);
      } finally {
        await host.close();
      }
    }
  });
});
