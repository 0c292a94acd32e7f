// QuietWaits: sleeping through most of a wait for the device, where dawn.node would spin the event loop.
// The waits run on a virtual clock: a nap advances it by exactly what was asked, and the simulated device
// work advances it by its duration, so every figure below is exact and nothing depends on how loaded the
// machine is or how late its timers fire.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuietWaits, waitKey, type WaitClock } from '../../src/gpu/quiet-waits.ts';
import type { WorkTally } from '../../src/gpu/step-encoder.ts';

/**
 * The naps taken, against those expected. Virtual times are sums of floats (a nap of 0.8 · 37 ms is not
 * a binary fraction), so a nap may differ from its figure in the last bits: to 1e-9 ms, never more.
 */
function assertNaps(clock: VirtualClock, expected: number[], message?: string): void {
  assert.equal(clock.naps.length, expected.length, `${message ?? 'naps'}: ${clock.naps.join(', ')} against ${expected.join(', ')}`);
  clock.naps.forEach((nap, i) => assert.ok(Math.abs(nap - expected[i]) < 1e-9, `${message ?? 'naps'}: nap ${i} is ${nap} ms, expected ${expected[i]}`));
}

/** The work of one training step, say. */
const STEP: WorkTally = { dispatches: 40, workgroups: 120_000, bytes: 4096 };

/** A clock that moves only when told: by a nap, or by the device work of a wait. */
class VirtualClock implements WaitClock {
  time = 0;
  /** Every nap taken, in ms, in order. */
  readonly naps: number[] = [];

  now(): number {
    return this.time;
  }

  async sleep(ms: number): Promise<void> {
    this.naps.push(ms);
    this.time += ms;
  }

  /** A wait's start(): the device settles `ms` after it is asked; records when it was asked. */
  work(ms: number, asked?: number[]): () => Promise<string> {
    return async () => {
      asked?.push(this.time);
      this.time += ms;
      return 'done';
    };
  }
}

test('a wait sleeps for 0.8 of the last such wait before starting; one over before its nap ends is measured afresh', async () => {
  const clock = new VirtualClock();
  const waits = new QuietWaits(true, clock);
  assert.equal(await waits.wait('read loss', STEP, clock.work(40)), 'done');
  assertNaps(clock, [], 'nothing to go by on the first wait');
  // The second sleeps 0.8 · 40 = 32 ms, then asks the device, which takes 5 more: the wait took 37.
  const asked: number[] = [];
  const t0 = clock.now();
  await waits.wait('read loss', STEP, clock.work(5, asked));
  assertNaps(clock, [32]);
  assert.deepEqual(asked, [t0 + 32], 'the device is asked once the nap is over');
  assert.equal(waits.sleptMs, 32);
  // A shorter wait replaces the estimate (37); this one is already done when its nap ends (0.8 · 37), so
  // the estimate is dropped: the next such wait does not sleep and measures (40), and the one after
  // that sleeps 0.8 · 40 again.
  await waits.wait('read loss', STEP, clock.work(0));
  assertNaps(clock, [32, 0.8 * 37]);
  await waits.wait('read loss', STEP, clock.work(40));
  assertNaps(clock, [32, 0.8 * 37], 'the wait after an overshoot spins and measures');
  await waits.wait('read loss', STEP, clock.work(1));
  assertNaps(clock, [32, 0.8 * 37, 32], 'and the one after that sleeps again');
  assert.ok(Math.abs(waits.sleptMs - (32 + 0.8 * 37 + 32)) < 1e-9, `slept ${waits.sleptMs} ms`);
  // Another kind has its own estimate.
  await waits.wait('read scores', STEP, clock.work(0));
  assert.equal(clock.naps.length, 3);
});

test('a longer wait moves the estimate up by 0.3 of the difference; a shorter one replaces it', async () => {
  const clock = new VirtualClock();
  const waits = new QuietWaits(true, clock);
  await waits.wait('finish', STEP, clock.work(10)); // estimate 10
  await waits.wait('finish', STEP, clock.work(22)); // nap 8, took 30: estimate 10 + 0.3 · 20 = 16
  await waits.wait('finish', STEP, clock.work(2)); // nap 12.8, took 14.8 < 16: estimate 14.8
  await waits.wait('finish', STEP, clock.work(2));
  assertNaps(clock, [8, 0.8 * 16, 0.8 * 14.8]);
});

test('short waits, disabled waits and failed waits never sleep', async () => {
  const clock = new VirtualClock();
  const short = new QuietWaits(true, clock);
  await short.wait('tiny', STEP, clock.work(1));
  await short.wait('tiny', STEP, clock.work(0));
  assertNaps(clock, [], 'a wait of about a millisecond is below a timer worth setting');
  assert.equal(short.sleptMs, 0);

  const off = new QuietWaits(false, clock);
  await off.wait('read', STEP, clock.work(40));
  const asked: number[] = [];
  const t0 = clock.now();
  await off.wait('read', STEP, clock.work(0, asked));
  assert.deepEqual(asked, [t0], 'disabled waits start at once');
  assertNaps(clock, []);
  assert.equal(off.sleptMs, 0);

  const failing = new QuietWaits(true, clock);
  await assert.rejects(
    failing.wait('read', STEP, async () => {
      clock.time += 40;
      throw new Error('device lost');
    }),
    /device lost/,
  );
  await failing.wait('read', STEP, clock.work(0));
  assertNaps(clock, [], 'a failed wait teaches nothing');
  assert.equal(failing.sleptMs, 0);
});

test('whenIdle resolves once no wait is pending, before the code that awaited the last one goes on', async () => {
  const waits = new QuietWaits(false);
  await waits.whenIdle();
  const order: string[] = [];
  const settle = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), ms));
  const reading = (async () => {
    await waits.wait('read a', STEP, settle(10));
    order.push('caller goes on');
    await waits.wait('read b', STEP, settle(10));
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
  const clock = new VirtualClock();
  const waits = new QuietWaits(true, clock);
  await waits.wait('finish', { dispatches: 1, workgroups: 50_000, bytes: 0 }, clock.work(40));
  await waits.wait('finish', { dispatches: 0, workgroups: 0, bytes: 1 << 20 }, clock.work(1));
  assertNaps(clock, []);
});
