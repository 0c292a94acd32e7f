// Builds a SAR run in Node: partitions the graph, gives every worker its own adapter and device, and
// links the workers with the chosen transport — in-process hand-off ('local'), WebRTC data channels
// through a signaling server on 127.0.0.1 ('webrtc', the code a browser tab runs; both node-links.ts),
// or one worker_thread per worker ('threads', see sar-threads.ts).

import type { Engine } from '../engines/engine.ts';
import { SarEngine } from '../engines/sar/sar-engine.ts';
import { checkPartitionable } from '../engines/sar/partition-check.ts';
import { SarWorker } from '../engines/sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import { placeForSar, type PartitionMethod } from '../engines/sar/placement.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { modelFactory, serializableSource, type ModelSpec } from './model-source.ts';
import { checkWorkers, withInProcessRanks, type TransportKind } from './node-links.ts';
import { ThreadedSarEngine } from './sar-threads.ts';

export type SarTransportKind = TransportKind;

export interface SarRunOptions {
  workers: number;
  transport: SarTransportKind;
  /** false: the graph-parallel baseline that keeps fetched halos for the backward. */
  remat: boolean;
  partition: PartitionMethod;
  /** Adapter for every worker (WEBGNN_ADAPTER / --adapter), e.g. 'lavapipe'. */
  adapter?: string;
  /** false: every worker uses the subgroup-free kernels (--no-subgroups). */
  subgroups?: boolean;
}

/**
 * A SAR run of `model` over `options.workers` workers: each builds its own replica (a factory for the
 * in-process transports; a ModelSource, which threads can rebuild, for 'threads').
 */
export async function createSarEngine(
  dataset: NodeDataset,
  model: ModelSpec,
  training: NodeTrainingOptions,
  options: SarRunOptions,
  resume?: CheckpointData,
): Promise<Engine & { readonly devices: DeviceReport[] }> {
  const { workers } = options;
  checkWorkers(workers);
  const { placement, edgeCut } = placeForSar(dataset, workers, options.partition, training.seed);
  const describe = { workers, transport: options.transport, remat: options.remat, partition: options.partition, edgeCut };
  if (options.transport === 'threads') {
    return ThreadedSarEngine.start({ dataset, placement, model: serializableSource(model), training, remat: options.remat, adapter: options.adapter, subgroups: options.subgroups, resume, describe });
  }
  const replica = await modelFactory(model);
  return withInProcessRanks(workers, options.transport, { adapter: options.adapter, subgroups: options.subgroups, role: 'worker', room: 'sar' }, async ({ gpus, transports, release }) => {
    const members = gpus.map((gpu, rank) => new SarWorker(gpu, transports[rank], dataset, placement, replica(), training, { remat: options.remat }, resume));
    await checkPartitionable(gpus[0], members[0].model, dataset.numFeatures);
    return new SarEngine(members, describe, release);
  });
}
