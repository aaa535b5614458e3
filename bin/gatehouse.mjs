#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping). V8's code cache (in the OS temp
// dir, or NODE_COMPILE_CACHE) makes every later start of the command cheaper.
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/cli/main.ts');
