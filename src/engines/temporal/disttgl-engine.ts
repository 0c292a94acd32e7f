// DistTGL training with every trainer in this process (each on its own adapter and device) or driven
// through handles (worker threads), linked by any transport. Each epoch runs all trainers concurrently;
// trainer 0 evaluates from memory group 0, and every trainer reports its events, traffic and memory.
// An epoch is T iterations, in which every memory group passes over the stream once and each batch is
// trained j times: one epoch is j × k passes, which `passes` counts so that runs of different N compare.

import type { DeviceReport } from '../../gpu/gpu.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';
import type { Engine } from '../engine.ts';
import { settleWorkers } from '../sar/sar-engine.ts';
import type { TemporalEpochMetrics } from '../temporal.ts';
import { noStageTimes } from './batch-runner.ts';
import type { DistTglEpochResult } from './disttgl-trainer.ts';
import { distTglCheckpoint, type TrainerState } from './disttgl-checkpoint.ts';
import { describeLayout, type ParallelLayout } from './parallel-layout.ts';

/** What one trainer's epoch is driven by, wherever the trainer runs. */
export interface TrainerHandle {
  readonly rank: number;
  trainEpoch(): Promise<DistTglEpochResult>;
  /** Its part of a checkpoint, between epochs. */
  state(): Promise<TrainerState>;
}

/** What a checkpoint records besides the trainers' states. */
export interface DistTglCheckpointInfo {
  /** The model's and the training's config (as a checkpoint keeps them). */
  config: Record<string, unknown>;
  /** Logical batches per pass (a resumed run must have the same). */
  batches: number;
  seed: number;
  /** The epoch the run starts at (a resumed run's). */
  startEpoch: number;
}

export interface DistTglEpochMetrics extends TemporalEpochMetrics {
  /** Passes over the training stream so far (epochs × j × k). */
  passes: number;
  layout: string;
  /** Training events this epoch, all trainers and passes together. */
  events: number;
  /** Training events per second of each trainer (its own passes), and bytes each sent this epoch. */
  eventsPerSecondPerTrainer: number[];
  bytesSentPerTrainer: number[];
  bytesReceivedPerTrainer: number[];
  /** Of bytesSentPerTrainer: memory reads and writes inside the groups. */
  memoryBytesSentPerTrainer: number[];
}

export class DistTglEngine implements Engine<DistTglEpochMetrics> {
  readonly mode = 'temporal' as const;
  readonly workers: number;
  private epoch = 0;

  constructor(
    private readonly trainers: TrainerHandle[],
    readonly layout: ParallelLayout,
    private readonly info: DistTglCheckpointInfo,
    readonly devices: DeviceReport[] = [],
    private readonly release: () => Promise<void> | void = () => {},
  ) {
    this.epoch = info.startEpoch;
    if (!trainers.length) throw new RangeError('DistTglEngine: needs at least one trainer');
    trainers.forEach((t, i) => {
      if (t.rank !== i) throw new RangeError(`DistTglEngine: trainer at index ${i} has rank ${t.rank}`);
    });
    this.workers = trainers.length;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  async *run(epochs: number): AsyncGenerator<DistTglEpochMetrics> {
    while (this.epoch < epochs) {
      const results = await settleWorkers(this.trainers.map((t) => t.trainEpoch()));
      this.epoch++;
      yield this.combine(results);
    }
  }

  private combine(results: DistTglEpochResult[]): DistTglEpochMetrics {
    const first = results[0];
    const evaluation = first.evaluation;
    if (!evaluation) throw new Error('DistTGL: trainer 0 returned no evaluation');
    const trainSeconds = Math.max(...results.map((r) => r.trainMs)) / 1000;
    return {
      epoch: this.epoch,
      loss: first.loss,
      ...evaluation,
      eventsPerSecond: first.events / trainSeconds,
      stageMs: noStageTimes(),
      staleness: { mean: 0, max: 0, inFlightMean: 0, staleRows: 0 },
      epochMs: Math.max(...results.map((r) => r.epochMs)),
      peakGpuBytes: results.map((r) => r.peakGpuBytes),
      passes: first.passes,
      layout: describeLayout(this.layout),
      events: first.events,
      eventsPerSecondPerTrainer: results.map((r) => r.ownEvents / (r.trainMs / 1000)),
      bytesSentPerTrainer: results.map((r) => r.bytesSent),
      bytesReceivedPerTrainer: results.map((r) => r.bytesReceived),
      memoryBytesSentPerTrainer: results.map((r) => r.memoryBytesSent),
    };
  }

  /** One checkpoint of the whole run (weights, optimizer, every group's memory), between epochs. */
  async snapshot(): Promise<CheckpointData> {
    const states = await settleWorkers(this.trainers.map((t) => t.state()));
    return distTglCheckpoint(states, this.info.config, this.layout, this.info.batches, this.info.seed);
  }

  async dispose(): Promise<void> {
    await this.release();
  }
}
