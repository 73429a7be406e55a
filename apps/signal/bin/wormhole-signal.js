#!/usr/bin/env node
// The installed command. Runs the compiled app (pnpm run build produces ../dist).
import { run } from '../dist/main.js';

await run();
