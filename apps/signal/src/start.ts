// Entry point that runs the command from TypeScript source (tests spawn it with tsx);
// bin/wormhole-signal.js does the same from the build.
import { run } from './main.js';

await run();
