// `npm test`: type-checks, runs every Node suite (test/node/*.test.ts, test/package/*.test.ts) with node's test runner on Dawn,
// then every browser spec (test/browser/*.spec.ts) with Playwright in Chromium, then the WebRTC specs
// (Chromium tabs and Node peers: the transport, and training rooms) with playwright.webrtc.config.ts inside a
// private network namespace, and
// ends with one line "N passed, N failed" over all of them, which CI reads. Exits non-zero when any part fails.
//
//   node scripts/run-tests.mjs                         everything
//   node scripts/run-tests.mjs test/node/x.test.ts     only those files (no type check); .spec.ts files go
//                                                      to Playwright, .test.ts files to node's runner, and
//                                                      test/browser/webrtc.spec.ts and rooms.spec.ts to
//                                                      their namespaced run
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Written by the json reporter configured in playwright.config.ts.
const BROWSER_RESULTS = join(root, 'test-results/browser-results.json');
// WebRTC links peers only inside a network namespace of their own (ARCHITECTURE.md, "Testing WebRTC without
// leaving the machine"): these specs run under their own config there; playwright.config.ts's run skips them.
const WEBRTC_SPECS = ['test/browser/webrtc.spec.ts', 'test/browser/rooms.spec.ts'];
const WEBRTC_CONFIG = 'playwright.webrtc.config.ts';
// Written by the json reporter configured in playwright.webrtc.config.ts.
const WEBRTC_RESULTS = join(root, 'test-results/webrtc-results.json');

/** Runs a command with stdout passed through and kept, so its closing summary can be read. */
function runTee(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-65536);
    });
    child.on('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`);
      resolve({ status: 1, output: tail });
    });
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 1 : 0), output: tail }));
  });
}

const listed = (dir, suffix) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));

const only = process.argv.slice(2);
const isWebRtcSpec = (f) => WEBRTC_SPECS.some((spec) => resolve(root, f) === join(root, spec));
// The namespaced specs asked for by name (relative to the root, as Playwright matches them); all when none.
const webRtcFiles = only.filter(isWebRtcSpec).map((f) => relative(root, resolve(root, f)));
// test/package: the packed tarball installed in an empty project, used from Node, tsc and Chromium.
const nodeFiles = only.length ? only.filter((f) => !f.endsWith('.spec.ts')) : [...listed('test/node', '.test.ts'), ...listed('test/package', '.test.ts')];
const browserFiles = only.length ? only.filter((f) => f.endsWith('.spec.ts') && !isWebRtcSpec(f)) : [];
const runBrowser = only.length === 0 || browserFiles.length > 0;
const runWebRtc = only.length === 0 || only.some(isWebRtcSpec);

/** A summary part from a Playwright run's json report. */
function playwrightPart(name, status, resultsFile) {
  let stats = null;
  try {
    stats = JSON.parse(readFileSync(resultsFile, 'utf8')).stats;
  } catch {
    // No report: Playwright failed before running tests (no browser, web server did not start, …).
  }
  return {
    name,
    ok: status === 0 && stats !== null,
    passed: stats ? stats.expected + stats.flaky : 0,
    failed: stats ? stats.unexpected : 1,
    skipped: stats ? stats.skipped : 0,
    note: stats ? '' : `no results in ${resultsFile}`,
  };
}

if (!only.length) {
  console.log('type-checking (tsc --noEmit)…');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.', '--noEmit'], {
    cwd: root,
    stdio: 'inherit',
  }).status;
  if (tsc !== 0) {
    console.error('type check failed');
    process.exit(tsc ?? 1);
  }
}

const parts = [];

if (nodeFiles.length) {
  console.log(`\nnode:test on Dawn: ${nodeFiles.length} file(s)`);
  const { status, output } = await runTee(process.execPath, [
    '--import',
    './scripts/register.mjs',
    '--test',
    '--test-reporter=spec',
    ...nodeFiles,
  ]);
  // The spec reporter closes with "ℹ pass N" / "ℹ fail N" (tap with "# pass N").
  const count = (what) => {
    const all = [...output.matchAll(new RegExp(`^[ℹ#] ${what} (\\d+)\\s*$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const passed = count('pass');
  const failed = (count('fail') ?? 0) + (count('cancelled') ?? 0);
  parts.push({
    name: 'node:test (Dawn)',
    ok: status === 0 && passed !== null,
    passed: passed ?? 0,
    failed: passed === null && failed === 0 ? 1 : failed,
    skipped: count('skipped') ?? 0,
    note: passed === null ? 'no summary from node --test' : '',
  });
}

if (runBrowser) {
  console.log(`\nPlaywright in Chromium: ${browserFiles.length ? browserFiles.join(' ') : 'test/browser/*.spec.ts'}`);
  rmSync(BROWSER_RESULTS, { force: true });
  const { status } = await runTee(process.execPath, [
    join(root, 'node_modules/@playwright/test/cli.js'),
    'test',
    ...browserFiles,
  ]);
  parts.push(playwrightPart('Playwright (Chromium)', status, BROWSER_RESULTS));
}

if (runWebRtc) {
  // The same namespace as the Node WebRTC tests (netns.ts): root, unshare and ip are required.
  const { NETNS_SETUP, netnsUnavailable } = await tsImport('../test/node/fixtures/netns.ts', import.meta.url);
  const unavailable = netnsUnavailable();
  if (unavailable) {
    // Its tests count as skipped in the summary (as many as Playwright lists), not as nothing.
    const listed = spawnSync(process.execPath, [join(root, 'node_modules/@playwright/test/cli.js'), 'test', '--config', WEBRTC_CONFIG, '--list', ...webRtcFiles], {
      cwd: root,
      encoding: 'utf8',
    });
    const total = /^Total: (\d+) tests? in/m.exec(listed.stdout ?? '');
    const skipped = total ? Number(total[1]) : 1;
    console.log(`\nPlaywright WebRTC spec skipped (${total ? `${skipped} tests` : 'its tests could not be listed'}): ${unavailable}`);
    parts.push({ name: 'Playwright (WebRTC)', ok: true, passed: 0, failed: 0, skipped, note: `skipped: ${unavailable}` });
  } else {
    console.log(`\nPlaywright WebRTC (Chromium tabs and Node peers) in a private network namespace: ${(webRtcFiles.length ? webRtcFiles : WEBRTC_SPECS).join(' ')}`);
    rmSync(WEBRTC_RESULTS, { force: true });
    // Vite, the signaling server, Chromium and the Node peer all live in the namespace; the command line is
    // passed as sh's positional parameters, so nothing needs quoting.
    const { status } = await runTee('unshare', [
      '-n',
      'sh',
      '-c',
      `${NETNS_SETUP}; exec "$0" "$@"`,
      process.execPath,
      join(root, 'node_modules/@playwright/test/cli.js'),
      'test',
      '--config',
      WEBRTC_CONFIG,
      ...webRtcFiles,
    ]);
    parts.push(playwrightPart('Playwright (WebRTC)', status, WEBRTC_RESULTS));
  }
}

const sum = (key) => parts.reduce((s, p) => s + p[key], 0);
const line = (p) => `${p.passed} passed, ${p.failed} failed${p.skipped ? `, ${p.skipped} skipped` : ''}`;
console.log('');
for (const p of parts) console.log(`  ${p.name.padEnd(21)} ${line(p)}${p.ok ? '' : ' (FAILED)'}${p.note ? ` — ${p.note}` : ''}`);
const total = { passed: sum('passed'), failed: sum('failed'), skipped: sum('skipped') };
console.log(line(total));
process.exit(parts.every((p) => p.ok) ? 0 : 1);
