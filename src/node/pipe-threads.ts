// GNNPipe with one worker_thread per stage: each thread opens its own Dawn instance and device and runs
// one PipeStage; boundary rows move between threads over MessagePorts. The main thread only sends
// commands and combines the stages' results (PipeMetrics, as the in-process engine does). The stage plan
// is measured once, in thread 0 (stage 0 holds the features the profile runs on), and handed to every
// stage. A thread that dies is reported to the others (watchWorkers): the run ends with an error naming
// the stage instead of waiting forever.

import type { ThreadLinks } from '../dist/thread-transport.ts';
import { PeerError } from '../dist/transport.ts';
import type { Engine, EpochMetrics } from '../engines/engine.ts';
import type { PipeData } from '../engines/pipe/pipe-data.ts';
import { pipeCheckpoint, PipeMetrics } from '../engines/pipe/pipe-engine.ts';
import { hybridPosition, type PipeOptions } from '../engines/pipe/pipe-options.ts';
import type { StageEpochResult } from '../engines/pipe/pipe-stage.ts';
import type { StagePlan } from '../engines/pipe/stage-plan.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import type { Module } from '../nn/module.ts';
import { checkReply, settleReplies, threadEntry, ThreadedEngineBase, type EngineThread } from './engine-threads.ts';
import type { ModelSource } from './model-source.ts';

export interface PipeThreadData {
  links: ThreadLinks;
  /** This stage's share of the dataset, in the chunks' numbering. */
  data: PipeData;
  /** Stage 0 only: the dataset the stage plan is profiled on. */
  planning: NodeDataset | null;
  /** What each thread rebuilds its replica of the model from. */
  model: ModelSource;
  training: NodeTrainingOptions;
  options: PipeOptions;
  adapter?: string;
  subgroups?: boolean;
  resume?: CheckpointData;
}

export type PipeReply =
  | { type: 'ready'; device: DeviceReport }
  | { type: 'plan'; plan: StagePlan; describe: Record<string, unknown> }
  | { type: 'built' }
  | { type: 'epoch'; result: StageEpochResult }
  | { type: 'state'; tensors: CheckpointTensor[]; optimizer: CheckpointData['optimizer'] };

const ENTRY = threadEntry('pipe-thread-entry');
const WHAT = 'pipeline stage thread';

export interface ThreadedPipeStart {
  /** Every stage's data, stage r at index r (pipeDataFor). */
  data: PipeData[];
  dataset: NodeDataset;
  model: ModelSource;
  /** The main thread's replica (never materialised): what the checkpoint describes. */
  replica: Module;
  training: NodeTrainingOptions;
  options: PipeOptions;
  adapter?: string;
  subgroups?: boolean;
  resume?: CheckpointData;
}

export class ThreadedPipeEngine extends ThreadedEngineBase<PipeReply> implements Engine {
  readonly mode = 'pipe' as const;
  private epoch: number;
  private readonly metrics: PipeMetrics;
  /** Every epoch's stage results, in order. */
  readonly history: StageEpochResult[][] = [];

  private constructor(
    threads: EngineThread<PipeReply>[],
    unwatch: () => void,
    devices: DeviceReport[],
    private readonly start: ThreadedPipeStart,
    /** Recorded in checkpoints and summaries (stages, chunks, plan, tricks). */
    readonly describe: Record<string, unknown>,
  ) {
    super(threads, unwatch, devices);
    this.epoch = start.resume?.epoch ?? 0;
    const { dataset } = start;
    this.metrics = new PipeMetrics({ sizes: { train: dataset.train.length, val: dataset.val.length, test: dataset.test.length }, evalEvery: start.options.evalEvery });
  }

  get options(): PipeOptions {
    return this.start.options;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  static async start(start: ThreadedPipeStart): Promise<ThreadedPipeEngine> {
    const { dataset, data, ...shared } = start;
    const common = { model: shared.model, training: shared.training, options: shared.options, adapter: shared.adapter, subgroups: shared.subgroups, resume: shared.resume };
    const { threads, unwatch, devices, setup } = await ThreadedEngineBase.launch<PipeReply, Record<string, unknown>>(
      ENTRY,
      data.length,
      'stage',
      WHAT,
      (rank) => ({ ...common, data: data[rank], planning: rank === 0 ? dataset : null }) satisfies Omit<PipeThreadData, 'links'>,
      async (threads) => {
        const planned = checkReply<PipeReply, 'plan'>(await threads[0].request({ type: 'plan' }), 'plan', WHAT);
        await settleReplies<PipeReply, 'built'>(threads.map((t) => t.request({ type: 'build', plan: planned.plan } as { type: string })), 'built', WHAT);
        return planned.describe;
      },
    ).catch((error: unknown) => {
      throw namingStage(error, data.length, start.options.graphParallel);
    });
    return new ThreadedPipeEngine(threads, unwatch, devices, start, setup);
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.epoch < epochs) {
      const evaluate = this.metrics.evaluates(this.epoch, epochs);
      const replies = await settleReplies<PipeReply, 'epoch'>(this.threads.map((t) => t.request({ type: 'epoch', evaluate } as { type: string })), 'epoch', WHAT).catch((error: unknown) => {
        throw namingStage(error, this.threads.length, this.start.options.graphParallel);
      });
      const results = replies.map((r) => r.result);
      this.history.push(results);
      this.epoch++;
      yield this.metrics.combine(this.epoch, results);
    }
  }

  /** One checkpoint of the whole model, every stage's tensors merged (the one-device format). */
  async snapshot(): Promise<CheckpointData> {
    // Workers 0 … S−1 are way 0's stages; the other ways' replicas hold the same weights and optimizer state.
    const way0 = this.threads.slice(0, this.threads.length / this.start.options.graphParallel);
    const states = await settleReplies<PipeReply, 'state'>(way0.map((t) => t.request({ type: 'state' })), 'state', WHAT).catch((error: unknown) => {
      throw namingStage(error, this.threads.length, this.start.options.graphParallel);
    });
    const { replica, training } = this.start;
    return pipeCheckpoint(replica, training, this.describe, this.epoch, states[0].optimizer, states.flatMap((s) => s.tensors));
  }
}

/** A lost thread as the pipeline's user knows it: by its stage (and, in hybrid mode, its worker and replica). */
function namingStage(error: unknown, workers: number, graphParallel: number): unknown {
  if (!(error instanceof PeerError)) return error;
  const { stage, way } = hybridPosition(error.peer, workers / graphParallel);
  const who = graphParallel === 1 ? `stage ${error.peer}` : `worker ${error.peer} (stage ${stage} of replica ${way})`;
  return Object.assign(new Error(`--mode pipe: ${who} was lost (${error.message})`), { cause: error });
}
