#!/usr/bin/env node
// The `webgnn` command: runs the TypeScript CLI directly and exits explicitly (dawn.node keeps the
// process alive while its instance is referenced).
await import('./register.mjs');
const { main } = await import('../src/node/cli.ts');
process.exit(await main(process.argv));
