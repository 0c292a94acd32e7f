// Playwright runs test/browser/*.spec.ts in Debian's Chromium (/usr/bin/chromium, never a downloaded
// browser), headless, with WebGPU on SwiftShader when the machine has no GPU, against pages that Vite serves
// on 127.0.0.1 (a secure context, which WebGPU requires), on a free port.

import { register } from 'node:module';
import { createServer } from 'node:net';
import { defineConfig } from '@playwright/test';

// The specs import the shared kernel case list (for its names), whose ops import shaders as `?raw`:
// the same Node hook the node:test suites use lets that import load here too. Workers load this file too.
register('./scripts/wgsl-hooks.mjs', import.meta.url);

export const CHROMIUM = process.env.WEBGNN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags found by experiment with Chromium 156 on Debian 12 without a GPU: `--enable-unsafe-webgpu` alone
 * gives WebGPU on SwiftShader's Vulkan (adapter "google / swiftshader", subgroups of 4). Playwright also
 * passes `--enable-unsafe-swiftshader`; it is repeated here so the set does not depend on Playwright's
 * defaults. The rest keep the browser from reaching out (this machine has no network beyond loopback).
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  // Chromium refuses to start as root with its sandbox on.
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

/** A free port on 127.0.0.1, chosen once by the runner; its workers inherit it through the environment. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

process.env.WEBGNN_TEST_PORT ??= String(await freePort());
const port = Number(process.env.WEBGNN_TEST_PORT);
const vite = 'node node_modules/vite/bin/vite.js';
const where = `--host 127.0.0.1 --port ${port} --strictPort --logLevel warn`;
// The production build (into test-results/site, leaving site/ and dist/ alone), served by `vite preview`: the pages as
// they ship, shaders bundled as strings, and nothing that changes under a running test. (The dev server
// re-bundles npm dependencies it discovers late and then reloads every open page.) WEBGNN_TEST_DEV=1 tests
// against the dev server instead, the one `npm run demo` starts.
const site = 'test-results/site';
const server =
  process.env.WEBGNN_TEST_DEV === '1'
    ? `${vite} ${where}`
    : `${vite} build --outDir ${site} --emptyOutDir --logLevel warn && ${vite} preview --outDir ${site} ${where}`;

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  // WebRTC peers (and the rooms they train in) run in their own Playwright run inside a private network
  // namespace (playwright.webrtc.config.ts).
  testIgnore: ['**/webrtc.spec.ts', '**/rooms.spec.ts'],
  // Two cores: one worker, and the browser's GPU process gets the other core.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  // A failed test restarts the worker and its browser (a few seconds here): when everything fails (no WebGPU,
  // a broken shared kernel), stop after enough failures to diagnose rather than run for many minutes.
  maxFailures: 30,
  // SwiftShader is slow; the largest kernel cases take a few seconds there.
  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/browser-results.json' }]],
  outputDir: 'test-results/artifacts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    trace: 'off',
    screenshot: 'off',
    video: 'off',
  },
  webServer: {
    command: server,
    url: `http://127.0.0.1:${port}/test/browser/kernel-page/index.html`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
