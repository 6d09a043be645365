#!/usr/bin/env node
// Entry point. Turns on Node's on-disk compile cache before loading the bundled server, so every
// start after the first skips compiling it (NODE_DISABLE_COMPILE_CACHE=1 turns this off).
import module from 'node:module';

module.enableCompileCache?.();
await import('./run.js');
