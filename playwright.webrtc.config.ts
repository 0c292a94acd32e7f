// Playwright for the WebRTC specs alone: test/browser/webrtc.spec.ts (Chromium tabs and a Node peer linked by
// WebRTC) and test/browser/rooms.spec.ts (the demo's training rooms: tabs and Node peers train one model). They must run
// inside a private network namespace (ARCHITECTURE.md, "Testing WebRTC without leaving the machine"), which
// `npm test` (scripts/run-tests.mjs) creates; by hand, as root:
//
//   unshare -n sh -c '<NETNS_SETUP from test/node/fixtures/netns.ts>; exec npx playwright test --config playwright.webrtc.config.ts'
//
// Everything (Vite's server, the signaling server, Chromium, the Node peer) then lives in that namespace: the
// pages on 127.0.0.1, the peers' candidates on the veth pair; `vite preview` also serves the room server at
// /rooms (vite.config.ts). Outside a namespace the specs refuse to run.

import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, freePort } from './playwright.config.ts';

/**
 * Plain host candidates (10.213.0.x) instead of random `<uuid>.local` names: without mDNS (none in the
 * namespace) those never resolve, and no pair would connect. Chromium keeps only the LAST --disable-features
 * switch (seen with Chromium 156: a later one brings the .local names back), so this one, after Playwright's,
 * replaces Playwright's own list (network-noise features such as OptimizationHints, PaintHolding,
 * HttpsUpgrades): harmless in a namespace with no way out, and Playwright does not export the list to merge.
 * The spec's first test checks that the candidates really are plain addresses.
 */
const DISABLE = '--disable-features=';
const disabled = ['WebRtcHideLocalIpsWithMdns', ...CHROMIUM_ARGS.filter((a) => a.startsWith(DISABLE)).flatMap((a) => a.slice(DISABLE.length).split(','))];
const WEBRTC_ARGS = [...CHROMIUM_ARGS.filter((a) => !a.startsWith(DISABLE)), DISABLE + disabled.join(',')];

process.env.WEBGNN_WEBRTC_TEST_PORT ??= String(await freePort());
const port = Number(process.env.WEBGNN_WEBRTC_TEST_PORT);
const vite = 'node node_modules/vite/bin/vite.js';
const where = `--host 127.0.0.1 --port ${port} --strictPort --logLevel warn`;
// As in playwright.config.ts: the production build (about 1 s), its own folder so that the two runs never
// share one, served by `vite preview`.
const site = 'test-results/webrtc-site';

export default defineConfig({
  testDir: 'test/browser',
  testMatch: ['webrtc.spec.ts', 'rooms.spec.ts'],
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/webrtc-results.json' }]],
  outputDir: 'test-results/webrtc-artifacts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: CHROMIUM, args: WEBRTC_ARGS },
    trace: 'off',
    screenshot: 'off',
    video: 'off',
  },
  webServer: {
    command: `${vite} build --outDir ${site} --emptyOutDir --logLevel warn && ${vite} preview --outDir ${site} ${where}`,
    url: `http://127.0.0.1:${port}/test/browser/webrtc-page/index.html`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
