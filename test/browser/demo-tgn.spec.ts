// The demo's TGN task in headless Chromium (WebGPU on SwiftShader here): link prediction on the first
// 1,500 events of the embedded CollegeMsg with small sizes, set half through the page's address and half
// through the form; live plots, per-epoch AP, results, stop after a batch, and clear refusals.

import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'test-results/demo';
/** A prefix of CollegeMsg small enough for a software adapter: ~750 training, ~225 validation and ~225 test events. */
const SMALL = 'task=tgn&events=1500&memory-dim=16&neighbors=5';

/**
 * APs a trained model reaches on SMALL (seed 0, batches of 100, 2 epochs; 1:1 negatives, so chance is
 * about 0.5), measured in this page (Chromium, SwiftShader) and with the CLI on lavapipe
 * (`webgnn train-temporal --events 1500 --memory-dim 16 --neighbors 5 --batch-size 100 --epochs 2`):
 *
 * |                              | best val AP | its test AP | inductive AP | val AP, epoch 1 → 2 |
 * | sequential, page             | 0.745       | 0.673       | 0.661        | 0.637 → 0.745       |
 * | sequential, CLI              | 0.770       | 0.705       | 0.709        |                     |
 * | sequential, untrained (both) | 0.673       | 0.647       | 0.633        | 0.673 → 0.673       |
 * | staleness auto, page (k 1)   | 0.738       | 0.641       | 0.662        | 0.609 → 0.738       |
 * | staleness auto, CLI, 2 runs  | 0.719–0.763 | 0.663–0.676 | 0.662–0.668  |                     |
 * | staleness auto, untrained    | 0.621       | 0.640       | 0.630        | 0.621 → 0.621       |
 *
 * "Untrained" is --lr 1e-12 (the tgn-lr field): the memory still updates, so a fixed random model is
 * already well above chance on test AP, and after 2 epochs test AP hardly tells training from none.
 * Validation AP does: the bounds below lie ~0.035 under the lowest trained figure (room for another
 * adapter's rounding and, under auto, another k chosen from timings) and above every untrained one, and
 * a trained model's validation AP rises by 0.1 or more from epoch 1 to 2 where an untrained one's stays.
 * Test and inductive AP are held to above chance only.
 */
const MIN_VAL_AP = 0.71;
const MIN_AUTO_VAL_AP = 0.685;
const MIN_VAL_AP_RISE = 0.05;
const ABOVE_CHANCE_AP = 0.6;

mkdirSync(OUT, { recursive: true });

/** Opens the demo at `query` and waits until the GPU is up and CollegeMsg is loaded; collects page errors. */
async function openTgn(page: Page, query: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(`/demo/?${query}`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 }).catch(async () => {
    throw new Error(`the demo did not get ready: ${await page.locator('#run-status').textContent()} ${problems.join('; ')}`);
  });
  await expect(page.locator('#tgn-dataset-status')).toContainText('59,835 events');
  return problems;
}

test('TGN trains on the first 1,500 CollegeMsg events: live loss, AP per epoch, test AP of the best epoch', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  const problems = await openTgn(page, SMALL);
  // The address chose the task and set the stream and sizes; the node-classification form is hidden.
  await expect(page.locator('#task')).toHaveValue('tgn');
  await expect(page.locator('#tgn-events')).toHaveValue('1500');
  await expect(page.locator('#tgn-memory-dim')).toHaveValue('16');
  await expect(page.locator('#tgn-neighbors')).toHaveValue('5');
  await expect(page.locator('#hidden')).toBeHidden();
  await expect(page.locator('#acc-chart')).toBeHidden();
  // The rest through the form.
  await page.fill('#tgn-epochs', '2');
  await page.fill('#tgn-batch-size', '100');
  const started = Date.now();
  await page.click('#train');
  await expect(page.locator('#tgn-split')).toContainText('first 1500 events');
  await expect(page.locator('#tgn-result')).toBeVisible({ timeout: 100_000 });
  const seconds = (Date.now() - started) / 1000;
  await expect(page.locator('#run-status')).not.toHaveClass(/error/);
  await expect(page.locator('#run-status')).toContainText('Finished after 2 of 2 epochs');

  // Two epochs plotted and tabulated, with AP values in [0, 1].
  await expect(page.locator('#tgn-ap-chart')).toHaveAttribute('data-points', '2');
  const rows = await page.locator('#tgn-epochs-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })));
  expect(rows.map((r) => Number(r.epoch))).toEqual([1, 2]);
  for (const row of rows) {
    for (const key of ['valAp', 'testAp', 'testAuc', 'inductiveAp']) {
      const v = Number(row[key]);
      expect(Number.isFinite(v), `${key} of epoch ${row.epoch} is ${row[key]}`).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(Number(row.loss)).toBeGreaterThan(0);
    expect(Number(row.eventsPerSecond)).toBeGreaterThan(0);
    // The default is the sequential algorithm: no batch reads stale memory.
    expect(Number(row.stalenessMean)).toBe(0);
  }
  // Every training batch's loss reached the plot (~750 events in batches of 100, twice).
  expect(Number(await page.locator('#tgn-loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(2 * 7);

  // The results: the best validation epoch's test AP, AUC and inductive AP, those of a trained model.
  const testAp = Number(await page.locator('#tgn-test-ap').getAttribute('data-value'));
  const best = rows.find((r) => Number(r.testAp) === testAp);
  expect(best, `test AP ${testAp} is none of the epochs'`).toBeDefined();
  expect(Number(best!.valAp)).toBe(Math.max(...rows.map((r) => Number(r.valAp))));
  expect(Number(best!.valAp)).toBeGreaterThanOrEqual(MIN_VAL_AP);
  expect(Number(rows[1].valAp) - Number(rows[0].valAp)).toBeGreaterThanOrEqual(MIN_VAL_AP_RISE);
  expect(testAp).toBeGreaterThanOrEqual(ABOVE_CHANCE_AP);
  expect(testAp).toBeLessThanOrEqual(1);
  await expect(page.locator('#tgn-test-ap')).toHaveText(testAp.toFixed(4));
  await expect(page.locator('#tgn-result-detail')).toContainText('Best validation AP');
  const inductiveAp = Number(await page.locator('#tgn-inductive-ap').getAttribute('data-value'));
  expect(inductiveAp).toBeGreaterThanOrEqual(ABOVE_CHANCE_AP);
  expect(inductiveAp).toBeLessThanOrEqual(1);
  await expect(page.locator('#train')).toBeEnabled();
  console.log(`TGN on 1,500 CollegeMsg events, 2 epochs: ${seconds.toFixed(1)} s, test AP ${testAp.toFixed(4)}, inductive AP ${inductiveAp.toFixed(4)}`);

  // Export the checkpoint; the command line the page prints continues it (here for one more epoch).
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tgn-export')]);
  expect(download.suggestedFilename()).toBe('webgnn-tgn-collegemsg-epoch2.ckpt');
  const file = join(OUT, download.suggestedFilename());
  await download.saveAs(file);
  await expect(page.locator('#tgn-export-status')).toContainText('npx webgnn train-temporal --events 1500 --batch-size 100');
  await page.screenshot({ path: join(OUT, 'demo-tgn-collegemsg.png'), fullPage: true });
  const shown = (await page.locator('#tgn-export-status').textContent())!.split('\n').pop()!;
  expect(shown).toMatch(/--epochs 12 --resume webgnn-tgn-collegemsg-epoch2\.ckpt$/);
  const args = shown.replace(/^npx webgnn /, '').replace('--epochs 12', '--epochs 3').replace(download.suggestedFilename(), file).split(' ');
  const cli = spawnSync(process.execPath, ['scripts/webgnn.mjs', ...args, '--json', '--no-progress'], { encoding: 'utf8', timeout: 120_000 });
  expect(cli.status, cli.stderr).toBe(0);
  const resumed = JSON.parse(cli.stdout.trim().split('\n').pop()!);
  expect(resumed.epochs).toBe(3);
  expect(cli.stderr).toMatch(/epoch 3: /);
  expect(cli.stderr).not.toMatch(/epoch 1: /);
  // The page's best epoch carried over: the run's best is epoch 2 or 3 of the page's validation APs, never lower.
  expect(resumed.val_ap).toBeGreaterThanOrEqual(Math.max(...rows.map((r) => Number(r.valAp))) - 1e-9);

  // Back to node classification: its form and board are as before.
  await page.selectOption('#task', 'node');
  await expect(page.locator('#hidden')).toBeVisible();
  await expect(page.locator('#tgn-result')).toBeHidden();
  await expect(page.locator('#dataset-status')).toContainText('2,708 nodes');
  expect(problems).toEqual([]);
});

test('Pause waits between epochs, Stop ends a TGN run after the current batch, and bad settings are refused clearly', async ({ page }) => {
  const problems = await openTgn(page, `${SMALL}&epochs=5&batch-size=50&colour=blue`);
  // An unknown address parameter is named, the others applied.
  await expect(page.locator('#run-status')).toContainText('colour: not a setting of this task');
  await expect(page.locator('#tgn-epochs')).toHaveValue('5');
  await page.click('#train');
  await expect(page.locator('#tgn-progress')).toContainText('Epoch 1 of 5 · training', { timeout: 60_000 });
  await page.click('#pause');
  await expect(page.locator('#run-status')).toContainText('Paused after epoch 1', { timeout: 60_000 });
  await expect(page.locator('#tgn-ap-chart')).toHaveAttribute('data-points', '1');
  await page.click('#pause');
  // Stop in the middle of epoch 2: no metrics for it, the results are epoch 1's.
  await expect(page.locator('#tgn-progress')).toContainText('Epoch 2 of 5 · training', { timeout: 60_000 });
  await page.click('#stop');
  await expect(page.locator('#tgn-result')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#run-status')).toContainText('Stopped after 1 of 5 epochs');
  await expect(page.locator('#tgn-epochs-table tbody tr')).toHaveCount(1);

  // Too few events to split into train, validation and test.
  await page.fill('#tgn-events', '1');
  await page.click('#train');
  await expect(page.locator('#run-status')).toHaveClass(/error/, { timeout: 30_000 });
  await expect(page.locator('#run-status')).toContainText('every set needs events');
  // A field the form refuses before anything runs.
  await page.fill('#tgn-events', '1500');
  await page.fill('#tgn-lr', '0');
  await page.click('#train');
  await expect(page.locator('#run-status')).toContainText("Learning rate must be a positive number, got '0'");
  await page.fill('#tgn-lr', '0.0001');
  await page.fill('#tgn-staleness', 'two');
  await page.click('#train');
  await expect(page.locator('#run-status')).toContainText("Staleness must be a non-negative integer or 'auto', got 'two'");
  // GPU memory cannot be pipelined: refused by the worker before a run starts.
  await page.fill('#tgn-staleness', '1');
  await page.selectOption('#tgn-memory', 'device');
  await page.click('#train');
  await expect(page.locator('#run-status')).toHaveClass(/error/, { timeout: 30_000 });
  await expect(page.locator('#run-status')).toContainText('Staleness 1 needs node memory in host RAM');
  await expect(page.locator('#train')).toBeEnabled();
  expect(problems).toEqual([]);
});

test('MSPipe in the page: staleness auto from the address trains with memory in host RAM and reports the chosen k', async ({ page }) => {
  const problems = await openTgn(page, `${SMALL}&epochs=2&batch-size=100&staleness=auto`);
  await expect(page.locator('#tgn-staleness')).toHaveValue('auto');
  await page.click('#train');
  await expect(page.locator('#tgn-result')).toBeVisible({ timeout: 200_000 });
  await expect(page.locator('#run-status')).toContainText('Finished after 2 of 2 epochs');
  const rows = await page.locator('#tgn-epochs-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })));
  expect(rows).toHaveLength(2);
  // auto never picks k below 1 (k = 0 is the sequential algorithm, chosen with --staleness 0).
  for (const row of rows) expect(Number(row.stalenessMean)).toBeGreaterThanOrEqual(1);
  // Stale memory and all, the model learns: its best validation AP is a trained model's.
  const bestVal = Math.max(...rows.map((r) => Number(r.valAp)));
  expect(bestVal).toBeGreaterThanOrEqual(MIN_AUTO_VAL_AP);
  expect(bestVal).toBeLessThanOrEqual(1);
  expect(Number(rows[1].valAp) - Number(rows[0].valAp)).toBeGreaterThanOrEqual(MIN_VAL_AP_RISE);
  console.log(`TGN with staleness auto, 2 epochs: best val AP ${bestVal.toFixed(4)}, k ${rows.map((r) => r.stalenessMean).join(', ')}`);
  await expect(page.locator('#tgn-result-detail')).toContainText(/MSPipe \(staleness auto\): k was \d\.\d\d on average and at most \d+/);
  expect(problems).toEqual([]);
});
