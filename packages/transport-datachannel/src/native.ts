// The only module that touches node-datachannel. Loading is guarded so a missing or broken
// native binary makes `isAvailable()` false instead of crashing whoever imports this package.
import { createRequire } from 'node:module';
import type NodeDataChannel from 'node-datachannel';

/** The node-datachannel module namespace (its default export). */
export type NativeModule = typeof NodeDataChannel;
export type {
  DataChannel as NativeDataChannel,
  IceServer as NativeIceServer,
  PeerConnection as NativePeerConnection,
  RtcConfig as NativeRtcConfig,
} from 'node-datachannel';

let loaded: { module: NativeModule | undefined; error: unknown } | undefined;

/** Loads the binding once; returns undefined (and remembers why) when it cannot be loaded. */
export function loadNative(): NativeModule | undefined {
  if (loaded === undefined) {
    try {
      // createRequire keeps loading synchronous (no top-level await) and catchable.
      const require = createRequire(import.meta.url);
      loaded = { module: require('node-datachannel') as NativeModule, error: undefined };
    } catch (error) {
      loaded = { module: undefined, error };
    }
  }
  return loaded.module;
}

/** Why `loadNative()` returned undefined, for error messages. */
export function nativeLoadError(): unknown {
  loadNative();
  return loaded?.error;
}

let users = 0;

/**
 * Reference count of live users of libdatachannel's global state (threads, sockets). The last
 * `releaseNative()` calls `cleanup()`, without which the process never exits.
 */
export function acquireNative(): NativeModule | undefined {
  const native = loadNative();
  if (native !== undefined) users += 1;
  return native;
}

/** Drops one reference taken by `acquireNative()`; the last one runs `cleanup()`. */
export function releaseNative(): void {
  if (users === 0) return;
  users -= 1;
  if (users === 0) loaded?.module?.cleanup();
}

/** Number of live references, for tests. */
export function nativeUsers(): number {
  return users;
}
