import type { PeerChannel } from '@wormhole/transport';
import { dialRendezvous, hostRendezvous } from '@wormhole/transport';
import { createMemoryTransport } from '@wormhole/transport/testing';
import { createTestSignalServer } from './test-signal-server.js';

const channels: PeerChannel[] = [];
const server = await createTestSignalServer();
const host = await hostRendezvous({
  signalUrl: server.url,
  transports: [createMemoryTransport()],
  onChannel: (ch) => {
    channels.push(ch);
  },
});
const ok = await dialRendezvous({
  code: host.code,
  signalUrl: server.url,
  transports: [createMemoryTransport()],
});
ok.channel.close();
await dialRendezvous({ code: `${host.nameplate}-zzz-zzz`, signalUrl: server.url, transports: [] }).catch(
  () => {},
);
await dialRendezvous({
  code: host.code,
  signalUrl: server.url,
  transports: [createMemoryTransport({ neverConnect: true })],
  timeoutMs: 200,
}).catch(() => {});
await dialRendezvous({ resume: ok.resume, transports: [createMemoryTransport()] }).then((r) =>
  r.channel.close(),
);
for (const ch of channels) ch.close();
await host.close();
await server.close();
console.log('done');
