// One epoch of full-batch node classification, as every node engine runs it (one device, or one SAR
// worker over its partition): training forward, loss, backward, optional gradient sum over workers,
// optimizer step, then evaluation of every split in eval mode — recorded into one command stream and
// read back once (the five metric values, copied into one small buffer).

import type { Gpu } from '../gpu/gpu.ts';
import type { NodeGraph, RandomKey } from '../nn/graph-input.ts';
import type { GraphModule } from '../nn/graph-module.ts';
import { ShapeError } from '../nn/input-checks.ts';
import type { Optimizer } from '../nn/optimizer.ts';
import { empty } from '../tensor/create.ts';
import { accuracyCounts, crossEntropy } from '../tensor/ops/cross-entropy.ts';
import { accumulateGrad, ones } from '../tensor/ops/elementwise.ts';
import { withScopeAsync } from '../tensor/scope.ts';
import { backwardAsync, noGradAsync } from '../tensor/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';

export const METRIC_SLOTS = ['loss', 'valLoss', 'trainCorrect', 'valCorrect', 'testCorrect'] as const;

export interface NodeEpochInputs {
  model: GraphModule;
  /** The graph the model aggregates over; its random key is set to (seed, step) for this epoch. */
  graph: NodeGraph & { random: RandomKey };
  x: Tensor;
  labels: Tensor;
  splits: { train: Tensor; val: Tensor; test: Tensor };
  numClasses: number;
  /** Divide each split's loss by these instead of the local counts (SAR: the global split sizes). */
  denominators?: { train: number; val: number };
  optimizer: Optimizer;
  seed: number;
  step: number;
  /** Between backward and the optimizer step (SAR: sum the gradients over workers). */
  afterBackward?: () => Promise<void>;
}

/** Trains one epoch and evaluates; resolves to the METRIC_SLOTS values of this device's rows. */
export async function runNodeEpoch(gpu: Gpu, e: NodeEpochInputs): Promise<number[]> {
  const { model, graph } = e;
  graph.random = { seed: e.seed, step: e.step };
  // Training in a scope of its own: its activations are released before the evaluation allocates, so
  // the epoch's peak is the larger of the two passes, not their sum (the plan found the sum). The loss
  // is returned, so it survives.
  const loss = await withScopeAsync(gpu, async () => {
    model.train();
    const logits = checkOutput(await model.forward(graph, e.x), graph, e.numClasses);
    const trainLoss = crossEntropy(logits, e.labels, e.splits.train, { denominator: e.denominators?.train });
    await backwardAsync(trainLoss, ones(gpu, [1]), accumulateGrad);
    await e.afterBackward?.();
    e.optimizer.step();
    e.optimizer.zeroGrad();
    return trainLoss;
  });
  try {
    return await withScopeAsync(gpu, () =>
      noGradAsync(gpu, async () => {
        model.eval();
        const out = checkOutput(await model.forward(graph, e.x), graph, e.numClasses);
        const metrics = packScalars(gpu, [
          loss,
          crossEntropy(out, e.labels, e.splits.val, { denominator: e.denominators?.val }),
          accuracyCounts(out, e.labels, e.splits.train),
          accuracyCounts(out, e.labels, e.splits.val),
          accuracyCounts(out, e.labels, e.splits.test),
        ]);
        const values = metrics.decode(await gpu.read(metrics.packed.buffer, 0, METRIC_SLOTS.length * 4));
        metrics.packed.dispose();
        return values;
      }),
    );
  } finally {
    loss.dispose();
  }
}

/** A model whose output is not one row of class scores per node is refused, naming both shapes. */
export function checkOutput(logits: Tensor, graph: NodeGraph, numClasses: number): Tensor {
  if (logits.shape.length !== 2 || logits.rows !== graph.numNodes || logits.cols !== numClasses) {
    throw new ShapeError(
      `the model's output ${logits} should be [${graph.numNodes}, ${numClasses}]: one row per node and one column per class ` +
        `(the dataset has ${numClasses} classes; make the last layer's output width ${numClasses})`,
    );
  }
  return logits;
}

/** Copies [1]-shaped scalars (f32 or u32) into one buffer so the epoch reads back once. */
export function packScalars(gpu: Gpu, values: Tensor[]): { packed: Tensor; decode(bytes: ArrayBuffer): number[] } {
  const packed = empty(gpu, [values.length], 'f32', 'metrics');
  values.forEach((v, i) => gpu.encoder.copy(v.buffer, 0, packed.buffer, i * 4, 4));
  const dtypes = values.map((v) => v.dtype);
  return {
    packed,
    decode(bytes) {
      const f = new Float32Array(bytes);
      const u = new Uint32Array(bytes);
      const s = new Int32Array(bytes);
      return dtypes.map((d, i) => (d === 'f32' ? f[i] : d === 'u32' ? u[i] : s[i]));
    },
  };
}
