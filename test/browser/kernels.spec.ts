// The shared kernel case list (test/cases/index.ts), the one test/node/kernels.test.ts runs on Dawn, run
// in Chromium's WebGPU through the kernel page: one Playwright test per case, with subgroups (when the
// adapter has them) and without. No adapter is a failure that says why, never a skip.

import { test as base, expect, type Page } from '@playwright/test';
import { allKernelCases } from '../cases/index.ts';
import type { PageAdapter } from './kernel-page/api.ts';

const PAGE = '/test/browser/kernel-page/index.html';

// One page per worker, kept across tests so each subgroup mode opens its device once. A failing test
// restarts the worker, and with it the page.
const test = base.extend<object, { kernelPage: Page }>({
  kernelPage: [
    async ({ browser }, use) => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
      });
      await page.goto(PAGE);
      await page
        .waitForFunction(() => 'kernelPage' in window, null, { timeout: 30_000 })
        .catch(() => {
          throw new Error(`the kernel page did not load: ${problems.join('; ') || 'window.kernelPage never appeared'}`);
        });
      await use(page);
      await page.close();
    },
    { scope: 'worker' },
  ],
});

test('browser offers a WebGPU adapter', async ({ kernelPage }) => {
  const adapter: PageAdapter = await kernelPage.evaluate(() => window.kernelPage.adapter());
  const subgroups = adapter.subgroupSizes ? `subgroups ${adapter.subgroupSizes.join('–')}` : 'no subgroups';
  console.log(
    adapter.name
      ? `WebGPU adapter: ${adapter.name} (${adapter.kind}; ${adapter.vendor} ${adapter.architecture}; ${subgroups}) in ${adapter.userAgent}`
      : `no WebGPU adapter: ${adapter.reason}`,
  );
  expect(adapter.name, `no WebGPU adapter in Chromium: ${adapter.reason}`).not.toBeNull();
});

test('each subgroup mode opens a device that compiles the kernels it should', async ({ kernelPage }) => {
  const adapter = await kernelPage.evaluate(() => window.kernelPage.adapter());
  for (const subgroups of [true, false]) {
    const device = await kernelPage.evaluate((subgroups) => window.kernelPage.device({ subgroups }), subgroups);
    expect(device.error, `opening the device (subgroups ${subgroups ? 'on' : 'off'})`).toBeNull();
    // 'subgroups when available' must really use them where the adapter has them, so both paths run here.
    expect(device.subgroups, device.label).toBe(subgroups && adapter.subgroupSizes !== null);
  }
});

test('kernel page lists the same cases as Node', async ({ kernelPage }) => {
  const names = await kernelPage.evaluate(() => window.kernelPage.names());
  expect(names).toEqual(allKernelCases().map((c) => c.name));
});

for (const subgroups of [true, false]) {
  test.describe(`kernels (${subgroups ? 'subgroups when available' : 'subgroups off'})`, () => {
    for (const { name } of allKernelCases()) {
      test(name, async ({ kernelPage }) => {
        const result = await kernelPage
          .evaluate(({ name, subgroups }) => window.kernelPage.runCase(name, { subgroups }), { name, subgroups })
          .catch((error: Error) => {
            if (!/context was destroyed|navigat/i.test(error.message)) throw error;
            throw new Error(
              `${error.message}\nThe kernel page reloaded during the case. With WEBGNN_TEST_DEV=1 the Vite dev server reloads ` +
                'open pages when a source file changes, or when it finds an npm dependency only after starting (add the file ' +
                'that imports it to optimizeDeps.entries in vite.config.ts).',
            );
          });
        if (!result.ok) {
          // The message carries the browser's stack; without its own, Playwright shows it once.
          const error = new Error(result.error ?? `${name} failed`);
          error.stack = error.message;
          throw error;
        }
      });
    }
  });
}
