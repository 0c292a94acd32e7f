// DistTGL with one worker_thread per trainer: each thread opens its own Dawn instance and device, builds
// its replica of TGN and trains its tasks; gradients and memory rows move between threads over
// MessagePorts. The main thread sends 'epoch' commands and combines the replies (DistTglEngine). A thread
// that dies is reported to the others (watchWorkers), so they stop with an error naming the trainer.

import type { ThreadLinks } from '../dist/thread-transport.ts';
import { PeerError } from '../dist/transport.ts';
import { DistTglEngine } from '../engines/temporal/disttgl-engine.ts';
import type { DistTglEpochResult, DistTglOptions } from '../engines/temporal/disttgl-trainer.ts';
import type { TrainerState } from '../engines/temporal/disttgl-checkpoint.ts';
import { distTglConfig } from '../engines/temporal/disttgl-run.ts';
import { batchesPerPass } from '../engines/temporal/disttgl-schedule.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { trainerPosition } from '../engines/temporal/parallel-layout.ts';
import type { DeviceReport } from '../gpu/gpu.ts';
import type { EventStream } from '../graph/event-stream.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import type { TgnConfig } from '../nn/tgn/tgn.ts';
import { checkReply, threadEntry, ThreadedEngineBase, type EngineThread } from './engine-threads.ts';

export interface DistTglThreadData {
  links: ThreadLinks;
  stream: EventStream;
  split: TemporalSplit;
  tgn: TgnConfig;
  options: DistTglOptions;
  adapter?: string;
  resume?: CheckpointData;
}

type Reply = { type: 'ready'; device: DeviceReport } | { type: 'epoch'; result: DistTglEpochResult } | { type: 'state'; state: TrainerState };

const ENTRY = threadEntry('disttgl-thread-entry');
const WHAT = 'DistTGL trainer thread';

/** The threads of a DistTGL run (started, watched, stopped); `engine` drives them. */
export class DistTglThreads extends ThreadedEngineBase<Reply> {
  private constructor(threads: EngineThread<Reply>[], unwatch: () => void, devices: DeviceReport[]) {
    super(threads, unwatch, devices);
  }

  /** N trainer threads (N = the transport size the layout asks for) and the engine over them. */
  static async start(data: Omit<DistTglThreadData, 'links'>, workers: number): Promise<{ engine: DistTglEngine; threads: DistTglThreads }> {
    const { threads, unwatch, devices } = await ThreadedEngineBase.launch<Reply, void>(ENTRY, workers, 'trainer', WHAT, () => ({ ...data }), async () => {});
    const handle = new DistTglThreads(threads, unwatch, devices);
    const handles = threads.map((t) => ({
      rank: t.rank,
      trainEpoch: async () => {
        try {
          return checkReply<Reply, 'epoch'>(await t.request({ type: 'epoch' }), 'epoch', WHAT).result;
        } catch (error) {
          throw namingTrainer(error, data.options);
        }
      },
      state: async () => checkReply<Reply, 'state'>(await t.request({ type: 'state' }), 'state', WHAT).state,
    }));
    const { options } = data;
    const info = {
      config: distTglConfig({ checkpointConfig: () => ({ tgn: { ...data.tgn } }) }, options),
      batches: batchesPerPass(data.split.train.length, options.batchSize, options.layout),
      seed: options.seed,
      startEpoch: data.resume?.epoch ?? 0,
    };
    const engine = new DistTglEngine(handles, options.layout, info, devices, () => handle.dispose());
    return { engine, threads: handle };
  }
}

/** A lost thread as the user knows it: by its trainer, memory group, epoch rank and part. */
function namingTrainer(error: unknown, options: DistTglOptions): unknown {
  if (!(error instanceof PeerError) || error.peer < 0) return error;
  const { group, epochRank, part } = trainerPosition(error.peer, options.layout);
  return Object.assign(new Error(`train-temporal: trainer ${error.peer} (memory group ${group}, epoch rank ${epochRank}, part ${part}) was lost (${error.message})`), { cause: error });
}
