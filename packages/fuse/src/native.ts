// The only module that loads fuse-native. It is an optional dependency with a native addon
// that needs libfuse.so.2 at load time, so loading is guarded and the failure is kept for
// `checkFuse()` to explain.
import { createRequire } from 'node:module';
import type { NativeFuseClass } from './fuse-native-types.js';

let loaded: { fuse: NativeFuseClass } | { error: unknown } | undefined;

/** fuse-native's `Fuse` class, or the load error. Cached after the first call. */
export function loadFuseNative(): { fuse: NativeFuseClass } | { error: unknown } {
  if (loaded === undefined) {
    try {
      const require = createRequire(import.meta.url);
      loaded = { fuse: require('fuse-native') as NativeFuseClass };
    } catch (error) {
      loaded = { error };
    }
  }
  return loaded;
}
