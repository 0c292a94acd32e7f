#!/usr/bin/env node
// `npm run build`: the library in dist/, the files that `webgnn`, `webgnn/node` and `webgnn/browser` load.
//
//  1. tsc -p tsconfig.build.json: src/ → dist/, one ES module per source file (so src/node/sar-thread-entry.ts,
//     which SAR starts as a worker_thread by URL, stays a file of its own), with .d.ts types and source maps.
//  2. Every shader import, `import name from '…/x.wgsl?raw';`, becomes `const name = "<the file's text>";` on
//     the same line (the line count does not change, so the source maps stay right): users need no `?raw`
//     loader, no bundler plugin and no shaders/ folder.
//  3. Relative `.ts` specifiers left in the .d.ts files become `.js`, the files that exist in dist/.
//
// Fails, naming the file, when a shader is missing or any `?raw` import is left over.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

const SHADER_IMPORT = /^import ([A-Za-z_$][\w$]*) from '([^']+\.wgsl)\?raw';$/;
const TS_SPECIFIER = /((?:from |import\()['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g;

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error('build-lib: tsc failed');
  process.exit(tsc.status ?? 1);
}

function* files(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let inlined = 0;
const problems = [];
for (const file of files(dist)) {
  const name = relative(dist, file);
  if (file.endsWith('.js')) {
    // The shader paths are relative to the source file, src/<same path>.ts.
    const from = dirname(join(src, name));
    const lines = readFileSync(file, 'utf8').split('\n');
    let changed = false;
    for (let i = 0; i < lines.length; i++) {
      const m = SHADER_IMPORT.exec(lines[i]);
      if (!m) continue;
      const shader = resolve(from, m[2]);
      if (!existsSync(shader)) {
        problems.push(`${name}:${i + 1}: shader ${relative(root, shader)} not found`);
        continue;
      }
      lines[i] = `const ${m[1]} = ${JSON.stringify(readFileSync(shader, 'utf8'))};`;
      changed = true;
      inlined++;
    }
    const text = lines.join('\n');
    if (changed) writeFileSync(file, text);
    if (text.includes('?raw')) problems.push(`${name}: a '?raw' import is left (only \`import x from '….wgsl?raw';\` lines are inlined)`);
  } else if (file.endsWith('.d.ts')) {
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(TS_SPECIFIER, '$1$2.js$3');
    if (rewritten !== text) writeFileSync(file, rewritten);
    if (rewritten.includes('?raw')) problems.push(`${name}: its types mention a '?raw' module`);
  }
}
for (const required of ['index.js', 'index.d.ts', 'node/index.js', 'browser/index.js', 'node/cli.js', 'node/sar-thread-entry.js']) {
  if (!existsSync(join(dist, required))) problems.push(`dist/${required} was not built`);
}
if (problems.length) {
  for (const p of problems) console.error(`build-lib: ${p}`);
  process.exit(1);
}
// On stderr: `npm pack --json` (which runs this as prepack) keeps stdout for its JSON.
console.error(`build-lib: dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s (${inlined} shader imports inlined)`);
