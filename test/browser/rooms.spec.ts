// Training rooms in the demo (demo/room.ts): Chromium tabs, each in a browser context of its own, and Node peers
// link by WebRTC through the room server that `vite preview` serves at /rooms, and train one GCN on Cora with
// SAR. Every tab is watched through window.webgnnRoom, the page's read-only view of its room. Runs only
// inside the private network namespace that scripts/run-tests.mjs creates (playwright.webrtc.config.ts):
//
//   node scripts/run-tests.mjs test/browser/rooms.spec.ts
//
// References are trained in this process with the Node library (Dawn: lavapipe here) on one device, with the
// room's seed, epochs and hyperparameters: SAR is exact, so a room's losses must be one device's.

import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import type { RoomView } from '../../demo/room.ts';
import { RoomClient } from '../../src/dist/room-client.ts';
import type { WebSocketConstructor } from '../../src/dist/signaling-client.ts';
import type { EpochMetrics } from '../../src/engines/engine.ts';
import type { RoomEpoch } from '../../src/engines/rooms/room-member.ts';
import type { WebRtcTransport } from '../../src/dist/webrtc-transport.ts';
import { decodeCheckpoint } from '../../src/nn/checkpoint.ts';
import { builtinModel } from '../../src/nn/models/builtin.ts';
import { joinNodeRoom } from '../../src/node/room-node.ts';
import { loadDataset, train } from '../../src/node/train.ts';
import { createPipeRun } from '../../src/node/pipe-setup.ts';
import { modelConfigFor } from '../../src/nn/models/builtin.ts';
import type { Engine } from '../../src/engines/engine.ts';
import { insidePrivateNetns } from '../node/fixtures/netns.ts';

const DEMO = '/demo/';
const SEED = 1;
/** Test 1: epochs of the three-tab room (SwiftShader WebGPU on two cores: about 0.5 s per room epoch measured). */
const EPOCHS = 25;
/** Test 1's figures for rooms of one and two tabs: enough epochs for a median past the first (compiling). */
const FIGURE_EPOCHS = 5;
/** Test 3: a tab closed at epoch CLOSE_AT of CLOSED_EPOCHS. */
const CLOSED_EPOCHS = 30;
const CLOSE_AT = 5;
/**
 * Losses of a room against one device, epoch by epoch: SAR sums each aggregation over partitions in another
 * order, and the tabs run on SwiftShader while the reference runs on lavapipe, so float32 rounding differs;
 * the demo's SAR is held to Node's within 1e-5 (demo.spec.ts), and rooms of Node processes stay within ~1e-6
 * over membership changes (rooms.test.ts); measured here: below 2e-7. 1e-4 leaves room for that and still
 * tells a run resumed from its commit from one restarted, whose loss at epoch 6 would be epoch 1's again
 * (1.9459 instead of 1.9116 with this seed: 1.8 % higher).
 */
const LOSS_TOLERANCE = 1e-4;
/** The bound on noticing a lost member. */
const NOTICE_MS = 10_000;
const MINUTE = 60_000;

// WebRTC traffic must stay inside a private network namespace (ARCHITECTURE.md): run outside one, the spec
// refuses rather than open peer connections on the machine's interfaces.
test.beforeEach(() => {
  if (!insidePrivateNetns()) {
    throw new Error('room specs run only in a private network namespace: playwright.webrtc.config.ts under unshare -n (node scripts/run-tests.mjs test/browser/rooms.spec.ts does this)');
  }
});

// ---------------------------------------------------------------- helpers

interface Tab {
  context: BrowserContext;
  page: Page;
  label: string;
}

/** Problems seen in any tab, to explain a failure (page errors and console errors). */
let problems: string[] = [];
test.beforeEach(() => {
  problems = [];
});

const explain = () => (problems.length ? `\n${problems.slice(-20).join('\n')}` : '');

/** A tab in a browser context of its own (own IndexedDB, own GPU device), at the demo or a room link. */
async function openTab(browser: Browser, label: string, url = DEMO): Promise<Tab> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`[${label}] page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`[${label}] console error: ${message.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.webgnnRoom !== undefined, null, { timeout: 30_000 });
  return { context, page, label };
}

const viewOf = (tab: Tab): Promise<RoomView> => tab.page.evaluate(() => window.webgnnRoom);

/** Creates a room from the page's form; returns the link it shows. */
async function createRoom(tab: Tab, o: { size: number; epochs: number; minMembers?: number; checkpointEvery?: number; mode?: 'sar' | 'pipe' }): Promise<string> {
  const { page } = tab;
  await page.selectOption('#room-dataset', 'cora');
  await page.selectOption('#room-model', 'gcn');
  await page.selectOption('#room-mode', o.mode ?? 'sar');
  await page.fill('#room-size', String(o.size));
  await page.fill('#room-min-members', String(o.minMembers ?? 1));
  await page.fill('#room-epochs', String(o.epochs));
  await page.fill('#room-seed', String(SEED));
  await page.fill('#room-checkpoint-every', String(o.checkpointEvery ?? 10));
  await page.click('#room-create');
  await page.waitForFunction(() => window.webgnnRoom.link !== null || window.webgnnRoom.error !== null, null, { timeout: MINUTE });
  const view = await viewOf(tab);
  expect(view.error, `${tab.label}: creating the room${explain()}`).toBeNull();
  // The page shows the link to copy.
  await expect(page.locator('#room-link')).toHaveValue(view.link!);
  return view.link!;
}

/** A new tab opening a room link: it joins as the page loads. Returns it once it is in the room. */
async function joinTab(browser: Browser, label: string, link: string): Promise<Tab> {
  const tab = await openTab(browser, label, link);
  await tab.page.waitForFunction(() => window.webgnnRoom.id !== null || window.webgnnRoom.error !== null, null, { timeout: MINUTE });
  const view = await viewOf(tab);
  expect(view.error, `${label}: joining${explain()}`).toBeNull();
  return tab;
}

/** Waits until the tab's room run has ended (finished, failed or left) and returns its view. */
async function ended(tab: Tab, timeout: number): Promise<RoomView> {
  await tab.page
    .waitForFunction(() => ['finished', 'failed', 'left'].includes(window.webgnnRoom.phase), null, { timeout, polling: 500 })
    .catch(async (error: Error) => {
      const view = await viewOf(tab).catch(() => null);
      throw new Error(`${tab.label}: ${error.message}; status: ${view?.status}; last epoch ${view?.history.at(-1)?.epoch}${explain()}`);
    });
  return viewOf(tab);
}

async function finished(tab: Tab, timeout: number): Promise<RoomView> {
  const view = await ended(tab, timeout);
  expect(view.error, `${tab.label}: ${view.status}${explain()}`).toBeNull();
  expect(view.phase, `${tab.label}: ${view.status}`).toBe('finished');
  return view;
}

/** One device, the room's config (room-training.ts's defaults for GCN: 16 hidden, dropout 0.5, Adam, lr 0.01, weight decay 5e-4 on the first layer). */
async function reference(epochs: number): Promise<EpochMetrics[]> {
  const dataset = await loadDataset('cora');
  const model = builtinModel(dataset, { model: 'gcn', hidden: 16, dropout: 0.5 });
  const result = await train(model, dataset, { epochs, patience: 0, seed: SEED, lr: 0.01, weightDecay: 5e-4, optimizer: 'adam', decayFirstLayerOnly: true });
  return result.history;
}

/** Every epoch 1..n exactly once, in order. */
function expectWholeHistory(history: readonly RoomEpoch[], n: number, who: string): void {
  expect(history.map((h) => h.epoch), `${who}: committed epochs`).toEqual(Array.from({ length: n }, (_, i) => i + 1));
}

function expectLossesOf(history: readonly RoomEpoch[], ref: readonly EpochMetrics[], who: string): number {
  let worst = 0;
  for (const h of history) {
    const r = ref[h.epoch - 1];
    const relative = Math.abs(h.loss - r.loss) / Math.abs(r.loss);
    worst = Math.max(worst, relative);
    expect(relative, `${who}: epoch ${h.epoch} (generation ${h.generation}, ${h.members.length} members) loss ${h.loss} vs one device ${r.loss}`).toBeLessThanOrEqual(LOSS_TOLERANCE);
  }
  return worst;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** This member's own epochs (its traffic and time), from the room's history. */
function ownEpochs(view: RoomView): RoomEpoch[] {
  return view.history.filter((h) => h.members[h.rank] === view.id);
}

function figures(size: number, views: RoomView[]): void {
  for (const v of views) {
    const mine = ownEpochs(v).slice(1); // the first epoch compiles kernels
    console.log(
      `figure room of ${size}: member ${v.id} (rank ${v.part?.rank}): ${v.part?.nodes} nodes, ${v.part?.edges} edges, halo ${v.part?.halo}; ` +
        `epoch ${median(mine.map((h) => h.epochMs)).toFixed(0)} ms median; per epoch sent ${kib(median(mine.map((h) => h.bytesSent?.[0] ?? 0)))}, ` +
        `received ${kib(median(mine.map((h) => h.bytesReceived[0])))}; GPU peak ${((v.memory?.peak ?? 0) / 2 ** 20).toFixed(1)} MiB; setup ${v.part?.setupMs.toFixed(0)} ms`,
    );
  }
}

async function closeAll(tabs: Tab[]): Promise<void> {
  await Promise.all(tabs.map((t) => t.context.close().catch(() => {})));
}

// ---------------------------------------------------------------- 1. three tabs against one device

test('three tabs join one room and train GCN on Cora with SAR to the test accuracy of one device', async ({ browser }) => {
  test.setTimeout(25 * MINUTE);
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  try {
    const link = await createRoom(a, { size: 3, epochs: EPOCHS });
    expect(link).toMatch(/\/demo\/#room=[^&]+&secret=[^&]+&server=ws%3A%2F%2F127\.0\.0\.1%3A\d+%2Frooms$/);
    await expect(a.page.locator('#room-status')).toContainText('waiting for 2 more members');
    tabs.push(await joinTab(browser, 'tab B', link), await joinTab(browser, 'tab C', link));
    const started = Date.now();
    // Who is in the room while it trains: members 1, 2, 3 in rank order, the creator leads.
    await a.page.waitForFunction(() => window.webgnnRoom.part !== null, null, { timeout: 5 * MINUTE });
    const training = (await viewOf(a)).state!;
    expect(training.phase).toBe('training');
    expect(training.members.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(training.leader).toBe(1);
    await expect(a.page.locator('#room-members li')).toHaveCount(3);
    await expect(a.page.locator('#room-members li.leader')).toHaveAttribute('data-id', '1');
    await expect(a.page.locator('#room-members li.self')).toHaveAttribute('data-id', '1');
    await expect(tabs[2].page.locator('#room-members li.self')).toHaveAttribute('data-id', '3');
    const views = await Promise.all(tabs.map((t) => finished(t, 20 * MINUTE)));
    const wallMs = Date.now() - started;

    // Each tab knows its own id and trained every epoch with the three members.
    expect(views.map((v) => v.id)).toEqual([1, 2, 3]);
    for (const v of views) {
      expectWholeHistory(v.history, EPOCHS, `member ${v.id}`);
      for (const h of v.history) expect(h.members, `epoch ${h.epoch}`).toEqual([1, 2, 3]);
      // Each tab trained its own third of the graph (the partition is balanced within a few percent).
      expect(v.part!.size).toBe(3);
      expect(v.part!.nodes).toBeGreaterThan(2708 / 3 - 100);
      expect(v.part!.halo).toBeGreaterThan(0);
      expect(v.traffic.epochs).toBe(EPOCHS);
      expect(v.traffic.sentTotal).toBeGreaterThan(0);
    }
    // The page shows its part and the final accuracy.
    await expect(a.page.locator('#room-part')).toContainText('halo');
    await expect(a.page.locator('#room-summary')).toBeVisible();
    const shown = Number(await a.page.locator('#room-final-acc').getAttribute('data-value'));
    expect(shown).toBe(views[0].summary!.final!.testAcc);
    // One room, one model: every member ends with the same metrics.
    const finals = views.map((v) => v.summary!.final!);
    for (const f of finals) {
      expect(f.testAcc).toBe(finals[0].testAcc);
      expect(f.loss).toBe(finals[0].loss);
    }

    // After the room, so that its figures are the tabs' alone (two cores).
    const ref = await reference(EPOCHS);
    const worst = expectLossesOf(views[0].history, ref, 'member 1');
    const roomAcc = finals[0].testAcc;
    const refAcc = ref[EPOCHS - 1].testAcc;
    console.log(`figure 3 tabs, ${EPOCHS} epochs: final test accuracy ${roomAcc} (one device ${refAcc}); worst loss difference ${worst.toExponential(2)} relative; ${(wallMs / 1000).toFixed(0)} s in all`);
    // The bound: within 0.5 point of one device (SAR is exact; what may differ is a test node whose
    // two best classes are within float rounding of each other).
    expect(Math.abs(roomAcc - refAcc)).toBeLessThanOrEqual(0.005);

    // The persistent checkpoint of the last epoch is in each tab's IndexedDB, in encodeCheckpoint's format.
    const stored = await a.page.evaluate(
      () =>
        new Promise<{ epoch: number; room: string; base64: string } | null>((resolve, reject) => {
          const open = indexedDB.open('webgnn');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('checkpoints').objectStore('checkpoints').get('room-checkpoint');
            get.onerror = () => reject(get.error);
            get.onsuccess = () => {
              const r = get.result as { epoch: number; room: string; checkpoint: Uint8Array } | undefined;
              if (!r) return resolve(null);
              let text = '';
              for (const b of r.checkpoint) text += String.fromCharCode(b);
              resolve({ epoch: r.epoch, room: r.room, base64: btoa(text) });
            };
          };
        }),
    );
    expect(stored, 'a room checkpoint in IndexedDB').not.toBeNull();
    expect(stored!.epoch).toBe(EPOCHS);
    expect(link).toContain(`room=${stored!.room}`);
    expect(decodeCheckpoint(new Uint8Array(Buffer.from(stored!.base64, 'base64')), 'the tab’s IndexedDB').epoch).toBe(EPOCHS);
    figures(3, views);

    // Figures for rooms of two and one tab (same pages: a finished tab creates or joins the next room).
    const link2 = await createRoom(a, { size: 2, epochs: FIGURE_EPOCHS });
    await tabs[1].page.fill('#room-join-link', link2);
    await tabs[1].page.click('#room-join');
    figures(2, await Promise.all(tabs.slice(0, 2).map((t) => finished(t, 10 * MINUTE))));
    await createRoom(a, { size: 1, epochs: FIGURE_EPOCHS });
    figures(1, [await finished(a, 10 * MINUTE)]);
    expect(problems, 'errors in the tabs').toEqual([]);
  } finally {
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 2. tabs and a Node process

test('two tabs and a Node peer (webgnn join) train together and finish', async ({ browser }) => {
  test.setTimeout(15 * MINUTE);
  const epochs = 20;
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  let child: ReturnType<typeof spawn> | null = null;
  try {
    const link = await createRoom(a, { size: 3, epochs });
    tabs.push(await joinTab(browser, 'tab B', link));
    child = spawn(process.execPath, ['scripts/webgnn.mjs', 'join', link, '--json', '--name', 'node peer'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('close', (code) => resolve(code)));
    // The tabs list the Node process among the members (as long as it is in: it leaves when done).
    await expect(a.page.locator('#room-members li[data-id="3"]')).toContainText('node peer', { timeout: 2 * MINUTE });
    const views = await Promise.all(tabs.map((t) => finished(t, 12 * MINUTE)));
    const code = await exited;
    expect(code, `webgnn join exited with ${code}:\n${stderr.slice(-3000)}`).toBe(0);
    const node = JSON.parse(stdout.trim().split('\n').at(-1)!) as { member: number; epochs: number; final_test_acc: number; bytes_sent_per_epoch_median: number };

    // Members 1 and 2 are the tabs, 3 the Node process; all three trained every epoch of one room.
    expect(node.member).toBe(3);
    expect(node.epochs).toBe(epochs);
    for (const v of views) {
      expectWholeHistory(v.history, epochs, `member ${v.id}`);
      for (const h of v.history) expect(h.members, `epoch ${h.epoch}`).toEqual([1, 2, 3]);
      expect(v.summary!.final!.testAcc).toBe(node.final_test_acc);
    }
    figures(3, views);
    console.log(`figure Node peer: ${kib(node.bytes_sent_per_epoch_median)} sent per epoch (median), final test accuracy ${node.final_test_acc}`);
    expect(problems, 'errors in the tabs').toEqual([]);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 2b. a DistTGL room: a Node leader and a tab

test('a DistTGL room: a Node leader (train-temporal --room) and a tab each hold a memory copy of TGN, train together and finish with one history', async ({ browser }) => {
  test.setTimeout(10 * MINUTE);
  const server = `ws://127.0.0.1:${process.env.WEBGNN_WEBRTC_TEST_PORT}/rooms`;
  // The first 600 CollegeMsg events and small dimensions: SwiftShader in the tab is slow. 6 passes = 3 room epochs.
  const args = ['scripts/webgnn.mjs', 'train-temporal', '--room', server, '--workers', '2', '--events', '600', '--batch-size', '50', '--memory-dim', '16', '--neighbors', '4', '--epochs', '6', '--seed', String(SEED), '--json', '--name', 'node leader'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const linked = new Promise<string>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /^room link: (.*)$/m.exec(stderr);
      if (m) resolve(m[1]);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const tabs: Tab[] = [];
  try {
    const link = await linked;
    // The link opens the server's root; the demo here is at DEMO.
    const tab = await joinTab(browser, 'tab', `${DEMO}${link.slice(link.indexOf('#'))}`);
    tabs.push(tab);
    const view = await finished(tab, 8 * MINUTE);
    const code = await exited;
    expect(code, `train-temporal --room exited with ${code}:\n${stderr.slice(-3000)}`).toBe(0);
    const node = JSON.parse(stdout.trim().split('\n').at(-1)!) as { epochs: number; passes: number; final_test_ap: number; history: { epoch: number; loss: number }[] };
    expect(node.epochs).toBe(3);
    expect(node.passes).toBe(6);
    expectWholeHistory(view.history, 3, 'the tab');
    // One room, one history: the losses and AP every member reports are the room's (all-reduced).
    expect(view.history.map((h) => h.loss)).toEqual(node.history.map((h) => h.loss));
    expect(view.history.map((h) => h.temporal?.passes)).toEqual([2, 4, 6]);
    expect(view.summary!.final!.temporal!.testAp).toBe(node.final_test_ap);
    expect(view.part?.memoryGroup, 'the tab holds memory copy 1 (the leader copy 0)').toBe(1);
    await expect(tab.page.locator('#room-acc-label')).toHaveText('Val. / test AP');
    await expect(tab.page.locator('#room-final-label')).toHaveText('Final test AP');
    console.log(`figure DistTGL room (Node leader + tab): test AP ${node.final_test_ap.toFixed(4)} after ${node.passes} passes; tab epochs ${view.history.map((h) => h.epochMs.toFixed(0)).join(', ')} ms`);
    // The form refuses a DistTGL room on a node dataset, saying what to choose.
    await tab.page.selectOption('#room-mode', 'temporal');
    await tab.page.selectOption('#room-dataset', 'cora');
    await tab.page.click('#room-create');
    await expect(tab.page.locator('#room-status')).toContainText('a DistTGL room trains TGN on the embedded CollegeMsg event stream');
    expect(problems, 'errors in the tab').toEqual([]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await closeAll(tabs);
  }
});

test('a DistTGL room created in a tab (the first 600 CollegeMsg events) and joined by another: two memory copies, one history', async ({ browser }) => {
  test.setTimeout(10 * MINUTE);
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  try {
    const { page } = a;
    await page.selectOption('#room-dataset', 'collegemsg');
    await page.selectOption('#room-model', 'tgn');
    await page.selectOption('#room-mode', 'temporal');
    await page.fill('#room-size', '2');
    await page.fill('#room-min-members', '1');
    await page.fill('#room-epochs', '2');
    await page.fill('#room-seed', String(SEED));
    await page.fill('#room-checkpoint-every', '0');
    await page.fill('#room-events', '600');
    await page.click('#room-create');
    await page.waitForFunction(() => window.webgnnRoom.link !== null || window.webgnnRoom.error !== null, null, { timeout: MINUTE });
    const created = await viewOf(a);
    expect(created.error, `creating the DistTGL room${explain()}`).toBeNull();
    tabs.push(await joinTab(browser, 'tab B', created.link!));
    const views = await Promise.all(tabs.map((t) => finished(t, 8 * MINUTE)));
    for (const v of views) {
      expectWholeHistory(v.history, 2, `member ${v.id}`);
      expect(v.history.map((h) => h.temporal?.passes)).toEqual([2, 4]);
      expect(v.config?.dataset).toBe('collegemsg (first 600 events)');
    }
    expect(views[1].history.map((h) => h.loss)).toEqual(views[0].history.map((h) => h.loss));
    expect(views.map((v) => v.part?.memoryGroup).sort()).toEqual([0, 1]);
    // Above chance (0.5); measured 0.5899 on SwiftShader after 4 passes of 420 training events (the room's TGN defaults).
    for (const v of views) expect(v.summary!.final!.temporal!.testAp).toBeGreaterThan(0.5);
    console.log(`figure DistTGL room of two tabs: test AP ${views[0].summary!.final!.temporal!.testAp.toFixed(4)} after 4 passes; epochs ${views[0].history.map((h) => h.epochMs.toFixed(0)).join(', ')} ms`);
    expect(problems, 'errors in the tabs').toEqual([]);
  } finally {
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 3. a tab closed mid-run, and a late joiner

test('a tab closed at epoch 5 of 30: the others notice within 10 s, resume on two from the commit, finish; a fourth tab joins later', async ({ browser }) => {
  test.setTimeout(30 * MINUTE);
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  try {
    const link = await createRoom(a, { size: 3, epochs: CLOSED_EPOCHS });
    const b = await joinTab(browser, 'tab B', link);
    const c = await joinTab(browser, 'tab C', link);
    tabs.push(b, c);
    const survivors = [a, b];
    const closedId = (await viewOf(c)).id!;
    expect(closedId).toBe(3);

    // Close tab C (rank 2, neither leader nor deputy) once the room has committed epoch 5.
    await a.page.waitForFunction((at) => (window.webgnnRoom.history.at(-1)?.epoch ?? 0) >= at, CLOSE_AT, { timeout: 15 * MINUTE, polling: 50 });
    const before = await viewOf(a);
    const closedAt = Date.now();
    await c.context.close();
    tabs.splice(tabs.indexOf(c), 1);

    // The others notice: the room's state no longer has member 3, and its history says it left.
    const noticed = await Promise.all(
      survivors.map(async (t) => {
        await t.page.waitForFunction(
          (id) => {
            const s = window.webgnnRoom.state;
            return !!s && !s.members.some((m) => m.id === id) && s.events.some((e) => e.id === id && (e.kind === 'left' || e.kind === 'silent'));
          },
          closedId,
          { timeout: 2 * NOTICE_MS, polling: 50 },
        );
        return Date.now() - closedAt;
      }),
    );
    // Training goes on: an epoch of a later generation, with two members, is committed.
    await a.page.waitForFunction(
      (generation) => window.webgnnRoom.history.some((h) => h.generation > generation && h.members.length === 2),
      before.history.at(-1)!.generation,
      { timeout: 5 * MINUTE, polling: 50 },
    );
    const resumedMs = Date.now() - closedAt;
    console.log(`figure time from tab closing to training going on again: ${resumedMs} ms (noticed after ${noticed.join(' and ')} ms)`);
    for (const ms of noticed) expect(ms, 'ms from closing the tab to the others seeing it gone').toBeLessThan(NOTICE_MS);

    // A fourth tab joins later: admitted at an epoch boundary, it trains with the other two.
    const d = await joinTab(browser, 'tab D', link);
    tabs.push(d);
    const lateId = (await viewOf(d)).id!;
    expect(lateId).toBe(4);
    const views = await Promise.all([a, b, d].map((t) => finished(t, 20 * MINUTE)));
    const [va, vb, vd] = views;
    for (const v of views) expectWholeHistory(v.history, CLOSED_EPOCHS, `member ${v.id}`);

    const events = va.summary!.events;
    const left = events.find((e) => e.id === closedId && (e.kind === 'left' || e.kind === 'silent'));
    expect(left, JSON.stringify(events)).toBeDefined();
    // Closed after epoch 5 had been committed; training went on from the last commit.
    expect(left!.committedEpoch).toBeGreaterThanOrEqual(CLOSE_AT);
    const c0 = left!.committedEpoch;
    const after = va.history[c0]; // epoch c0 + 1, the first after the rollback
    expect(after.members).toEqual([1, 2]);
    expect(after.generation).toBeGreaterThan(before.history.at(-1)!.generation);
    const admitted = events.find((e) => e.id === lateId && e.kind === 'admitted');
    expect(admitted, JSON.stringify(events)).toBeDefined();
    // Admitted at a boundary: nothing redone, and every later epoch has the three members.
    expect(admitted!.epochsLost).toBe(0);
    expect(admitted!.committedEpoch).toBeGreaterThan(c0);
    for (const h of va.history.slice(admitted!.committedEpoch)) expect(h.members, `epoch ${h.epoch}`).toEqual([1, 2, lateId]);
    expect(ownEpochs(vd).length, 'epochs the late tab trained').toBe(CLOSED_EPOCHS - admitted!.committedEpoch);
    expect(vd.part!.size).toBe(3);
    // The late tab holds the room's whole history (it came with the commit) and the same final metrics.
    expect(vd.summary!.final!.testAcc).toBe(va.summary!.final!.testAcc);
    expect(vb.summary!.final!.testAcc).toBe(va.summary!.final!.testAcc);
    // Membership changes are on the charts and in the list.
    expect(Number(await a.page.locator('#room-charts').getAttribute('data-markers'))).toBeGreaterThanOrEqual(2);
    await expect(a.page.locator(`#room-events li[data-kind="${left!.kind}"][data-id="${closedId}"]`)).toHaveCount(1);
    await expect(a.page.locator(`#room-summary-events tr[data-kind="admitted"][data-id="${lateId}"]`)).toHaveCount(1);

    const ref = await reference(CLOSED_EPOCHS);
    // Resumed from the commit, not from scratch: the epoch after the rollback has the uninterrupted run's
    // loss (within LOSS_TOLERANCE, checked for every epoch below), well below epoch 1's (one device with
    // this seed: 0.034 below at epoch 6, 0.046 at epoch 7; a restart would be 0 below).
    expect(after.loss).toBeLessThan(va.history[0].loss - 0.02);
    const worst = expectLossesOf(va.history, ref, 'member 1');
    const roomAcc = va.summary!.final!.testAcc;
    const refAcc = ref[CLOSED_EPOCHS - 1].testAcc;
    console.log(
      `figure tab closed at committed epoch ${c0} (${left!.epochsLost} epoch(s) redone), late tab admitted at ${admitted!.committedEpoch}: ` +
        `epoch ${c0 + 1} loss ${after.loss.toFixed(4)} (one device ${ref[c0].loss.toFixed(4)}, epoch 1 ${va.history[0].loss.toFixed(4)}); ` +
        `final test accuracy ${roomAcc} (uninterrupted ${refAcc}); worst loss difference ${worst.toExponential(2)} relative`,
    );
    // The bound: within 1 point of an uninterrupted run.
    expect(Math.abs(roomAcc - refAcc)).toBeLessThanOrEqual(0.01);
  } finally {
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 3b. a pipeline room

/**
 * The room's pipeline in this process (lavapipe, one stage, the room's 8 chunks and seed; a pipeline's
 * numbers do not depend on its cut): epochs 1..committed, then resumed from its own checkpoint there, as the
 * room resumes from its commit (commits hold no historical embeddings, so both restart them from zeros).
 */
async function pipeReference(epochs: number, committed: number): Promise<number[]> {
  const dataset = await loadDataset('cora');
  const spec = { builtin: modelConfigFor(dataset, { model: 'gcn', hidden: 16, dropout: 0.5 }) };
  const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 5e-4, seed: SEED, decayFirstLayerOnly: true };
  const run = { workers: 1, transport: 'local' as const };
  const losses: number[] = [];
  const drain = async (engine: Engine, to: number) => {
    for await (const m of engine.run(to)) losses.push(m.loss);
  };
  const first = await createPipeRun(dataset, spec, training, run, { chunks: 8 });
  await drain(first, committed);
  const commit = await first.snapshot();
  first.dispose();
  const resumed = await createPipeRun(dataset, spec, training, run, { chunks: 8 }, commit);
  await drain(resumed, epochs);
  resumed.dispose();
  return losses;
}

test('a pipeline room of two tabs (each a stage): one closed at epoch 4 of 12, the other re-plans the model on itself and finishes', async ({ browser }) => {
  test.setTimeout(15 * MINUTE);
  const epochs = 12;
  const closeAt = 4;
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  try {
    const link = await createRoom(a, { size: 2, epochs, mode: 'pipe' });
    const b = await joinTab(browser, 'tab B', link);
    tabs.push(b);
    await b.page.waitForFunction((at) => (window.webgnnRoom.history.at(-1)?.epoch ?? 0) >= at, closeAt, { timeout: 10 * MINUTE, polling: 50 });
    // Each tab ran one stage of the two: its blocks are on the page.
    const [pa, pb] = [await viewOf(a), await viewOf(b)];
    expect([pa.part?.rank, pb.part?.rank, pa.part?.size]).toEqual([0, 1, 2]);
    expect(pa.part?.blocks?.[1]).toBe(pb.part?.blocks?.[0]);
    await expect(b.page.locator('#room-part')).toContainText('stage 2 of 2: blocks');
    const closedAt = Date.now();
    await b.context.close();
    tabs.splice(tabs.indexOf(b), 1);
    await a.page.waitForFunction(() => window.webgnnRoom.state?.events.some((e) => e.id === 2 && (e.kind === 'left' || e.kind === 'silent')) ?? false, null, { timeout: 2 * NOTICE_MS, polling: 50 });
    const noticedMs = Date.now() - closedAt;
    expect(noticedMs, 'ms from closing the tab to the other seeing it gone').toBeLessThan(NOTICE_MS);
    const view = await finished(a, 10 * MINUTE);
    expectWholeHistory(view.history, epochs, 'member 1');
    const left = view.summary!.events.find((e) => e.id === 2 && (e.kind === 'left' || e.kind === 'silent'))!;
    const c0 = left.committedEpoch;
    expect(view.history[c0].members).toEqual([1]);
    expect(view.part?.size).toBe(1);
    const ref = await pipeReference(epochs, c0);
    let worst = 0;
    for (const h of view.history) {
      const relative = Math.abs(h.loss - ref[h.epoch - 1]) / Math.abs(ref[h.epoch - 1]);
      worst = Math.max(worst, relative);
      expect(relative, `epoch ${h.epoch} (generation ${h.generation}, members ${h.members}): ${h.loss} vs ${ref[h.epoch - 1]}`).toBeLessThanOrEqual(LOSS_TOLERANCE);
    }
    console.log(`figure pipeline room: tab closed at committed epoch ${c0}, noticed after ${noticedMs} ms; worst loss difference from the in-process pipeline ${worst.toExponential(2)} relative`);
    expect(problems, 'errors in the tabs').toEqual([]);
  } finally {
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 4. a misbehaving peer

test('a peer that sends malformed messages is dropped, and the honest tabs finish', async ({ browser }) => {
  test.setTimeout(15 * MINUTE);
  const epochs = 12;
  const junkAfter = 2;
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  try {
    const link = await createRoom(a, { size: 3, epochs });
    tabs.push(await joinTab(browser, 'tab B', link));
    // The misbehaving peer: a Node member in this process that, after a couple of epochs, puts raw junk on
    // its data channels to every other member.
    const bad = await joinNodeRoom({ link, name: 'misbehaving' });
    let transport: { rank: number; size: number; transport: WebRtcTransport } | null = null;
    let sentJunk = false;
    bad.member.on('transport', (t) => (transport = { rank: t.rank, size: t.members.length, transport: t.transport }));
    bad.member.on('epoch', (m) => {
      if (sentJunk || m.epoch < junkAfter || !transport) return;
      sentJunk = true;
      const { rank, size, transport: link } = transport;
      for (let peer = 0; peer < size; peer++) if (peer !== rank) void link.sendRaw(peer, new Uint8Array([1, 2, 3])).catch(() => {});
    });
    const badRun = bad.run().then(
      () => null,
      (error: Error) => error,
    );
    const views = await Promise.all(tabs.map((t) => finished(t, 12 * MINUTE)));
    const badError = await badRun;
    await bad.leave().catch(() => {});
    bad.gpu.destroy();

    expect(sentJunk, 'the misbehaving peer got to send its junk').toBe(true);
    expect(badError, 'the misbehaving peer’s run must end with an error').not.toBeNull();
    console.log(`misbehaving peer (member ${bad.client.id}) ended with: ${badError!.name}: ${badError!.message}`);
    for (const v of views) {
      expectWholeHistory(v.history, epochs, `member ${v.id}`);
      const dropped = v.summary!.events.find((e) => e.kind === 'dropped' && e.id === bad.client.id);
      expect(dropped, JSON.stringify(v.summary!.events)).toBeDefined();
      expect(dropped!.committedEpoch).toBeGreaterThanOrEqual(junkAfter);
      // Before the drop three trained, after it the two tabs.
      expect(v.history[0].members).toEqual([1, 2, bad.client.id]);
      for (const h of v.history.slice(dropped!.committedEpoch)) expect(h.members, `epoch ${h.epoch}`).toEqual([1, 2]);
    }
    await expect(a.page.locator(`#room-summary-events tr[data-kind="dropped"][data-id="${bad.client.id}"]`)).toHaveCount(1);
    expect(problems, 'errors in the tabs').toEqual([]);
  } finally {
    await closeAll(tabs);
  }
});

// ---------------------------------------------------------------- 5. refusals

test('a wrong secret, a full room and an unknown room are refused, with the reason on the page', async ({ browser }) => {
  test.setTimeout(5 * MINUTE);
  const a = await openTab(browser, 'tab A');
  const tabs = [a];
  let filler: RoomClient | null = null;
  try {
    const link = await createRoom(a, { size: 2, epochs: 1000 });
    const url = new URL(link);
    const withHash = (change: (p: URLSearchParams) => void) => {
      const params = new URLSearchParams(url.hash.slice(1));
      change(params);
      return `${url.origin}${url.pathname}#${params.toString()}`;
    };
    const refused = async (label: string, to: string, reason: RegExp) => {
      const tab = await openTab(browser, label, to);
      tabs.push(tab);
      await tab.page.waitForFunction(() => window.webgnnRoom.error !== null || window.webgnnRoom.id !== null, null, { timeout: MINUTE });
      const view = await viewOf(tab);
      expect(view.id, `${label} must not get in`).toBeNull();
      expect(view.phase).toBe('failed');
      expect(view.error).toMatch(reason);
      await expect(tab.page.locator('#room-status')).toHaveClass(/error/);
      await expect(tab.page.locator('#room-status')).toContainText(reason);
      console.log(`${label}: ${view.error}`);
    };

    await refused('wrong secret', withHash((p) => p.set('secret', 'not-the-secret')), /wrong secret/);
    await refused('no such room', withHash((p) => p.set('room', 'NoSuchRoom123')), /no such room/);
    // Fill the room (size 2) with a bare protocol client (no training: nothing more is needed of it here).
    const parsed = new URLSearchParams(url.hash.slice(1));
    filler = await RoomClient.join({ server: parsed.get('server')!, room: parsed.get('room')!, secret: parsed.get('secret')!, name: 'filler', WebSocket: WebSocket as unknown as WebSocketConstructor });
    await refused('full room', link, /room is full/);
    // The refusals disturbed nothing: the creator is still in its room.
    const view = await viewOf(a);
    expect(view.error).toBeNull();
    expect(view.phase).toBe('in-room');
  } finally {
    await filler?.leave();
    await closeAll(tabs);
  }
});
