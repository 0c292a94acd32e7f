// The demo as a person uses it, in headless Chromium (WebGPU on SwiftShader here): train GCN on Cora,
// reload mid-run and resume, import a checkpoint made by the CLI, refuse a malformed dataset, and
// explain a browser without WebGPU. Screenshots and timings go to test-results/demo/.

import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEMO = '/demo/';
const OUT = 'test-results/demo';
/** Test accuracy the issue asks of GCN on Cora after 200 epochs (the paper reports 81.5 %). */
const MIN_TEST_ACC = 0.78;
// SwiftShader is a CPU rasteriser: a GCN epoch on Cora takes one to a few seconds here.
const LONG = 20 * 60_000;

mkdirSync(OUT, { recursive: true });
const timings: Record<string, unknown> = {};
/** Adds this run's figures to test-results/demo/timings.json (tests run one at a time may each add some). */
function saveTimings(): void {
  const file = join(OUT, 'timings.json');
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // first figures of this run
  }
  writeFileSync(file, JSON.stringify({ ...previous, ...timings }, null, 2) + '\n');
}

/** Opens the demo and waits until the GPU is up and Cora is loaded; fails with the page's own words otherwise. */
async function openDemo(page: Page): Promise<void> {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(DEMO);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 }).catch(async () => {
    const status = await page.locator('#run-status').textContent();
    throw new Error(`the demo did not get ready: ${status} ${problems.join('; ')}`);
  });
  await expect(page.locator('#dataset-status')).toContainText('2,708 nodes');
}

async function setEpochs(page: Page, epochs: number, checkpointEvery = 10): Promise<void> {
  await page.fill('#epochs', String(epochs));
  await page.fill('#checkpoint-every', String(checkpointEvery));
}

async function waitForResult(page: Page, timeout = LONG): Promise<number> {
  await expect(page.locator('#result')).toBeVisible({ timeout });
  await expect(page.locator('#run-status')).not.toHaveClass(/error/);
  return Number(await page.locator('#test-acc').getAttribute('data-value'));
}

function webgnn(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['scripts/webgnn.mjs', ...args, '--json', '--no-progress'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`webgnn ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

test('trains GCN on Cora for 200 epochs to at least 78 % test accuracy', async ({ page }) => {
  test.setTimeout(LONG);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await openDemo(page);
  await expect(page.locator('#adapter-badge')).toHaveClass(/ok/);
  await page.selectOption('#model', 'gcn');
  await setEpochs(page, 200);
  await page.click('#train');
  // The page stays responsive while the worker trains: the plot's legend and the form answer at once.
  await expect(page.locator('#stat-epoch')).toContainText('/ 200', { timeout: 120_000 });
  const responsive = await page.evaluate(async () => {
    const start = performance.now();
    await new Promise((resolve) => requestAnimationFrame(resolve));
    return performance.now() - start;
  });
  expect(responsive).toBeLessThan(500);
  const acc = await waitForResult(page);
  await expect(page.locator('#run-status')).toContainText(/Finished|Stopped early/);
  await expect(page.locator('#confusion tbody tr')).toHaveCount(7);
  await page.screenshot({ path: join(OUT, 'demo-gcn-cora-200.png'), fullPage: true });
  await test.info().attach('demo after 200 epochs', { path: join(OUT, 'demo-gcn-cora-200.png'), contentType: 'image/png' });
  timings.browser_gcn_cora = {
    test_acc: acc,
    epoch_ms_median: Number(await page.locator('#run-status').getAttribute('data-epoch-ms-median')),
    // performance.now() at the first epoch's metrics: milliseconds since the page was opened.
    first_epoch_done_ms_after_open: Number(await page.locator('#timings').getAttribute('data-first-epoch-ms')),
    // The first epoch's own time (kernel compilation included), as the worker measured it.
    first_epoch_ms: Number(await page.locator('#timings').getAttribute('data-first-epoch-itself-ms')),
    adapter: await page.locator('#adapter-badge').textContent(),
  };
  saveTimings();
  expect(acc).toBeGreaterThanOrEqual(MIN_TEST_ACC);
});

test('choosing GAT fills in its published hyperparameters and trains it with fused attention', async ({ page }) => {
  test.setTimeout(LONG);
  await openDemo(page);
  await page.selectOption('#model', 'gat');
  await expect(page.locator('#hidden')).toHaveValue('8');
  await expect(page.locator('#lr')).toHaveValue('0.005');
  await expect(page.locator('#dropout')).toHaveValue('0.6');
  await expect(page.locator('#heads')).toHaveValue('8');
  await setEpochs(page, 15, 5);
  await page.click('#train');
  const acc = await waitForResult(page);
  // 15 epochs are far from converged; well above chance (1/7) shows the attention layers learn.
  expect(acc).toBeGreaterThan(0.3);
  await expect(page.locator('#confusion tbody tr')).toHaveCount(7);
});

/** Epochs of the resume test: enough for checkpoints at 10 and 20 and a reload while training goes on. */
const RESUME_EPOCHS = 60;
/**
 * What that run reaches: 60 epochs of GCN on Cora give 0.785 test accuracy (best validation epoch) in
 * the CLI on lavapipe; 0.75 leaves room for another adapter's rounding while far above chance (1/7).
 */
const MIN_RESUME_ACC = 0.75;

test('a reload mid-training offers to resume, and training continues from the saved epoch to the uninterrupted run\'s result', async ({ page }) => {
  test.setTimeout(LONG);
  await openDemo(page);
  await setEpochs(page, RESUME_EPOCHS, 10);
  await page.click('#train');
  // Pause and resume act between epochs.
  await expect(page.locator('#stat-epoch')).toContainText(`/ ${RESUME_EPOCHS}`, { timeout: 120_000 });
  await page.click('#pause');
  await expect(page.locator('#run-status')).toContainText('Paused after epoch', { timeout: 60_000 });
  const pausedAt = await page.locator('#stat-epoch').textContent();
  await page.waitForTimeout(3_000);
  expect(await page.locator('#stat-epoch').textContent()).toBe(pausedAt);
  await page.click('#pause');
  // Reload once a checkpoint of epoch 20 or later is in IndexedDB.
  await expect
    .poll(async () => Number((await page.locator('#checkpoint-status').getAttribute('data-epoch')) ?? 0), { timeout: 300_000, intervals: [1_000] })
    .toBeGreaterThanOrEqual(20);
  await page.reload();
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const banner = page.locator('#resume-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('interrupted at epoch');
  const saved = Number(await banner.getAttribute('data-epoch'));
  expect(saved).toBeGreaterThanOrEqual(20);
  await page.click('#resume-saved');
  const acc = await waitForResult(page);
  // It resumed from the checkpoint, not from zero, and the plots kept the epochs before the reload.
  expect(Number(await page.locator('#run-status').getAttribute('data-start-epoch'))).toBe(saved);
  await expect(page.locator('#run-status')).toContainText(`resumed from epoch ${saved}`);
  await page.screenshot({ path: join(OUT, 'demo-resumed.png'), fullPage: true });
  expect(acc).toBeGreaterThanOrEqual(MIN_RESUME_ACC);
  // Training is deterministic (dropout masks keyed by seed and epoch, optimizer state checkpointed):
  // the resumed run has the losses, epoch by epoch, and ends with the very weights of an uninterrupted
  // one, trained here from scratch.
  const losses = async () => (await page.locator('#stat-loss').getAttribute('data-losses'))!.split(',').map(Number);
  const resumedLosses = await losses();
  expect(resumedLosses).toHaveLength(RESUME_EPOCHS);
  await page.click('#train');
  await expect(page.locator('#run-status')).toHaveAttribute('data-start-epoch', '0');
  const uninterruptedAcc = await waitForResult(page);
  expect(Number(await page.locator('#run-status').getAttribute('data-start-epoch'))).toBe(0);
  expect(resumedLosses).toEqual(await losses());
  expect(acc).toBe(uninterruptedAcc);
});

test('a checkpoint trained by the CLI gives the same test accuracy in the page, and the page exports one the CLI resumes', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'webgnn-demo-'));
  const nodeCkpt = join(dir, 'node.ckpt');
  const node = webgnn('train', '--dataset', 'cora', '--model', 'gcn', '--epochs', '30', '--checkpoint', nodeCkpt);
  const nodeAcc = node.final_test_acc as number;
  expect(typeof nodeAcc).toBe('number');

  await openDemo(page);
  await page.setInputFiles('#import', nodeCkpt);
  await expect(page.locator('#checkpoint-status')).toContainText('trained 30 epochs');
  await page.click('#evaluate');
  const pageAcc = await waitForResult(page, 120_000);
  timings.node_checkpoint = { node_adapter: node.adapter, node_final_test_acc: nodeAcc, page_test_acc: pageAcc };
  saveTimings();
  console.log(`CLI-trained checkpoint (30 epochs, ${node.adapter}): test accuracy ${nodeAcc} in Node, ${pageAcc} in the page`);
  // Same weights, different adapters (the CLI's default — lavapipe here — against Chromium's SwiftShader):
  // kernels that reduce across subgroups (sizes 8 and 4) sum in a different order, so logits can differ
  // in the last bits, which flips a test node only when its two best classes are that close. With
  // 1,000 test nodes at most one such node is expected: tolerance one node.
  expect(Math.abs(pageAcc - nodeAcc)).toBeLessThanOrEqual(1 / 1000 + 1e-9);

  // And back: the page's export is a checkpoint the CLI resumes from.
  const download = page.waitForEvent('download');
  await page.click('#export');
  const file = await download;
  const pageCkpt = join(dir, file.suggestedFilename());
  await file.saveAs(pageCkpt);
  expect(readFileSync(pageCkpt).subarray(0, 8).toString()).toBe('WGNNCKPT');
  const resumed = webgnn('train', '--dataset', 'cora', '--model', 'gcn', '--epochs', '31', '--resume', pageCkpt);
  expect(resumed.epochs).toBe(31);
  expect(resumed.epochs_run).toBe(1);
});

test('a deep model trained by the CLI as a pipeline (GCNII, 2 stages) is imported and evaluated in the page with the same test accuracy', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'webgnn-demo-gcnii-'));
  const ckpt = join(dir, 'gcnii.ckpt');
  const node = webgnn('train', '--dataset', 'cora', '--model', 'gcnii', '--layers', '4', '--hidden', '16', '--epochs', '8', '--mode', 'pipe', '--workers', '2', '--checkpoint', ckpt);
  // The pipeline's checkpoint is its best validation epoch, whose test accuracy is test_acc.
  const nodeAcc = node.test_acc as number;
  expect(typeof nodeAcc).toBe('number');
  await openDemo(page);
  await page.setInputFiles('#import', ckpt);
  await expect(page.locator('#checkpoint-status')).toContainText(`trained ${node.checkpoint_epoch as number} epochs`);
  await page.click('#evaluate');
  const pageAcc = await waitForResult(page, 120_000);
  console.log(`CLI pipeline-trained GCNII-4 checkpoint (epoch ${node.checkpoint_epoch as number}): test accuracy ${nodeAcc} in Node, ${pageAcc} in the page`);
  // As above: lavapipe against SwiftShader may flip one test node whose two best classes are that close.
  expect(Math.abs(pageAcc - nodeAcc)).toBeLessThanOrEqual(1 / 1000 + 1e-9);
});

test('GraphSAGE trains on a dataset folder picked in the page, and resumes on it after a reload', async ({ page }) => {
  test.setTimeout(5 * 60_000);
  await openDemo(page);
  const dir = join(mkdtempSync(join(tmpdir(), 'webgnn-folder-')), 'my-cora');
  cpSync('data/cora', dir, { recursive: true });
  await page.click('#dataset-files-radio');
  await page.setInputFiles('#dataset-folder', dir);
  await expect(page.locator('#dataset-status')).toContainText('my-cora: 2,708 nodes');
  await page.selectOption('#model', 'sage');
  await setEpochs(page, 30, 5);
  await page.click('#train');
  await expect
    .poll(async () => Number((await page.locator('#checkpoint-status').getAttribute('data-epoch')) ?? 0), { timeout: 120_000, intervals: [500] })
    .toBeGreaterThanOrEqual(5);
  await page.reload();
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  await expect(page.locator('#resume-banner')).toContainText('SAGE on my-cora');
  const saved = Number(await page.locator('#resume-banner').getAttribute('data-epoch'));
  await page.click('#resume-saved');
  // The folder's files were kept in IndexedDB with the run: no need to pick them again.
  await expect(page.locator('#dataset-status')).toContainText('my-cora: 2,708 nodes');
  const acc = await waitForResult(page, 180_000);
  expect(Number(await page.locator('#run-status').getAttribute('data-start-epoch'))).toBe(saved);
  await expect(page.locator('#model')).toHaveValue('sage');
  await expect(page.locator('#stat-epoch')).toHaveText('30 / 30');
  expect(acc).toBeGreaterThan(0.5);
});

test('a malformed dataset shows the loader error and the page keeps working', async ({ page }) => {
  test.setTimeout(5 * 60_000);
  await openDemo(page);
  // A folder like data/cora with one bad line in labels.csv, picked as a folder.
  const dir = join(mkdtempSync(join(tmpdir(), 'webgnn-bad-')), 'broken-cora');
  cpSync('data/cora', dir, { recursive: true });
  writeFileSync(join(dir, 'labels.csv'), 'node,label\n0,3\n1,banana\n');
  await page.click('#dataset-files-radio');
  await page.setInputFiles('#dataset-folder', dir);
  const status = page.locator('#dataset-status');
  await expect(status).toHaveClass(/error/);
  // The same words as the CLI: file, line, problem.
  await expect(status).toContainText('labels.csv line 3');
  await expect(page.locator('#train')).toBeDisabled();
  // Loose files with an invalid meta.json.
  const meta = readFileSync('data/cora/meta.json', 'utf8').replace('"num_nodes": 2708', '"num_nodes": -5');
  await page.setInputFiles('#dataset-files', [
    { name: 'meta.json', mimeType: 'application/json', buffer: Buffer.from(meta) },
    { name: 'edges.csv', mimeType: 'text/csv', buffer: readFileSync('data/cora/edges.csv') },
  ]);
  await expect(status).toContainText('meta.json line 1: field "num_nodes" must be a positive integer, found -5');
  await page.screenshot({ path: join(OUT, 'demo-bad-dataset.png'), fullPage: true });
  // Still working: back to Cora, a run trains, and Stop ends it after the current epoch with results.
  await page.click('#dataset-cora');
  await expect(status).toContainText('2,708 nodes');
  await setEpochs(page, 100);
  await page.click('#train');
  await expect(page.locator('#stat-epoch')).toContainText('/ 100', { timeout: 120_000 });
  await page.click('#stop');
  await waitForResult(page, 120_000);
  await expect(page.locator('#run-status')).toContainText('Stopped at epoch');
  const stoppedAt = Number((await page.locator('#stat-epoch').textContent())!.split('/')[0]);
  expect(stoppedAt).toBeLessThan(100);
  await expect(page.locator('#train')).toBeEnabled();
});

test('a browser without WebGPU gets an explanation, not a blank page', async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
  await page.goto(DEMO);
  const notice = page.locator('#no-webgpu');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('WebGPU is not available');
  await expect(notice).toContainText('navigator.gpu is missing');
  await expect(page.locator('#train')).toBeDisabled();
  await page.screenshot({ path: join(OUT, 'demo-no-webgpu.png'), fullPage: true });
});

test('SAR over 2 workers in the tab gives the single device\'s losses, and shows each worker\'s memory and traffic', async ({ page }) => {
  test.setTimeout(10 * 60_000);
  const EPOCHS = 3;
  await openDemo(page);
  const losses = async () => (await page.locator('#stat-loss').getAttribute('data-losses'))!.split(',').map(Number);
  const medianMs = async () => Number(await page.locator('#run-status').getAttribute('data-epoch-ms-median'));

  // Two workers, each its own GPUDevice from navigator.gpu, linked in memory; paused and resumed mid-run.
  await page.selectOption('#workers', '2');
  await setEpochs(page, EPOCHS, 2);
  await page.click('#train');
  await expect(page.locator('#stat-epoch')).toContainText(`/ ${EPOCHS}`, { timeout: 240_000 });
  await page.click('#pause');
  await expect(page.locator('#run-status')).toContainText('Paused after epoch', { timeout: 120_000 });
  const rows = page.locator('#worker-stats tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('#sar-summary')).toContainText('SAR over 2 workers');
  await page.click('#pause');
  await waitForResult(page, 240_000);
  await expect(page.locator('#stat-epoch')).toHaveText(`${EPOCHS} / ${EPOCHS}`);
  // The engine's snapshot is an ordinary checkpoint: the last one is saved in IndexedDB.
  await expect(page.locator('#checkpoint-status')).toHaveAttribute('data-epoch', String(EPOCHS));
  const workers = await rows.evaluateAll((trs) => trs.map((tr) => ({ peak: Number((tr as HTMLElement).dataset.peakBytes), sent: Number((tr as HTMLElement).dataset.bytesSent) })));
  for (const w of workers) {
    expect(w.peak).toBeGreaterThan(0);
    expect(w.sent).toBeGreaterThan(0);
  }
  await page.screenshot({ path: join(OUT, 'demo-sar-2-workers.png'), fullPage: true });
  const sar = await losses();
  const sarMs = await medianMs();

  // The same run on one device.
  await page.selectOption('#workers', '1');
  await page.click('#train');
  await waitForResult(page, 240_000);
  await expect(page.locator('#sar-panel')).toBeHidden();
  const single = await losses();
  expect(sar).toHaveLength(EPOCHS);
  expect(single).toHaveLength(EPOCHS);
  // Same weights, same dropout masks (keyed by global node id): only the f32 summation order differs
  // (the Node tests measure ~3e-7); the bound is the Node tests' (test/node/sar.test.ts), 1e-5 relative.
  const maxRel = Math.max(...sar.map((loss, i) => Math.abs(loss - single[i]) / Math.abs(single[i])));
  console.log(`SAR over 2 workers against one device in the page: max relative loss difference ${maxRel.toExponential(2)}`);
  sar.forEach((loss, i) => expect(Math.abs(loss - single[i]) / Math.abs(single[i])).toBeLessThan(1e-5));
  timings.browser_sar_gcn_cora = {
    epochs: EPOCHS,
    losses_sar_2: sar,
    losses_single: single,
    max_rel_diff: maxRel,
    epoch_ms_median_sar_2: sarMs,
    epoch_ms_median_single: await medianMs(),
    peak_gpu_bytes_per_worker: workers.map((w) => w.peak),
    bytes_sent_per_worker_last_epoch: workers.map((w) => w.sent),
  };
  saveTimings();
});
