// Which batch every DistTGL trainer trains at every iteration, as pure functions of the layout (so tests
// and the memory owner agree with the trainers without talking). Iterations are global: epoch E is
// iterations E·T … E·T + T − 1, T = the number of logical batches of i × batch-size training events.
//
// Memory parallelism: group g walks the stream cyclically from batch ⌊T/k⌋·(k − g) (a start of T is batch
// 0) with zeroed memory, and resets its memory whenever it wraps to batch 0, so the k copies stay about
// T/k batches apart for the whole run and never synchronise (research/disttgl.md §2).
//
// Epoch parallelism: the group's walk is a sequence of positions p = 0, 1, 2, …; epoch-rank e owns the
// positions p ≡ e (mod j) and trains position p at iterations p … p + j − 1 (passes 0 … j − 1, each with
// its own negatives). Only pass 0 writes memory, and it runs at iteration p, so the write of position p − 1
// (iteration p − 1) always precedes the read of position p: memory evolves as on one trainer. Unlike the
// authors' code there is no cold duplicate (a trainer before its first position sits the iteration out)
// and no tail double write (the walk is cyclic, so the last batch is written once and batch 0 follows
// with a reset).

import type { ParallelLayout } from './parallel-layout.ts';

export interface TrainerTask {
  /** Position in the group's walk (0-based over the whole run). */
  position: number;
  /** 0 … j − 1: only pass 0 reads fresh memory and writes it. */
  pass: number;
  /** Logical batch of the training stream. */
  batch: number;
  /** The group's memory is zeroed before this task reads it (its first pass of batch 0). */
  reset: boolean;
  /** The epoch (T iterations each) in which the position's first pass ran: keys its negatives. */
  epoch: number;
}

/** Logical batches of one pass over `trainEvents` events. */
export function batchesPerPass(trainEvents: number, batchSize: number, layout: ParallelLayout): number {
  return Math.ceil(trainEvents / (batchSize * layout.batch));
}

/** Group g's first batch: ⌊T/k⌋·(k − g), where T stands for batch 0. */
export function groupStart(group: number, batches: number, memoryGroups: number): number {
  if (!(group >= 0 && group < memoryGroups)) throw new RangeError(`memory group ${group} outside 0..${memoryGroups - 1}`);
  const start = Math.floor(batches / memoryGroups) * (memoryGroups - group);
  return start >= batches ? 0 : start;
}

/** What epoch-rank `epochRank` of group `group` trains at global iteration `t`, or null before its first position. */
export function taskAt(t: number, group: number, epochRank: number, batches: number, layout: ParallelLayout): TrainerTask | null {
  const j = layout.epoch;
  const position = t - (((t - epochRank) % j) + j) % j;
  if (position < 0) return null;
  const batch = (groupStart(group, batches, layout.memory) + position) % batches;
  const pass = t - position;
  return { position, pass, batch, reset: batch === 0, epoch: Math.floor(position / batches) };
}

/** Events [from, to) of the training stream in logical batch b (all its parts). */
export function batchRange(batch: number, batchSize: number, layout: ParallelLayout, trainEvents: number): { from: number; to: number } {
  const from = Math.min(trainEvents, batch * layout.batch * batchSize);
  return { from, to: Math.min(trainEvents, from + layout.batch * batchSize) };
}

/** Events [from, to) of the training stream that part m of logical batch b holds (empty past the end). */
export function partRange(batch: number, part: number, batchSize: number, layout: ParallelLayout, trainEvents: number): { from: number; to: number } {
  const from = Math.min(trainEvents, (batch * layout.batch + part) * batchSize);
  return { from, to: Math.min(trainEvents, from + batchSize) };
}

/** Trainers whose gradient counts at iteration t (a task with events): the all-reduced sum is divided by this. */
export function contributors(t: number, batches: number, batchSize: number, layout: ParallelLayout, trainEvents: number): number {
  let n = 0;
  for (let g = 0; g < layout.memory; g++) {
    for (let e = 0; e < layout.epoch; e++) {
      const task = taskAt(t, g, e, batches, layout);
      if (!task) continue;
      for (let m = 0; m < layout.batch; m++) {
        const { from, to } = partRange(task.batch, m, batchSize, layout, trainEvents);
        if (to > from) n++;
      }
    }
  }
  return n;
}

/** Key of a task's negatives: distinct per epoch, pass and memory group; N = 1 keys by the epoch alone, as the sequential engine does. */
export function negativeStep(task: TrainerTask, group: number, layout: ParallelLayout): number {
  return (task.epoch * layout.epoch + task.pass) * layout.memory + group;
}

/**
 * Mini-batch parallelism's write rule: of a logical batch's events split into parts of `batchSize`,
 * each node's memory is written once, by the part holding its last occurrence in the interleaved
 * (src, dst) list (ties: the later event, the destination after the source). Returns, per node
 * appearing in the batch, that part (a Map node → part).
 */
export function lastOccurrenceParts(src: ArrayLike<number>, dst: ArrayLike<number>, events: ArrayLike<number>, batchSize: number): Map<number, number> {
  const owner = new Map<number, number>();
  for (let i = 0; i < events.length; i++) {
    const part = Math.floor(i / batchSize);
    owner.set(src[events[i]], part);
    owner.set(dst[events[i]], part);
  }
  return owner;
}
