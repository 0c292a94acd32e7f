// `npm test`: type-checks, then runs every Node suite (test/node/*.test.ts) with node's test runner,
// whose closing summary ("# pass N", "# fail N") CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

const only = process.argv.slice(2);
const files = only.length
  ? only
  : readdirSync(join(root, 'test/node'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test/node', f));

if (!only.length) {
  console.log('type-checking (tsc --noEmit)…');
  const tsc = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.', '--noEmit']);
  if (tsc !== 0) {
    console.error('type check failed');
    process.exit(tsc);
  }
}
process.exit(run(process.execPath, ['--import', './scripts/register.mjs', '--test', '--test-reporter=spec', ...files]));
