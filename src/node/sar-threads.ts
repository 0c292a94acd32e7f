// SAR with one worker_thread per worker: each thread opens its own Dawn instance and device and trains
// its partition; tensors move between threads over MessagePorts with their buffers transferred. The
// main thread only sends commands and collects metrics. A thread that dies is reported to the others
// (watchWorkers) so that they stop with an error naming it instead of waiting forever.

import type { ThreadLinks } from '../dist/thread-transport.ts';
import type { Engine, EpochMetrics } from '../engines/engine.ts';
import { toEpochMetrics } from '../engines/sar/sar-engine.ts';
import type { SarEpochResult } from '../engines/sar/sar-worker.ts';
import type { NodeTrainingOptions } from '../engines/training-state.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { NodePlacement } from '../graph/partition-blocks.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import { checkReply, settleReplies, threadEntry, ThreadedEngineBase, type EngineThread } from './engine-threads.ts';
import type { ModelSource } from './model-source.ts';

export interface SarThreadData {
  links: ThreadLinks;
  dataset: NodeDataset;
  placement: NodePlacement;
  /** What each thread rebuilds its replica of the model from. */
  model: ModelSource;
  training: NodeTrainingOptions;
  remat: boolean;
  adapter?: string;
  /** false: subgroup-free kernels even where the adapter has subgroups (--no-subgroups). */
  subgroups?: boolean;
  resume?: CheckpointData;
  describe: Record<string, unknown>;
}

type Reply = { type: 'ready'; device: DeviceReport } | { type: 'epoch'; result: SarEpochResult } | { type: 'snapshot'; data: CheckpointData };

const ENTRY = threadEntry('sar-thread-entry');
const WHAT = 'SAR thread';

export class ThreadedSarEngine extends ThreadedEngineBase<Reply> implements Engine {
  readonly mode = 'sar' as const;
  private epoch: number;

  private constructor(threads: EngineThread<Reply>[], unwatch: () => void, startEpoch: number, devices: DeviceReport[]) {
    super(threads, unwatch, devices);
    this.epoch = startEpoch;
  }

  static async start(options: Omit<SarThreadData, 'links'>): Promise<ThreadedSarEngine> {
    const { threads, unwatch, devices } = await ThreadedEngineBase.launch<Reply, void>(ENTRY, options.placement.parts, 'worker', WHAT, () => ({ ...options }), async () => {});
    return new ThreadedSarEngine(threads, unwatch, options.resume?.epoch ?? 0, devices);
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.epoch < epochs) {
      const replies = await settleReplies<Reply, 'epoch'>(this.threads.map((t) => t.request({ type: 'epoch' })), 'epoch', WHAT);
      this.epoch++;
      yield toEpochMetrics(this.epoch, replies.map((r) => r.result));
    }
  }

  async snapshot(): Promise<CheckpointData> {
    return checkReply<Reply, 'snapshot'>(await this.threads[0].request({ type: 'snapshot' }), 'snapshot', WHAT).data;
  }
}
