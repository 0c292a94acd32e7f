// A TGN run's summary over its epochs: the one rule the CLI and the demo's worker report by.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TemporalEngine, TemporalEpochMetrics } from '../../src/engines/temporal.ts';
import { TemporalRunSummary } from '../../src/engines/temporal-run-summary.ts';

function epoch(epoch: number, valAp: number, eventsPerSecond: number, staleness: TemporalEpochMetrics['staleness'], loss = 0.5): TemporalEpochMetrics {
  const stageMs = { sample: 0, fetch: 0, train: 0, write: 0, wait: 0 };
  return { epoch, loss, valAp, valAuc: valAp, testAp: valAp - 0.01, testAuc: valAp, inductiveAp: valAp, inductiveAuc: valAp, eventsPerSecond, stageMs, staleness, epochMs: 1, peakGpuBytes: [1] };
}

test('the run reports the best validation epoch, the mean rate, and k over every epoch', () => {
  const run = new TemporalRunSummary();
  assert.equal(run.best?.epoch, undefined);
  assert.equal(run.eventsPerSecond ?? 'none', 'none');
  assert.deepEqual(run.stalenessSummary, { mean: 0, max: 0, inFlightMean: 0, staleRows: 0 });
  assert.equal(run.add(epoch(1, 0.7, 400, { mean: 1, max: 1, inFlightMean: 0.5, staleRows: 10 })), false);
  assert.equal(run.add(epoch(2, 0.8, 600, { mean: 2, max: 3, inFlightMean: 1.5, staleRows: 5 })), false);
  assert.equal(run.add(epoch(3, 0.75, 500, { mean: 1.5, max: 2, inFlightMean: 1, staleRows: 0 })), false, 'patience 0 never stops');
  assert.equal(run.best?.epoch, 2);
  assert.equal(run.last?.epoch, 3);
  assert.equal(run.eventsPerSecond, 500);
  assert.deepEqual(run.stalenessSummary, { mean: 1.5, max: 3, inFlightMean: 1, staleRows: 15 });
});

test('patience stops the run, and a diverged epoch is refused naming the setting to lower', () => {
  const k0 = { mean: 0, max: 0, inFlightMean: 0, staleRows: 0 };
  const run = new TemporalRunSummary(1);
  assert.equal(run.add(epoch(1, 0.7, 1, k0)), false);
  assert.equal(run.add(epoch(2, 0.6, 1, k0)), true);
  assert.throws(() => run.add(epoch(3, 0.9, 1, k0, NaN), '--lr'), /training diverged at epoch 3: loss NaN \(try a lower --lr\)/);
  assert.equal(run.last?.epoch, 2, 'the diverged epoch is not taken');
});

test("the checkpoint kept is the best validation epoch's: taken when an epoch improves, never after a worse one", async () => {
  const k0 = { mean: 0, max: 0, inFlightMean: 0, staleRows: 0 };
  let now = 0; // the epoch the stand-in engine's state is at
  const engine = { snapshot: async () => ({ config: {}, epoch: now, rng: { seed: 0, step: now }, optimizer: { kind: 'adam', step: now, hyper: {} }, tensors: [] }) } as unknown as TemporalEngine;
  const run = new TemporalRunSummary(3);
  const kept: Array<number | null> = [];
  for (const [e, valAp] of [[1, 0.7], [2, 0.8], [3, 0.75], [4, 0.8], [5, 0.85], [6, 0.6]] as const) {
    now = e;
    run.add(epoch(e, valAp, 1, k0));
    kept.push((await run.checkpointIfBest(engine))?.epoch ?? null);
  }
  // Epoch 4 ties epoch 2 (not better): the kept state stays epoch 2's until epoch 5 improves.
  assert.deepEqual(kept, [1, 2, null, null, 5, null]);
  assert.equal(run.best?.epoch, 5);
  const data = await run.checkpoint(engine);
  assert.equal((data.extra?.earlyStopping as { best: { epoch: number } }).best.epoch, 5);
});
