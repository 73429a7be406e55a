// The real `wormhole-signal` app (flags as in production: --bind, --turn-url, --turn-secret-file),
// run from TypeScript source inside the lab's server namespace.
import { run } from '../../apps/signal/src/main.js';

await run();
