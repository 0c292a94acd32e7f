// What every node-classification engine sets up and saves the same way, whether it runs on one
// device or as one of N SAR workers: the model's weights (from the seed or a checkpoint), its optimizer
// with Kipf & Welling's first-layer weight decay, and the checkpoint of both.

import type { Gpu } from '../gpu/gpu.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import type { NodeClassifier } from '../nn/models/node-classifier.ts';
import { Optimizer } from '../nn/optimizer.ts';
import type { NodeTrainingOptions } from './single.ts';

/** Materialises `model` on `gpu` and builds its optimizer, both continuing from `resume` when given. */
export function prepareTraining(gpu: Gpu, model: NodeClassifier, options: NodeTrainingOptions, resume?: CheckpointData): Optimizer {
  const params = new Map<string, Float32Array>();
  for (const t of resume?.tensors ?? []) if (t.name.startsWith('param:')) params.set(t.name.slice(6), t.data);
  model.materialize(gpu, options.seed, resume ? params : undefined);
  const decayed = options.decayFirstLayerOnly ? new Set(model.firstLayerParameters()) : null;
  const all = model.parameters();
  const optimizer = new Optimizer(
    options.optimizer,
    decayed
      ? [
          { params: all.filter((p) => decayed.has(p)), weightDecay: options.weightDecay },
          { params: all.filter((p) => !decayed.has(p)), weightDecay: 0 },
        ]
      : [{ params: all, weightDecay: options.weightDecay }],
    options,
  );
  if (resume) optimizer.loadState(resume, model.namedParameters());
  return optimizer;
}

/** Everything needed to continue exactly where training stands after `epoch` epochs. */
export async function snapshotTraining(
  model: NodeClassifier,
  optimizer: Optimizer,
  options: NodeTrainingOptions,
  epoch: number,
  extraConfig: Record<string, unknown> = {},
): Promise<CheckpointData> {
  const tensors: CheckpointTensor[] = [];
  for (const [name, t] of model.namedParameters()) {
    tensors.push({ name: `param:${name}`, shape: [...t.shape], data: new Float32Array(await t.toArray()) });
  }
  tensors.push(...(await optimizer.stateTensors(model.namedParameters())));
  return {
    config: { model: { ...model.config }, training: { ...options }, ...extraConfig },
    epoch,
    rng: { seed: options.seed, step: epoch },
    optimizer: optimizer.describe(),
    tensors,
  };
}
