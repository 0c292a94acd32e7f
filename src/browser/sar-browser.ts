// SAR full-batch training inside one tab: the browser counterpart of the 'local' transport of
// src/node/sar-setup.ts. Every worker gets its own adapter and GPUDevice from navigator.gpu (one
// requestAdapter() + requestDevice() each), the workers are linked by in-process LocalTransports, and
// nodes are placed with the same partitioner as the CLI. The engine is SarEngine itself, so epochs,
// metrics and checkpoints are those of `webgnn train --mode sar`.

import { LocalTransport } from '../dist/local-transport.ts';
import type { Engine, EpochMetrics } from '../engines/engine.ts';
import { placeForSar, type PartitionMethod, type SarPlacement } from '../engines/sar/placement.ts';
import { SarEngine, settleWorkers } from '../engines/sar/sar-engine.ts';
import { checkPartitionable } from '../engines/sar/partition-check.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { AdapterDescription } from '../gpu/adapter-description.ts';
import { BrowserGpuProvider } from '../gpu/browser-provider.ts';
import { Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import { ownedNodes, type NodePlacement } from '../graph/partition-blocks.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import type { GraphModule } from '../nn/graph-module.ts';
import { fromArray } from '../tensor/create.ts';
import { predict } from '../tensor/ops/cross-entropy.ts';
import { withScopeAsync } from '../tensor/scope.ts';
import { noGradAsync } from '../tensor/tape.ts';

/** A tab runs a few workers, each a whole device: more would only share the same GPU more finely. */
export const MAX_BROWSER_WORKERS = 16;

export interface BrowserSarOptions {
  workers: number;
  /** How nodes are split (default 'metis', the multilevel partitioner). */
  partition?: PartitionMethod;
  /** false: keep fetched halos for the backward (the graph-parallel baseline); default true. */
  remat?: boolean;
}

export interface WorkerMemory {
  /** GPU bytes the worker's device holds now. */
  bytes: number;
  /** The most it has held since it was created. */
  peak: number;
}

/** SarEngine over in-tab workers, plus what the demo needs around it: predictions and per-worker memory. */
export class BrowserSarEngine implements Engine {
  readonly mode = 'sar' as const;
  readonly workers: number;
  /** Undirected edges between different workers' nodes, of `edges` in the graph. */
  readonly edgeCut: number;
  readonly edges: number;
  readonly nodesPerWorker: number[];
  private readonly placement: NodePlacement;

  constructor(
    private readonly engine: SarEngine,
    private readonly members: SarWorker[],
    private readonly dataset: NodeDataset,
    placed: SarPlacement,
    readonly adapters: AdapterDescription[],
  ) {
    this.workers = members.length;
    this.placement = placed.placement;
    this.edgeCut = placed.edgeCut;
    this.edges = placed.edges;
    this.nodesPerWorker = Array.from(placed.placement.sizes);
  }

  get currentEpoch(): number {
    return this.engine.currentEpoch;
  }

  run(epochs: number): AsyncGenerator<EpochMetrics> {
    return this.engine.run(epochs);
  }

  snapshot(): Promise<CheckpointData> {
    return this.engine.snapshot();
  }

  memory(): WorkerMemory[] {
    return this.members.map((w) => ({ bytes: w.gpu.pool.allocatedBytes, peak: w.gpu.pool.peakAllocatedBytes }));
  }

  /**
   * The class the current weights predict for every node: all workers run the evaluation forward
   * together (its aggregations exchange rows), each over its own nodes.
   */
  async predictions(): Promise<Int32Array> {
    const out = new Int32Array(this.dataset.numNodes);
    const local = await settleWorkers(this.members.map((w) => w.predictions()));
    this.members.forEach((w, r) => ownedNodes(this.placement, w.rank).forEach((v, i) => (out[v] = local[r][i])));
    return out;
  }

  /** Frees the workers' tensors, closes their links, then destroys their devices. */
  dispose(): void {
    this.engine.dispose();
  }
}

/**
 * Builds a SAR run of `options.workers` workers in this tab (page or Web Worker), continuing from
 * `resume` when given (any checkpoint of the same model: a SAR checkpoint is a normal one).
 */
export async function createBrowserSarEngine(
  dataset: NodeDataset,
  /** Builds one replica of the model (called once per worker). */
  model: () => GraphModule,
  training: NodeTrainingOptions,
  options: BrowserSarOptions,
  resume?: CheckpointData,
): Promise<BrowserSarEngine> {
  const { workers } = options;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_BROWSER_WORKERS) {
    throw new RangeError(`SAR in the browser: workers must be an integer in 1..${MAX_BROWSER_WORKERS}, got ${workers}`);
  }
  if (workers > dataset.numNodes) throw new RangeError(`SAR in the browser: ${workers} workers for ${dataset.numNodes} nodes`);
  const partition = options.partition ?? 'metis';
  const remat = options.remat ?? true;
  const placed = placeForSar(dataset, workers, partition, training.seed);
  const { placement, edgeCut } = placed;
  const gpus: Gpu[] = [];
  const transports = LocalTransport.group(workers);
  const members: SarWorker[] = [];
  try {
    const provider = new BrowserGpuProvider();
    for (let r = 0; r < workers; r++) {
      try {
        gpus.push(await Gpu.create(provider, { label: `worker ${r}` }));
      } catch (error) {
        throw new Error(`SAR in the browser: could not open a GPU device for worker ${r} of ${workers}: ${(error as Error).message}`);
      }
    }
    for (let r = 0; r < workers; r++) members.push(new SarWorker(gpus[r], transports[r], dataset, placement, model(), training, { remat }, resume));
    await checkPartitionable(gpus[0], members[0].model, dataset.numFeatures);
    const describe = { workers, transport: 'local', remat, partition, edgeCut };
    const engine = new SarEngine(members, describe, () => {
      for (const gpu of gpus) gpu.destroy();
    });
    return new BrowserSarEngine(engine, members, dataset, placed, gpus.map((g) => g.adapter));
  } catch (error) {
    for (const m of members) m.dispose();
    for (const t of transports) await t.close();
    for (const gpu of gpus) gpu.destroy();
    throw error;
  }
}
