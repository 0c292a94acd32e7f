// QuietWaits: sleeping through most of a wait for the device, where dawn.node would spin the event loop.
// Timings use timers of tens of milliseconds; the bounds below allow for a loaded CI machine (timers fire
// late, never early), so they check what is slept, not how precisely.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuietWaits, waitKey } from '../../src/gpu/quiet-waits.ts';
import type { WorkTally } from '../../src/gpu/step-encoder.ts';

const after = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), ms));
const now = () => performance.now();
/** The work of one training step, say. */
const STEP: WorkTally = { dispatches: 40, workgroups: 120_000, bytes: 4096 };

test('a wait sleeps for 0.8 of the last such wait before starting; one over before its nap ends is measured afresh', async () => {
  const waits = new QuietWaits(true);
  assert.equal(await waits.wait('read loss', STEP, after(40)), 'done');
  assert.equal(waits.sleptMs, 0, 'nothing to go by on the first wait');
  let started = -1;
  const t0 = now();
  await waits.wait('read loss', STEP, () => {
    started = now() - t0;
    return after(5)();
  });
  assert.ok(started >= 0.8 * 40 - 1, `started after ${started.toFixed(1)} ms, expected a sleep of about 32 ms`);
  assert.ok(waits.sleptMs >= 0.8 * 40 && waits.sleptMs < 0.8 * 200, `slept ${waits.sleptMs} ms`);
  // Already done when the nap ends: the estimate is dropped, so the next wait sleeps not at all and measures.
  await waits.wait('read loss', STEP, async () => 'done');
  const slept = waits.sleptMs;
  await waits.wait('read loss', STEP, after(40));
  assert.equal(waits.sleptMs, slept, 'the wait after an overshoot spins and measures');
  await waits.wait('read loss', STEP, after(1));
  assert.ok(waits.sleptMs - slept >= 0.8 * 40, 'and the one after that sleeps again');
  // Another kind has its own estimate.
  const before = waits.sleptMs;
  await waits.wait('read scores', STEP, async () => 'done');
  assert.equal(waits.sleptMs, before);
});

test('short waits, disabled waits and failed waits never sleep', async () => {
  const short = new QuietWaits(true);
  await short.wait('tiny', STEP, after(1));
  await short.wait('tiny', STEP, after(0));
  assert.equal(short.sleptMs, 0, 'a wait of about a millisecond is below a timer worth setting');

  const off = new QuietWaits(false);
  await off.wait('read', STEP, after(40));
  const t0 = now();
  await off.wait('read', STEP, async () => 'done');
  assert.ok(now() - t0 < 30, 'disabled waits start at once');
  assert.equal(off.sleptMs, 0);

  const failing = new QuietWaits(true);
  await assert.rejects(failing.wait('read', STEP, () => Promise.reject(new Error('device lost'))), /device lost/);
  await failing.wait('read', STEP, async () => 'done');
  assert.equal(failing.sleptMs, 0, 'a failed wait teaches nothing');
});

test('whenIdle resolves once no wait is pending, before the code that awaited the last one goes on', async () => {
  const waits = new QuietWaits(false);
  await waits.whenIdle();
  const order: string[] = [];
  const reading = (async () => {
    await waits.wait('read a', STEP, after(10));
    order.push('caller goes on');
    await waits.wait('read b', STEP, after(10));
    order.push('second read done');
  })();
  const idle = waits.whenIdle().then(() => order.push('idle'));
  await Promise.all([reading, idle]);
  assert.deepEqual(order, ['idle', 'caller goes on', 'second read done']);
});

test('a wait learns only from waits after the same work: as many dispatches, workgroups and bytes within 9 %', async () => {
  assert.equal(waitKey('finish', STEP), waitKey('finish', { ...STEP, workgroups: 125_000 }));
  assert.notEqual(waitKey('finish', STEP), waitKey('finish', { ...STEP, workgroups: 140_000 }));
  assert.notEqual(waitKey('finish', STEP), waitKey('finish', { ...STEP, dispatches: 41 }));
  assert.notEqual(waitKey('finish', STEP), waitKey('finish', { ...STEP, bytes: 8192 }));
  assert.notEqual(waitKey('finish', STEP), waitKey('read loss', STEP));
  // A long SpMM, then a short copy: the copy's wait does not sleep as long as the SpMM's took.
  const waits = new QuietWaits(true);
  await waits.wait('finish', { dispatches: 1, workgroups: 50_000, bytes: 0 }, after(40));
  await waits.wait('finish', { dispatches: 0, workgroups: 0, bytes: 1 << 20 }, after(1));
  assert.equal(waits.sleptMs, 0);
});
