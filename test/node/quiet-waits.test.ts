// QuietWaits: sleeping through most of a wait for the device, where dawn.node would spin the event loop.
// Timings use timers of tens of milliseconds; the bounds below allow for a loaded CI machine (timers fire
// late, never early), so they check what is slept, not how precisely.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuietWaits } from '../../src/gpu/quiet-waits.ts';

const after = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), ms));
const now = () => performance.now();

test('a wait sleeps for 0.8 of the last wait of its kind before starting, and learns from a shorter one', async () => {
  const waits = new QuietWaits(true);
  assert.equal(await waits.wait('read loss', after(40)), 'done');
  assert.equal(waits.sleptMs, 0, 'nothing to go by on the first wait');
  let started = -1;
  const t0 = now();
  await waits.wait('read loss', async () => {
    started = now() - t0;
    return 'done';
  });
  const second = now() - t0;
  assert.ok(started >= 0.8 * 40 - 1, `started after ${started.toFixed(1)} ms, expected a sleep of about 32 ms`);
  assert.ok(waits.sleptMs >= 0.8 * 40 && waits.sleptMs < 0.8 * 200, `slept ${waits.sleptMs} ms`);
  // The second wait (all sleep) was shorter than the first: the third sleeps 0.8 of it, not of the first.
  const slept = waits.sleptMs;
  await waits.wait('read loss', async () => 'done');
  const third = waits.sleptMs - slept;
  assert.ok(third <= 0.8 * second + 0.01 && third >= 0.8 * (second - 5), `third sleep ${third.toFixed(1)} ms after a second wait of ${second.toFixed(1)} ms`);
  // Another kind has its own estimate.
  const before = waits.sleptMs;
  await waits.wait('read scores', async () => 'done');
  assert.equal(waits.sleptMs, before);
});

test('short waits, disabled waits and failed waits never sleep', async () => {
  const short = new QuietWaits(true);
  await short.wait('tiny', after(1));
  await short.wait('tiny', after(0));
  assert.equal(short.sleptMs, 0, 'a wait of about a millisecond is below a timer worth setting');

  const off = new QuietWaits(false);
  await off.wait('read', after(40));
  const t0 = now();
  await off.wait('read', async () => 'done');
  assert.ok(now() - t0 < 30, 'disabled waits start at once');
  assert.equal(off.sleptMs, 0);

  const failing = new QuietWaits(true);
  await assert.rejects(failing.wait('read', () => Promise.reject(new Error('device lost'))), /device lost/);
  await failing.wait('read', async () => 'done');
  assert.equal(failing.sleptMs, 0, 'a failed wait teaches nothing');
});

test('whenIdle resolves once no wait is pending, before the code that awaited the last one goes on', async () => {
  const waits = new QuietWaits(false);
  await waits.whenIdle();
  const order: string[] = [];
  const reading = (async () => {
    await waits.wait('read a', after(10));
    order.push('caller goes on');
    await waits.wait('read b', after(10));
    order.push('second read done');
  })();
  const idle = waits.whenIdle().then(() => order.push('idle'));
  await Promise.all([reading, idle]);
  assert.deepEqual(order, ['idle', 'caller goes on', 'second read done']);
});
