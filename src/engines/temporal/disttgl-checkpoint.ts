// A DistTGL run's checkpoint: one file for all N trainers, taken between epochs. The weights and optimizer
// state are every trainer's (identical after each step), so trainer 0's are kept; each memory group's node
// memory comes from its owner (`memory:g:memory`, `memory:g:mail`, times in extra); and a trainer whose
// position's passes straddle the epoch boundary (epoch parallelism) adds the rows it read for them
// (`held:r:rows`), since the owner's memory has moved on. Resuming needs the same layout and batches.

import type { CheckpointData, CheckpointTensor } from '../../nn/checkpoint.ts';
import { describeLayout, type ParallelLayout } from './parallel-layout.ts';

/** One trainer's part of the checkpoint. */
export interface TrainerState {
  rank: number;
  epoch: number;
  /** Passes over the training stream so far. */
  passes: number;
  tensors: CheckpointTensor[];
  /** Float64 times (and held nodes) as JSON numbers, by key ('memory:g', 'held:r'). */
  times: Record<string, { memoryTime: number[]; mailTime: number[]; nodes?: number[] }>;
  optimizer: CheckpointData['optimizer'];
}

/** The run's checkpoint from every trainer's state (in rank order), with the config it was trained with. */
export function distTglCheckpoint(states: TrainerState[], config: Record<string, unknown>, layout: ParallelLayout, batches: number, seed: number): CheckpointData {
  const epochs = new Set(states.map((s) => s.epoch));
  if (epochs.size !== 1) throw new Error(`DistTGL checkpoint: the trainers stand at different epochs (${[...epochs]})`);
  const times = Object.assign({}, ...states.map((s) => s.times));
  return {
    config: { ...config, disttgl: { layout: describeLayout(layout), batches } },
    epoch: states[0].epoch,
    rng: { seed, step: states[0].epoch },
    optimizer: states[0].optimizer,
    tensors: states.flatMap((s) => s.tensors),
    extra: { disttglTimes: times, passes: states[0].passes },
  };
}

/** Refuses a checkpoint of another layout or batching (its memory groups and positions would not line up). */
export function checkResume(resume: CheckpointData, layout: ParallelLayout, batches: number): void {
  const saved = resume.config.disttgl as { layout?: string; batches?: number } | undefined;
  if (!saved) throw new Error('cannot resume: the checkpoint is not of a DistTGL run (train-temporal --workers 1 checkpoints resume with --workers 1)');
  if (saved.layout !== describeLayout(layout) || saved.batches !== batches) {
    throw new Error(`cannot resume: the checkpoint is of --parallel ${saved.layout} with ${saved.batches} batches per pass, this run is ${describeLayout(layout)} with ${batches}`);
  }
}
