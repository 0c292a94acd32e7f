// What every node-classification engine sets up and saves the same way, whether it runs on one
// device or as one of N SAR workers: the model's weights (from the seed or a checkpoint, checked by
// name and shape), its optimizer with Kipf & Welling's first-layer weight decay, and the checkpoint of both.

import type { Gpu } from '../gpu/gpu.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import { blocksOf } from '../nn/graph-module.ts';
import type { Module } from '../nn/module.ts';
import { Optimizer, type OptimizerHyper, type OptimizerKind } from '../nn/optimizer.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface NodeTrainingOptions extends OptimizerHyper {
  optimizer: OptimizerKind;
  seed: number;
  /** Weight decay on the first block that has parameters only (Kipf & Welling's GCN protocol); otherwise on all. */
  decayFirstLayerOnly: boolean;
}

/** The model's parameters as a checkpoint holds them ('param:<dotted name>'), with their shapes. */
export function checkpointParameters(resume: CheckpointData): Map<string, { shape: number[]; data: Float32Array }> {
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of resume.tensors) if (t.name.startsWith('param:')) params.set(t.name.slice(6), { shape: t.shape, data: t.data });
  return params;
}

/** Parameters of the model's first block that has any: Kipf & Welling decay these only. */
export function firstLayerParameters(model: Module): Tensor[] {
  const first = blocksOf(model).find((b) => b.parameterShapes().length > 0);
  return first ? first.parameters() : [];
}

/** Full dotted names of the parameters of the model's first block that has any (known before materialising). */
export function firstLayerNames(model: Module): Set<string> {
  const first = blocksOf(model).find((b) => b.parameterShapes().length > 0);
  if (!first) return new Set();
  const prefix = first === model || !first.path ? '' : `${first.path}.`;
  return new Set(first.parameterShapes().map(([name]) => prefix + name));
}

/**
 * Materialises `model` on `gpu` and builds its optimizer, both continuing from `resume` when given
 * (a checkpoint whose parameter names or shapes differ from the model's is refused, naming each).
 */
export function prepareTraining(gpu: Gpu, model: Module, options: NodeTrainingOptions, resume?: CheckpointData): Optimizer {
  model.materialize(gpu, options.seed, resume ? checkpointParameters(resume) : undefined);
  const optimizer = buildOptimizer(model, model.namedParameters(), options);
  if (resume) optimizer.loadState(resume, model.namedParameters());
  return optimizer;
}

/**
 * The optimizer of `named` (all of `model`'s parameters, or a pipeline stage's share, by full name): one
 * group per weight decay. The decay of each parameter is the model's (`weightDecayFor`), except under
 * Kipf & Welling's rule (`decayFirstLayerOnly`), which decays the first block with parameters only.
 */
export function buildOptimizer(model: Module, named: Array<[string, Tensor]>, options: NodeTrainingOptions): Optimizer {
  const first = options.decayFirstLayerOnly ? firstLayerNames(model) : null;
  const groups = new Map<number, Tensor[]>();
  for (const [name, p] of named) {
    const decay = first ? (first.has(name) ? options.weightDecay : 0) : model.weightDecayFor(name, options.weightDecay);
    if (!groups.has(decay)) groups.set(decay, []);
    groups.get(decay)!.push(p);
  }
  return new Optimizer(
    options.optimizer,
    [...groups].map(([weightDecay, params]) => ({ params, weightDecay })),
    options,
  );
}

/** A model's weights ('param:<dotted name>') and its optimizer's state, read back, as a checkpoint holds them. */
export async function trainingTensors(model: Module, optimizer: Optimizer): Promise<CheckpointTensor[]> {
  const named = model.namedParameters();
  const tensors: CheckpointTensor[] = [];
  for (const [name, t] of named) tensors.push({ name: `param:${name}`, shape: [...t.shape], data: new Float32Array(await t.toArray()) });
  tensors.push(...(await optimizer.stateTensors(named)));
  return tensors;
}

/** Everything needed to continue exactly where training stands after `epoch` epochs. */
export async function snapshotTraining(
  model: Module,
  optimizer: Optimizer,
  options: NodeTrainingOptions,
  epoch: number,
  extraConfig: Record<string, unknown> = {},
): Promise<CheckpointData> {
  const tensors = await trainingTensors(model, optimizer);
  return {
    config: { model: model.describe(), training: { ...options }, ...extraConfig },
    epoch,
    rng: { seed: options.seed, step: epoch },
    optimizer: optimizer.describe(),
    tensors,
  };
}
