// Builds a GNNPipe run in Node (research/gnnpipe.md): every stage its own adapter and device, linked by
// the chosen transport — in-process hand-off ('local'), WebRTC data channels through a signaling server
// on 127.0.0.1 ('webrtc'; both node-links.ts), or one worker_thread per stage ('threads', pipe-threads.ts).
// The graph is chunked once here; the stage plan is measured once, on stage 0's device.

import type { Engine } from '../engines/engine.ts';
import { PIPE_ATTENTION_REFUSAL } from '../engines/pipe/chunked-graph.ts';
import { chunkGraph } from '../engines/pipe/chunking.ts';
import { pipeDataFor } from '../engines/pipe/pipe-data.ts';
import { checkPipeOptions, pipeDefaults, pipeStageCount, type PipeOptions } from '../engines/pipe/pipe-options.ts';
import { createPipeEngine } from '../engines/pipe/pipe-run.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { modelFactory, serializableSource, type ModelSpec } from './model-source.ts';
import { checkWorkers, withInProcessRanks, type TransportKind } from './node-links.ts';
import { ThreadedPipeEngine } from './pipe-threads.ts';

export interface PipeRunOptions {
  /** Stages, each its own device and a contiguous run of the model's blocks. */
  workers: number;
  transport: TransportKind;
  /** Adapter for every stage (WEBGNN_ADAPTER / --adapter), e.g. 'lavapipe'. */
  adapter?: string;
  /** false: every stage uses the subgroup-free kernels (--no-subgroups). */
  subgroups?: boolean;
}

/** A pipeline run as its callers see it, wherever its stages run. */
export type PipeRun = Engine & {
  readonly devices: DeviceReport[];
  /** Stages, chunks, tricks and the stage plan (engine.describe.plan: one line per stage). */
  readonly describe: Record<string, unknown>;
  readonly options: PipeOptions;
};

/**
 * A pipeline run of `model` over `run.workers` stages, with `pipe` over GNNPipe's defaults
 * (pipeDefaults: 4 chunks per stage, recomputation and all three tricks on). Every stage builds its own
 * replica (a factory for the in-process transports; a ModelSource, which threads can rebuild, for
 * 'threads') and materialises only its blocks.
 */
export async function createPipeRun(
  dataset: NodeDataset,
  model: ModelSpec,
  training: NodeTrainingOptions,
  run: PipeRunOptions,
  pipe: Partial<PipeOptions> = {},
  resume?: CheckpointData,
): Promise<PipeRun> {
  const { workers } = run;
  checkWorkers(workers);
  if (typeof model !== 'function' && 'builtin' in model && model.builtin.kind === 'gat') throw new Error(PIPE_ATTENTION_REFUSAL);
  const options = { ...pipeDefaults(workers), ...pipe };
  checkPipeOptions(options, dataset.numNodes);
  pipeStageCount(workers, options.graphParallel);
  if (run.transport === 'threads') {
    const source = serializableSource(model);
    const S = pipeStageCount(workers, options.graphParallel);
    const chunking = chunkGraph(dataset, options.chunks, training.seed);
    return ThreadedPipeEngine.start({
      data: Array.from({ length: workers }, (_, r) => pipeDataFor(dataset, chunking, r % S, S)),
      dataset,
      model: source,
      replica: (await modelFactory(source))(),
      training,
      options,
      adapter: run.adapter,
      subgroups: run.subgroups,
      resume,
    });
  }
  const replica = await modelFactory(model);
  return withInProcessRanks(workers, run.transport, { adapter: run.adapter, subgroups: run.subgroups, role: 'stage', room: 'pipe' }, ({ gpus, transports, release }) =>
    createPipeEngine(gpus, transports, dataset, replica, training, options, resume, release),
  );
}
