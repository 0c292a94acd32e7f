// Early stopping: the best epoch, patience, the state a checkpoint carries across a resume, and which
// epochs the training loop checkpoints.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EarlyStopping } from '../../src/engines/early-stopping.ts';
import type { Engine } from '../../src/engines/engine.ts';
import { consumeRun, trainNodeClassification } from '../../src/engines/node-classification.ts';
import type { CheckpointData } from '../../src/nn/checkpoint.ts';

interface Scored {
  epoch: number;
  valAp: number;
}
const byAp = (a: Scored, b: Scored) => a.valAp > b.valAp;

test('early stopping keeps the best epoch and stops after `patience` epochs without a better one', () => {
  const s = new EarlyStopping<Scored>(2, byAp);
  assert.equal(s.update({ epoch: 1, valAp: 0.6 }), false);
  assert.equal(s.update({ epoch: 2, valAp: 0.7 }), false);
  assert.equal(s.update({ epoch: 3, valAp: 0.65 }), false);
  assert.equal(s.update({ epoch: 4, valAp: 0.7 }), true, 'a tie is not better');
  assert.deepEqual(s.best, { epoch: 2, valAp: 0.7 });
  const never = new EarlyStopping<Scored>(0, byAp);
  for (let e = 1; e <= 20; e++) assert.equal(never.update({ epoch: e, valAp: 0.5 }), false);
});

test('a resumed run counts on from the saved best epoch, as one uninterrupted run would', () => {
  const epochs = [0.6, 0.8, 0.7, 0.75, 0.79, 0.5].map((valAp, i) => ({ epoch: i + 1, valAp }));
  const whole = new EarlyStopping<Scored>(3, byAp);
  const wholeStops = epochs.map((m) => whole.update(m));

  const first = new EarlyStopping<Scored>(3, byAp);
  const before = epochs.slice(0, 3).map((m) => first.update(m));
  // What a checkpoint file holds is JSON.
  const extra = JSON.parse(JSON.stringify({ earlyStopping: first.saved })) as Record<string, unknown>;
  const resumed = new EarlyStopping<Scored>(3, byAp);
  resumed.restoreFrom(extra);
  const after = epochs.slice(3).map((m) => resumed.update(m));
  assert.deepEqual([...before, ...after], wholeStops);
  assert.deepEqual(resumed.best, whole.best);
  assert.equal(resumed.best?.epoch, 2);
});

test('a checkpoint without early-stopping state starts afresh; a malformed one is refused', () => {
  const s = new EarlyStopping<Scored>(3, byAp);
  s.restoreFrom(undefined);
  s.restoreFrom({ memoryTime: [] });
  assert.equal(s.best, null);
  for (const bad of [null, 7, { best: null }, { best: null, sinceBest: -1 }, { best: null, sinceBest: 1.5 }, { best: 'x', sinceBest: 0 }, { best: { valAp: 1 }, sinceBest: 0 }]) {
    assert.throws(() => s.restoreFrom({ earlyStopping: bad }), /early-stopping state is malformed/, JSON.stringify(bad));
  }
});

// The loop's checkpoints, driven by a scripted engine: which epochs are saved is the loop's rule alone.
function scriptedEngine(scores: Array<{ valAcc: number; valLoss?: number; evaluated?: boolean }>, mode: Engine['mode'] = 'pipe'): Engine {
  let epoch = 0;
  return {
    mode,
    workers: 1,
    async *run(epochs: number) {
      while (epoch < epochs && epoch < scores.length) {
        const s = scores[epoch++];
        yield { epoch, loss: 1, valLoss: s.valLoss ?? 1, trainAcc: 0, valAcc: s.valAcc, testAcc: s.valAcc / 2, epochMs: 1, peakGpuBytes: [0], gpuBytes: [0], evaluated: s.evaluated ?? true };
      }
    },
    snapshot: async () => ({ config: {}, epoch, rng: { seed: 0, step: epoch }, optimizer: { kind: 'adam', step: epoch, lr: 0.01 }, tensors: [] }) as unknown as CheckpointData,
    dispose() {},
  };
}

const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 0, seed: 0, decayFirstLayerOnly: false };

test('checkpointBest saves at each new best exact evaluation and not at the end, so the saved epoch is the reported one', async () => {
  // Epoch 3 is not evaluated (pipe mode's --eval-every): its carried-over figures never make it a best.
  const scores = [{ valAcc: 0.5 }, { valAcc: 0.7 }, { valAcc: 0.9, evaluated: false }, { valAcc: 0.6 }, { valAcc: 0.7, valLoss: 0.5 }, { valAcc: 0.65 }];
  const saved: number[] = [];
  const summary = await consumeRun(
    trainNodeClassification(scriptedEngine(scores), { epochs: 6, patience: 0, training, checkpointBest: true, onCheckpoint: async (d) => void saved.push(d.epoch) }),
    () => {},
  );
  assert.deepEqual(saved, [1, 2, 5], 'a tie in accuracy with a lower validation loss is a new best');
  assert.equal(summary.best?.epoch, 5);
  assert.equal(summary.last?.epoch, 6);
  const last: number[] = [];
  await consumeRun(trainNodeClassification(scriptedEngine(scores, 'single'), { epochs: 6, patience: 0, training, checkpointEvery: 4, onCheckpoint: async (d) => void last.push(d.epoch) }), () => {});
  assert.deepEqual(last, [4, 6], 'without checkpointBest: every N epochs and the last');
  await assert.rejects(trainNodeClassification(scriptedEngine(scores), { epochs: 6, patience: 0, training, checkpointBest: true, checkpointEvery: 2 }).next(), /checkpointEvery does not apply/);
});
