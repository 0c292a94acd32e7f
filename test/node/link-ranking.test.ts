// --metric mrr: each evaluation event ranked against 49 negatives. The runner scores the 49 in one batch
// (the events repeated, one repeat per negative); the reference scores each negative set in a batch of
// its own, as a user would by hand. Both read the same pre-batch memory and neither writes it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RANKING_NEGATIVES, RANKING_STEP, TemporalBatchRunner, EVAL_STEP } from '../../src/engines/temporal/batch-runner.ts';
import { TemporalEngine } from '../../src/engines/temporal.ts';
import { splitEvents } from '../../src/graph/temporal-split.ts';
import { HostNodeMemory } from '../../src/nn/tgn/host-memory.ts';
import { Tgn } from '../../src/nn/tgn/tgn.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { messageStream, SMALL_TGN } from './fixtures/message-stream.ts';

let gpu: Gpu;
test.before(async () => {
  gpu = await createNodeGpu({ label: 'ranking test' });
});
test.after(() => gpu.destroy());

const stream = messageStream(900, 2);
const split = splitEvents(stream, { seed: 0 });
const config = { ...SMALL_TGN, numNodes: stream.numNodes, edgeDim: 0 };

test('MRR against 49 negatives equals ranking each negative set in its own batch, and leaves AP unchanged', async () => {
  const model = new Tgn(config);
  model.materialize(gpu, 0);
  const runner = new TemporalBatchRunner(gpu, model, stream, split, { seed: 0, batchSize: 40 });
  const ranked = new HostNodeMemory(gpu, stream.numNodes, model.memoryDim, model.mailDim);
  const plain = new HostNodeMemory(gpu, stream.numNodes, model.memoryDim, model.mailDim);
  const withRanks = await runner.evaluate(split.val, ranked, undefined, true);
  const without = await runner.evaluate(split.val, plain, undefined, false);
  // Ranking reads memory and never writes it: AP's scores are the same, bit for bit.
  assert.deepEqual(withRanks.positive, without.positive);
  assert.deepEqual(withRanks.negative, without.negative);
  assert.equal(without.reciprocalRank, null);

  const reference = new HostNodeMemory(gpu, stream.numNodes, model.memoryDim, model.mailDim);
  const expected: number[] = [];
  for (let at = 0; at < split.val.length; at += 40) {
    const events = split.val.subarray(at, at + 40);
    await reference.settle(0); // the previous batch's writes land (host memory lands on settle)
    const drawn = runner.negatives.sample(events, RANKING_STEP, RANKING_NEGATIVES);
    const above = new Int32Array(events.length);
    let positive: Float32Array | null = null;
    for (let r = 0; r < RANKING_NEGATIVES; r++) {
      const negatives = Int32Array.from(events, (_, i) => drawn[i * RANKING_NEGATIVES + r]);
      const s = await (await runner.record(runner.upload(runner.sample(events, runner.fullGraph, RANKING_STEP, false, negatives)), reference, { write: false })).scores;
      positive ??= s.positive;
      s.negative.forEach((n, i) => (above[i] += n > positive![i] ? 1 : 0));
    }
    for (const a of above) expected.push(1 / (1 + a));
    await (await runner.record(runner.prepare(events, runner.fullGraph, EVAL_STEP, false), reference)).scores;
  }
  const got = Array.from(withRanks.reciprocalRank!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.equal(got.length, expected.length);
  // One batch of 49 repeats and 49 batches compute each row alike; a tie broken differently by rounding
  // would move one rank by one, so the ranks must agree for all but a handful of events.
  const differ = got.filter((v, i) => Math.abs(v - expected[i]) > 1e-7).length;
  assert.ok(differ <= 2, `${differ} of ${got.length} reciprocal ranks differ`);
  assert.ok(Math.abs(mean(got) - mean(expected)) < 2e-3, `MRR ${mean(got)} vs reference ${mean(expected)}`);
  assert.ok(mean(got) > 0 && mean(got) <= 1);
  runner.dispose();
  model.dispose();
});

test("the sequential engine with metric 'mrr' reports validation and test MRR beside AP; 'ap' reports none", async () => {
  const run = async (metric: 'ap' | 'mrr') => {
    const engine = new TemporalEngine(gpu, new Tgn(config), stream, split, { seed: 0, lr: 1e-3, batchSize: 50, metric });
    const metrics = [];
    for await (const m of engine.run(1)) metrics.push(m);
    engine.dispose();
    return metrics[0];
  };
  const [ap, mrr] = [await run('ap'), await run('mrr')];
  assert.equal(ap.valMrr, undefined);
  assert.ok(mrr.valMrr! > 0 && mrr.valMrr! <= 1 && mrr.testMrr! > 0 && mrr.testMrr! <= 1, JSON.stringify(mrr));
  // Ranking does not touch training or AP.
  assert.equal(mrr.loss, ap.loss);
  assert.equal(mrr.testAp, ap.testAp);
});
