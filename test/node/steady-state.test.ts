// A steady-state epoch allocates nothing new: no buffer (the pool reuses), no pipeline (the kernel cache),
// and no bind group — the pool hands the same buffers to the same tensors every epoch (its free lists
// keep creation order), so the step encoder's groups, keyed by buffer, are all hits.
// SAR is not covered: its received halo rows are destroyed after each round on purpose (at most two on
// the device at once), so each epoch creates them, and their groups, again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SingleEngine } from '../../src/engines/single.ts';
import { loadNodeDataset } from '../../src/graph/node-dataset.ts';
import { builtinModel } from '../../src/nn/models/builtin.ts';
import { resolveDatasetSource } from '../../src/node/dataset-source.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';

for (const model of ['gcn', 'gat'] as const) {
  test(`${model} on Cora: once the pool has settled (epoch 4 on), an epoch creates no buffer, pipeline or bind group`, async () => {
    const dataset = await loadNodeDataset(resolveDatasetSource('cora'), { rowNormalize: true });
    const gpu = await createNodeGpu({ label: `steady ${model}` });
    try {
      const engine = new SingleEngine(gpu, builtinModel(dataset, { model, hidden: 8, layers: 2, dropout: 0.5, heads: 2 }), dataset, {
        optimizer: 'adam',
        lr: 0.01,
        weightDecay: 5e-4,
        seed: 0,
        decayFirstLayerOnly: model === 'gcn',
      });
      const counts = () => ({ bindGroups: gpu.encoder.bindGroups.misses, pipelines: gpu.kernels.compiled, buffers: gpu.pool.buffersCreated });
      const perEpoch: Array<ReturnType<typeof counts>> = [];
      let before = counts();
      for await (const _ of engine.run(5)) {
        const now = counts();
        perEpoch.push({ bindGroups: now.bindGroups - before.bindGroups, pipelines: now.pipelines - before.pipelines, buffers: now.buffers - before.buffers });
        before = now;
      }
      assert.ok(perEpoch[0].pipelines > 0 && perEpoch[0].bindGroups > 0, `the first epoch builds what it needs: ${JSON.stringify(perEpoch[0])}`);
      // The pool settles once no epoch creates a buffer any more (epoch 2 may still add one: the next epoch then
      // hands some tensors other buffers); from then on every epoch is the same.
      assert.deepEqual(perEpoch.slice(3), [{ bindGroups: 0, pipelines: 0, buffers: 0 }, { bindGroups: 0, pipelines: 0, buffers: 0 }], JSON.stringify(perEpoch));
      engine.dispose?.();
    } finally {
      gpu.destroy();
    }
  });
}
