// Full-batch training of any node model (a GraphModule) on one device. One epoch is recorded into one
// command stream (training step, then evaluation of every split) and submitted once; the only readback
// is the epoch's five metric values (node-epoch.ts).

import type { DeviceReport, Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { GraphInput } from '../nn/graph-input.ts';
import type { GraphModule } from '../nn/graph-module.ts';
import type { Optimizer } from '../nn/optimizer.ts';
import { fromArray } from '../tensor/create.ts';
import { predict } from '../tensor/ops/cross-entropy.ts';
import { keep, withScopeAsync } from '../tensor/scope.ts';
import { noGradAsync } from '../tensor/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Engine, EpochMetrics } from './engine.ts';
import { checkOutput, runNodeEpoch } from './node-epoch.ts';
import { prepareTraining, snapshotTraining, type NodeTrainingOptions } from './training-state.ts';

export type { NodeTrainingOptions } from './training-state.ts';

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
    readonly model: GraphModule,
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
    if (resume) this.epoch = resume.epoch;
  }

  get devices(): DeviceReport[] {
    return [this.gpu.report];
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.epoch < epochs) yield await this.trainEpoch();
  }

  private async trainEpoch(): Promise<EpochMetrics> {
    const start = performance.now();
    const { gpu, dataset } = this;
    const values = await runNodeEpoch(gpu, {
      model: this.model,
      graph: this.graph,
      x: this.x,
      labels: this.labels,
      splits: this.splits,
      numClasses: dataset.numClasses,
      optimizer: this.optimizer,
      seed: this.options.seed,
      step: this.epoch,
    });
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
    this.graph.random = { seed: this.options.seed, step: this.epoch };
    const pred = await withScopeAsync(gpu, () =>
      noGradAsync(gpu, async () => {
        model.eval();
        return predict(checkOutput(await model.forward(this.graph, this.x), this.graph, this.dataset.numClasses));
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
