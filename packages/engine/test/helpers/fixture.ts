import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRemoteFs,
  createShareHost,
  type RemoteFs,
  type RemoteFsOptions,
  type ShareHost,
  type ShareHostOptions,
} from '../../src/index.js';
import { type ChannelServer, dialChannel, listenChannels } from './net-channel.js';

export async function tempDir(prefix = 'wh-engine-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface Served {
  readonly host: ShareHost;
  readonly server: ChannelServer;
  readonly fs: RemoteFs;
  close(): Promise<void>;
}

/** A host on `root` behind a real 127.0.0.1 socket, and one RemoteFs dialled to it. */
export async function serve(
  root: string,
  hostOpts: Partial<ShareHostOptions> = {},
  fsOpts: Partial<RemoteFsOptions> = {},
): Promise<Served> {
  const host = await createShareHost({ root, ...hostOpts });
  const server = await listenChannels((ch) => host.attach(ch));
  const fs = await createRemoteFs({ connect: () => dialChannel(server.port), ...fsOpts });
  return {
    host,
    server,
    fs,
    async close() {
      await fs.close();
      await host.close();
      await server.close();
    },
  };
}
