// One SAR worker: its own device, its partition of the nodes, a full replica of the (small) model and
// optimizer, and a transport to its peers. An epoch is the single-device epoch with three changes:
// layers aggregate through the PartitionedGraph (rounds of peer messages), the loss of this worker's
// labelled nodes is divided by the split's global size so the workers' losses add up to the mean, and
// the weight gradients are summed over workers (ring all-reduce) before every replica takes the same
// optimizer step. Metrics are summed the same way, so every worker reports the global numbers.

import type { Gpu } from '../../gpu/gpu.ts';
import { allReduceSum } from '../../dist/collectives.ts';
import type { Transport } from '../../dist/transport.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';
import type { GraphModule } from '../../nn/graph-module.ts';
import type { Optimizer } from '../../nn/optimizer.ts';
import type { NodePlacement } from '../../graph/partition-blocks.ts';
import { fromArray } from '../../tensor/create.ts';
import { predict } from '../../tensor/ops/cross-entropy.ts';
import { keep, withScopeAsync } from '../../tensor/scope.ts';
import { noGradAsync } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { allReduceGradients } from '../gradient-all-reduce.ts';
import { checkOutput, runNodeEpoch } from '../node-epoch.ts';
import { prepareTraining, snapshotTraining, type NodeTrainingOptions } from '../training-state.ts';
import { PartitionedGraph } from './partitioned-graph.ts';
import { isWorkerPartition, partitionFor, type WorkerPartition } from './worker-partition.ts';

/** Collective tag ids used by a worker (one collective of each kind in flight at a time). */
const TAG_GRADIENTS = 1;
const TAG_METRICS = 2;

export interface SarWorkerOptions {
  /** Keep fetched halos for the backward (graph-parallel baseline) instead of SAR's rounds. */
  remat: boolean;
}

/** One epoch's global metrics as every worker computes them (identical on all ranks). */
export interface SarEpochResult {
  loss: number;
  valLoss: number;
  trainAcc: number;
  valAcc: number;
  testAcc: number;
  epochMs: number;
  peakGpuBytes: number;
  gpuBytes: number;
  bytesSent: number;
  bytesReceived: number;
}

interface LocalSplits {
  train: Tensor;
  val: Tensor;
  test: Tensor;
  /** Global split sizes: the denominators of the losses and accuracies. */
  sizes: { train: number; val: number; test: number };
}

export class SarWorker {
  readonly graph: PartitionedGraph;
  private readonly numClasses: number;
  private readonly optimizer: Optimizer;
  private readonly x: Tensor;
  private readonly labels: Tensor;
  private readonly splits: LocalSplits;
  private epoch = 0;

  constructor(
    readonly gpu: Gpu,
    readonly transport: Transport,
    /** The whole dataset (this worker takes its share), or only its share (a room member's). */
    data: NodeDataset | WorkerPartition,
    placement: NodePlacement,
    /** This worker's replica of the model (every worker builds the same one). */
    readonly model: GraphModule,
    readonly options: NodeTrainingOptions,
    workerOptions: SarWorkerOptions,
    resume?: CheckpointData,
  ) {
    const rank = transport.rank;
    const part = isWorkerPartition(data) ? data : partitionFor(data, placement, rank);
    if (part.nodes.length !== placement.sizes[rank]) {
      throw new RangeError(`SarWorker ${rank}: partition has ${part.nodes.length} nodes, placement gives it ${placement.sizes[rank]}`);
    }
    this.numClasses = part.numClasses;
    this.optimizer = prepareTraining(gpu, this.model, options, resume);
    this.epoch = resume?.epoch ?? 0;
    this.graph = new PartitionedGraph(gpu, transport, { numNodes: part.numNodes, src: part.edgeSrc, dst: part.edgeDst }, placement, {
      remat: workerOptions.remat,
    });
    const n = part.nodes.length;
    this.graph.rowIds = keep(fromArray(gpu, Uint32Array.from(part.nodes), [n], { dtype: 'u32', label: 'row_ids' }));
    this.x = keep(fromArray(gpu, part.features, [n, part.numFeatures], { label: 'features' }));
    this.labels = keep(fromArray(gpu, part.labels, [n], { dtype: 'i32', label: 'labels' }));
    const ids = (split: Int32Array<ArrayBuffer>, name: string) => keep(fromArray(gpu, split, [split.length], { dtype: 'i32', label: name }));
    this.splits = { train: ids(part.train, 'train'), val: ids(part.val, 'val'), test: ids(part.test, 'test'), sizes: part.sizes };
  }

  get rank(): number {
    return this.transport.rank;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** One training epoch plus evaluation; on any failure tells the peers before rethrowing. */
  async trainEpoch(): Promise<SarEpochResult> {
    try {
      return await this.epochBody();
    } catch (error) {
      this.transport.abort(`worker ${this.rank} stopped: ${(error as Error).message}`);
      throw error;
    }
  }

  private async epochBody(): Promise<SarEpochResult> {
    const start = performance.now();
    const { gpu, splits } = this;
    const sentBefore = sum(this.transport.stats.bytesSent);
    const receivedBefore = sum(this.transport.stats.bytesReceived);
    const local = await runNodeEpoch(gpu, {
      model: this.model,
      graph: this.graph,
      x: this.x,
      labels: this.labels,
      splits,
      numClasses: this.numClasses,
      // Each worker's share of a loss is divided by the split's global size: the shares add up to the mean.
      denominators: splits.sizes,
      optimizer: this.optimizer,
      seed: this.options.seed,
      step: this.epoch,
      afterBackward: () => this.allReduceGradients(),
    });
    // Counts are exact in f32 up to 2²⁴ nodes per split.
    const global = await allReduceSum(this.transport, Float32Array.from(local), TAG_METRICS);
    this.epoch++;
    const n = (count: number) => Math.max(1, count);
    return {
      loss: global[0],
      valLoss: global[1],
      trainAcc: global[2] / n(splits.sizes.train),
      valAcc: global[3] / n(splits.sizes.val),
      testAcc: global[4] / n(splits.sizes.test),
      epochMs: performance.now() - start,
      peakGpuBytes: gpu.pool.peakAllocatedBytes,
      gpuBytes: gpu.pool.allocatedBytes,
      bytesSent: sum(this.transport.stats.bytesSent) - sentBefore,
      bytesReceived: sum(this.transport.stats.bytesReceived) - receivedBefore,
    };
  }

  /** Sums every parameter's gradient over the workers: one readback, one ring all-reduce, one upload each. */
  private allReduceGradients(): Promise<void> {
    return allReduceGradients(this.gpu, this.transport, this.model.parameters(), TAG_GRADIENTS);
  }

  /** The class the current weights predict for each of this worker's nodes (eval mode); every worker must call it together. */
  async predictions(): Promise<Int32Array> {
    const { gpu, model } = this;
    this.graph.random = { seed: this.options.seed, step: this.epoch };
    try {
      const pred = await withScopeAsync(gpu, () =>
        noGradAsync(gpu, async () => {
          model.eval();
          return predict(checkOutput(await model.forward(this.graph, this.x), this.graph, this.numClasses));
        }),
      );
      const local = new Int32Array(await gpu.read(pred.buffer, 0, this.graph.numNodes * 4));
      pred.dispose();
      return local;
    } catch (error) {
      // Peers waiting for this worker's rows stop too, as in a training epoch.
      this.transport.abort(`worker ${this.rank} stopped: ${(error as Error).message}`);
      throw error;
    }
  }

  snapshot(extraConfig: Record<string, unknown> = {}): Promise<CheckpointData> {
    return snapshotTraining(this.model, this.optimizer, this.options, this.epoch, extraConfig);
  }

  dispose(): void {
    this.graph.dispose();
    for (const t of [this.x, this.labels, this.splits.train, this.splits.val, this.splits.test]) t.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
