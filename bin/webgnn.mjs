#!/usr/bin/env node
// The package's `webgnn` command: the built CLI (dist/node/cli.js), plain JavaScript, so an installed package
// needs no TypeScript loader. In a source checkout (src/ beside bin/; the package ships no src/) it runs the
// sources instead, through scripts/webgnn.mjs (tsx), so that `npx webgnn` there never runs a stale dist/.
// Exits explicitly: dawn.node keeps the process alive while its instance is referenced.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/node/cli.ts', import.meta.url))) {
  await import('../scripts/webgnn.mjs');
} else {
  const { main } = await import('../dist/node/cli.js');
  process.exit(await main(process.argv));
}
