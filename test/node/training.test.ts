// End-to-end training on the embedded Cora: loss falls, runs are deterministic for a seed, and a
// run resumed from a checkpoint continues bit for bit like one that never stopped.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { loadNodeDataset, type NodeDataset } from '../../src/graph/node-dataset.ts';
import { trainNodeClassification, type NodeRunOptions } from '../../src/engines/node-classification.ts';
import { SingleEngine } from '../../src/engines/single.ts';
import { builtinModel } from '../../src/nn/models/builtin.ts';
import type { EpochMetrics } from '../../src/engines/engine.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/nn/checkpoint.ts';
import { resolveDatasetSource } from '../../src/node/dataset-source.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';

let gpu: Gpu;
let cora: NodeDataset;

before(async () => {
  gpu = await createNodeGpu();
  cora = await loadNodeDataset(resolveDatasetSource('cora'));
});
after(() => gpu.destroy());

type Kind = 'gcn' | 'sage' | 'gat';

function options(model: Kind, epochs: number): NodeRunOptions {
  return {
    model,
    hidden: model === 'gat' ? 8 : 16,
    heads: 8,
    dropout: 0.5,
    epochs,
    patience: 0,
    training: { optimizer: 'adam', lr: 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: model === 'gcn' },
  };
}

async function train(model: Kind, epochs: number): Promise<EpochMetrics[]> {
  const o = options(model, epochs);
  const engine = new SingleEngine(gpu, builtinModel(cora, o), cora, o.training);
  const out: EpochMetrics[] = [];
  for await (const m of trainNodeClassification(engine, o)) out.push(m);
  engine.dispose();
  return out;
}

for (const model of ['gcn', 'sage', 'gat'] as const) {
  // Row-normalised Cora features are small, so the first epochs move slowly at lr 0.01 (as in PyG):
  // 20 epochs are enough for a clear drop and for validation accuracy far above chance (1/7).
  test(`${model}: the training loss falls and validation accuracy rises within 20 epochs`, async () => {
    const m = await train(model, 20);
    assert.equal(m.length, 20);
    assert.ok(m[19].loss < 0.9 * m[0].loss, `loss ${m[0].loss} → ${m[19].loss}`);
    assert.ok(m[19].valAcc > 0.5, `validation accuracy ${m[19].valAcc}`);
    for (const e of m) assert.ok(e.peakGpuBytes[0] > 0 && Number.isFinite(e.loss));
  });
}

test('two runs with the same seed give identical losses', async () => {
  const a = await train('gcn', 3);
  const b = await train('gcn', 3);
  assert.deepEqual(
    a.map((m) => [m.loss, m.valLoss, m.valAcc]),
    b.map((m) => [m.loss, m.valLoss, m.valAcc]),
  );
});

test('resuming from a checkpoint continues exactly like an uninterrupted run', async () => {
  const straight = await train('gcn', 5);
  const o = options('gcn', 3);
  const first = new SingleEngine(gpu, builtinModel(cora, o), cora, o.training);
  let saved: Uint8Array | null = null;
  for await (const _ of trainNodeClassification(first, { ...o, onCheckpoint: async (d) => void (saved = encodeCheckpoint(d)) })) void _;
  first.dispose();
  assert.ok(saved, 'a checkpoint was written at the end');
  const resume = decodeCheckpoint(saved);
  assert.equal(resume.epoch, 3);
  const o2 = options('gcn', 5);
  const second = new SingleEngine(gpu, builtinModel(cora, o2, resume), cora, o2.training, resume);
  const rest: EpochMetrics[] = [];
  for await (const m of trainNodeClassification(second, o2, resume)) rest.push(m);
  second.dispose();
  assert.deepEqual(rest.map((m) => m.epoch), [4, 5]);
  assert.deepEqual(
    rest.map((m) => [m.loss, m.valAcc]),
    straight.slice(3).map((m) => [m.loss, m.valAcc]),
  );
});

test('a checkpoint of another model or dataset shape is refused', async () => {
  const o = options('gcn', 1);
  const engine = new SingleEngine(gpu, builtinModel(cora, o), cora, o.training);
  const data = await engine.snapshot();
  engine.dispose();
  assert.throws(() => new SingleEngine(gpu, builtinModel(cora, options('sage', 2), data), cora, options('sage', 2).training, data), /cannot resume from this checkpoint: model is 'gcn', not 'sage'/);
});

test('a diverging run stops with a clear error and leaves the last checkpoint untouched', async () => {
  const o = { ...options('gcn', 4), checkpointEvery: 1 };
  o.training = { ...o.training, lr: 1e30 };
  const engine = new SingleEngine(gpu, builtinModel(cora, o), cora, o.training);
  const saved: number[] = [];
  const run = trainNodeClassification(engine, { ...o, onCheckpoint: async (d) => void saved.push(d.epoch) });
  let diverged = 0;
  await assert.rejects(
    async () => {
      for await (const _ of run) void _;
    },
    (error: Error) => {
      const match = /training diverged at epoch (\d+): loss \S+, validation loss \S+ \(try a lower --lr\)/.exec(error.message);
      diverged = Number(match?.[1]);
      return match !== null;
    },
  );
  engine.dispose();
  assert.ok(saved.every((e) => e < diverged), `checkpoints ${saved} written at or after the diverged epoch ${diverged}`);
});
