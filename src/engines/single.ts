// Full-batch training of a node classifier on one device. One epoch is recorded into one command
// stream (training step, then evaluation of every split) and submitted once; the only readback is
// the epoch's five metric values, copied into one small buffer.

import type { Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { GraphInput } from '../nn/graph-input.ts';
import type { NodeClassifier } from '../nn/models/node-classifier.ts';
import type { Optimizer, OptimizerHyper, OptimizerKind } from '../nn/optimizer.ts';
import { empty, fromArray } from '../tensor/create.ts';
import { accuracyCounts, crossEntropy, predict } from '../tensor/ops/cross-entropy.ts';
import { accumulateGrad, ones } from '../tensor/ops/elementwise.ts';
import { keep, withScopeAsync } from '../tensor/scope.ts';
import { backward, noGradAsync } from '../tensor/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Engine, EpochMetrics } from './engine.ts';
import { prepareTraining, snapshotTraining } from './training-state.ts';

export interface NodeTrainingOptions extends OptimizerHyper {
  optimizer: OptimizerKind;
  seed: number;
  /** Weight decay on the first layer only (Kipf & Welling's GCN protocol); otherwise on all. */
  decayFirstLayerOnly: boolean;
}

const METRIC_SLOTS = ['loss', 'valLoss', 'trainCorrect', 'valCorrect', 'testCorrect'] as const;

export class SingleEngine implements Engine {
  readonly mode = 'single' as const;
  readonly workers = 1;
  private readonly graph: GraphInput;
  private readonly x: Tensor;
  private readonly labels: Tensor;
  private readonly splits: { train: Tensor; val: Tensor; test: Tensor };
  private readonly optimizer: Optimizer;
  private epoch = 0;

  constructor(
    readonly gpu: Gpu,
    readonly model: NodeClassifier,
    readonly dataset: NodeDataset,
    readonly options: NodeTrainingOptions,
    resume?: CheckpointData,
  ) {
    this.optimizer = prepareTraining(gpu, model, options, resume);
    this.graph = new GraphInput(gpu, dataset.numNodes, dataset.edgeSrc, dataset.edgeDst, true);
    this.x = keep(fromArray(gpu, dataset.features, [dataset.numNodes, dataset.numFeatures], { label: 'features' }));
    this.labels = keep(fromArray(gpu, dataset.labels, [dataset.numNodes], { dtype: 'i32', label: 'labels' }));
    this.splits = {
      train: keep(fromArray(gpu, dataset.train, [dataset.train.length], { dtype: 'i32', label: 'train' })),
      val: keep(fromArray(gpu, dataset.val, [dataset.val.length], { dtype: 'i32', label: 'val' })),
      test: keep(fromArray(gpu, dataset.test, [dataset.test.length], { dtype: 'i32', label: 'test' })),
    };
    if (resume) {
      this.epoch = resume.epoch;
    }
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.epoch < epochs) yield await this.trainEpoch();
  }

  private async trainEpoch(): Promise<EpochMetrics> {
    const start = performance.now();
    const { gpu, model, dataset } = this;
    const step = this.epoch;
    const metrics = await withScopeAsync(gpu, async () => {
      model.train();
      const logits = await model.forward(this.x, this.graph, { training: true, seed: this.options.seed, step });
      const loss = crossEntropy(logits, this.labels, this.splits.train);
      backward(loss, ones(gpu, [1]), accumulateGrad);
      this.optimizer.step();
      this.optimizer.zeroGrad();
      // What the scope returns survives it; everything else recorded this epoch is released.
      return noGradAsync(gpu, async () => {
          model.eval();
          const out = await model.forward(this.x, this.graph, { training: false, seed: this.options.seed, step });
          const values = [
            loss,
            crossEntropy(out, this.labels, this.splits.val),
            accuracyCounts(out, this.labels, this.splits.train),
            accuracyCounts(out, this.labels, this.splits.val),
            accuracyCounts(out, this.labels, this.splits.test),
          ];
          return packScalars(gpu, values);
        });
    });
    const bytes = await gpu.read(metrics.packed.buffer, 0, METRIC_SLOTS.length * 4);
    const values = metrics.decode(bytes);
    metrics.packed.dispose();
    this.epoch++;
    const n = (split: Int32Array) => Math.max(1, split.length);
    return {
      epoch: this.epoch,
      loss: values[0],
      valLoss: values[1],
      trainAcc: values[2] / n(dataset.train),
      valAcc: values[3] / n(dataset.val),
      testAcc: values[4] / n(dataset.test),
      epochMs: performance.now() - start,
      peakGpuBytes: [gpu.pool.peakAllocatedBytes],
      gpuBytes: [gpu.pool.allocatedBytes],
    };
  }

  /** The class the current weights predict for every node (evaluation mode, no dropout); one readback. */
  async predictions(): Promise<Int32Array> {
    const { gpu, model } = this;
    const pred = await withScopeAsync(gpu, () =>
      noGradAsync(gpu, async () => {
        model.eval();
        return predict(await model.forward(this.x, this.graph, { training: false, seed: this.options.seed, step: this.epoch }));
      }),
    );
    const bytes = await gpu.read(pred.buffer, 0, this.dataset.numNodes * 4);
    pred.dispose();
    return new Int32Array(bytes);
  }

  snapshot(): Promise<CheckpointData> {
    return snapshotTraining(this.model, this.optimizer, this.options, this.epoch);
  }

  dispose(): void {
    this.graph.dispose();
    for (const t of [this.x, this.labels, this.splits.train, this.splits.val, this.splits.test]) t.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
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
