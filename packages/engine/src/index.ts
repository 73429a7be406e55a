/**
 * @packageDocumentation
 * The file-serving heart of Wormhole. `createShareHost` serves one local directory, read-only
 * and confined to its root, over any number of `PeerChannel`s; `createRemoteFs` is the client
 * that reads it with pipelined requests and reconnects by itself.
 *
 * @example
 * ```ts
 * import { createRemoteFs, createShareHost } from '@wormhole/engine';
 * const host = await createShareHost({ root: '/srv/share' });
 * host.attach(hostSideChannel);                       // one call per connected peer
 *
 * const fs = await createRemoteFs({ connect: () => dialHost() });
 * const entries = await fs.readdir('/');              // names + stats, all pages
 * const st = await fs.stat('/docs/a.txt');
 * const bytes = await fs.read('/docs/a.txt', 0, st.size, st.version);
 * fs.on('invalidate', ({ paths, all }) => dropCaches(paths, all));
 * await fs.close();
 * await host.close();
 * ```
 */
export type {
  CallOptions,
  ConnectionEvent,
  InvalidateEvent,
  ReaddirPage,
  RemoteFs,
  RemoteFsEvents,
  RemoteFsOptions,
} from './client/remote-fs.js';
export { createRemoteFs } from './client/remote-fs.js';
export { EngineError, type EngineErrorCode } from './engine-error.js';
export type { HostSession, HostSessionStats, SessionLimits } from './host/host-session.js';
export { hostNativeHelperLoaded } from './host/native-fs.js';
export { createShareHost, type ShareHost, type ShareHostOptions } from './host/share-host.js';
export { parseSharePath } from './host/share-path.js';
export { type Logger, silentLogger } from './logger.js';
export { type RemoteFileSystemOptions, remoteFileSystem } from './mount/remote-file-system.js';
export { RemoteFsError } from './remote-fs-error.js';
// Composition: a share (host + rendezvous) and a mount-side connection (rendezvous + RemoteFs).
export { type ConnectShareOptions, connectShare } from './session/connect-share.js';
export {
  closeTransports,
  createTransports,
  DEFAULT_TRANSPORT_KINDS,
  type TransportConfig,
} from './session/create-transports.js';
export { createFileTicketStore, type FileTicketStore } from './session/file-ticket-store.js';
export { type MountedShare, type MountShareOptions, mountShare } from './session/mount-share.js';
export {
  type Share,
  type ShareEvents,
  type ShareOptions,
  type SharePeer,
  startShare,
} from './session/start-share.js';
