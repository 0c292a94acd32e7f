// The demo's Plan panel (demo/plan.ts): the cost model of `webgnn plan` run in the page. It plans SAGE on
// ogbn-papers100M for a 4 GiB browser tab over 8, 64 and 1024 workers, draws the sweep, lists the rows and
// notes, and refuses a bad field naming it. No GPU work: the panel does not wait for the trainer.

import { test, expect, type Page } from '@playwright/test';

const DEMO = '/demo/';

async function openPlan(page: Page, problems: string[]): Promise<void> {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(DEMO);
  // The default sweep is planned when the page opens.
  await expect(page.locator('#plan-panel')).toHaveAttribute('data-state', 'done');
}

async function choose(page: Page, dataset: string, device: string): Promise<void> {
  await page.selectOption('#plan-dataset', dataset);
  await page.selectOption('#plan-model', 'sage');
  await page.fill('#plan-layers', '3');
  await page.fill('#plan-hidden', '256');
  await page.selectOption('#plan-mode', 'sar');
  await page.selectOption('#plan-device', device);
  await page.fill('#plan-memory', '4');
}

/** The browser tab's measured profile when it is shipped, else the laptop GPU's (both are offered). */
async function tabProfile(page: Page): Promise<string> {
  const names = await page.locator('#plan-device option:not([disabled])').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  const name = ['browser-tab-swiftshader', 'nvidia-rtx-3060-laptop'].find((n) => names.includes(n));
  expect(name, `no tab or laptop profile among ${names.join(', ')}`).toBeTruthy();
  return name!;
}

test('plans SAGE on ogbn-papers100M for a 4 GiB tab over 8, 64 and 1024 workers', async ({ page }) => {
  const problems: string[] = [];
  await page.setViewportSize({ width: 1400, height: 1000 });
  await openPlan(page, problems);
  const device = await tabProfile(page);
  await choose(page, 'ogbn-papers100M', device);
  await page.fill('#plan-workers', '8,64,1024');
  await page.click('#plan-run');
  const rows = page.locator('#plan-table tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(page.locator('#plan-panel')).toHaveAttribute('data-state', 'done');
  await expect(page.locator('#plan-status')).toHaveClass(/ok/);

  const table = await rows.evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })));
  expect(table.map((r) => Number(r.workers))).toEqual([8, 64, 1024]);
  const peaks = table.map((r) => Number(r.peakBytes));
  for (const p of peaks) expect(p).toBeGreaterThan(0);
  expect(peaks[1]).toBeLessThan(peaks[0]);
  expect(peaks[2]).toBeLessThan(peaks[1]);
  // 8 and 64 tabs are far from fitting 4 GiB (hundreds and tens of GiB, as the command line prints);
  // every row's verdict is its peak against the 4 GiB given.
  expect(peaks[0] / 2 ** 30).toBeGreaterThan(100);
  expect(peaks[1] / 2 ** 30).toBeGreaterThan(8);
  expect(table.map((r) => r.fits)).toEqual(peaks.map((p) => String(p <= 4 * 2 ** 30)));
  await expect(rows.nth(0).locator('td').nth(1)).toContainText('GiB');

  // The charts: one uPlot canvas each, with a point per worker count.
  for (const id of ['#plan-memory-chart', '#plan-time-chart']) {
    await expect(page.locator(`${id} canvas`)).toHaveCount(1);
    await expect(page.locator(id)).toHaveAttribute('data-points', '3');
    await expect(page.locator(id)).not.toHaveClass(/empty/);
  }
  await expect(page.locator('#plan-memory-chart .u-legend')).toContainText('device memory');

  // The notes: where the graph's sizes and the partition figures come from, and the memory given here.
  const notes = page.locator('#plan-notes');
  await expect(notes).toContainText('ogbn-papers100M');
  await expect(notes).toContainText('4.00 GiB given here');
  await expect(page.locator('#plan-partitions')).toContainText('modelled');
  await page.locator('#plan-panel').screenshot({ path: 'test-results/demo/plan.png' });
  expect(problems).toEqual([]);
});

test('pipe clips the sweep to the layer count and says so', async ({ page }) => {
  const problems: string[] = [];
  await openPlan(page, problems);
  await choose(page, 'reddit', await tabProfile(page));
  await page.selectOption('#plan-mode', 'pipe');
  await page.fill('#plan-workers', '1,2,4,8');
  await page.click('#plan-run');
  await expect(page.locator('#plan-table tbody tr')).toHaveCount(2);
  await expect(page.locator('#plan-status')).toContainText('Workers clipped to 3');
  await expect(page.locator('#plan-notes')).toContainText('Workers clipped to 3');
  await expect(page.locator('#plan-status')).toContainText('left out 4, 8');
  expect(problems).toEqual([]);
});

test('a bad field is refused in the panel, naming it', async ({ page }) => {
  const problems: string[] = [];
  await openPlan(page, problems);
  await page.fill('#plan-workers', 'abc');
  await page.click('#plan-run');
  const status = page.locator('#plan-status');
  await expect(status).toHaveClass(/error/);
  await expect(status).toContainText('Workers');
  await expect(status).toContainText("'abc'");
  await expect(page.locator('#plan-panel')).toHaveAttribute('data-state', 'error');
  // Nothing stale is left to read as this plan's.
  await expect(page.locator('#plan-table tbody tr')).toHaveCount(0);
  await expect(page.locator('#plan-memory-chart')).toHaveClass(/empty/);

  await page.fill('#plan-workers', '1,2');
  await page.fill('#plan-hidden', '0');
  await page.click('#plan-run');
  await expect(status).toContainText('Hidden units must be a positive integer');
  expect(problems).toEqual([]);
});
