// A channel that carries at most 256 KiB per message (like a DataChannel): the host caps the
// chunk size it announces and the size of readdir pages so every answer fits one message.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteFs, createShareHost, type RemoteFs, type ShareHost } from '../src/index.js';
import { tempDir } from './helpers/fixture.js';
import { type ChannelServer, dialChannel, listenChannels } from './helpers/net-channel.js';

const LIMIT = 256 * 1024;

describe('256 KiB message limit', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let host: ShareHost;
  let server: ChannelServer;
  let fs: RemoteFs;
  const data = randomBytes(3 * 1024 * 1024 + 77);

  before(async () => {
    dir = await tempDir();
    writeFileSync(join(dir.path, 'f.bin'), data);
    mkdirSync(join(dir.path, 'long'));
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir.path, 'long', `${'名'.repeat(80)}-${i}`), '');
    host = await createShareHost({ root: dir.path, chunkSize: 1024 * 1024, watch: false });
    server = await listenChannels((ch) => host.attach(ch), 0, LIMIT);
    fs = await createRemoteFs({ connect: () => dialChannel(server.port, LIMIT), readdirPageSize: 4096 });
  });
  after(async () => {
    await fs?.close();
    await host?.close();
    await server?.close();
    await dir?.remove();
  });

  it('announces a chunk size that fits and reads through it', async () => {
    assert.ok(fs.chunkSize <= LIMIT - 6, `chunk ${fs.chunkSize}`);
    // Halved, not rounded down to 252 KiB: a 256 KiB cache chunk is two aligned requests.
    assert.equal(fs.chunkSize, 128 * 1024);
    const got = await fs.read('/f.bin', 0, data.length);
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(data).digest('hex'),
    );
  });

  it('keeps readdir pages of long names under the limit', async () => {
    let pages = 0;
    let n = 0;
    for await (const page of fs.readdirPages('/long')) {
      pages++;
      n += page.entries.length;
    }
    assert.equal(n, 3000);
    assert.ok(pages > 1);
  });
});
