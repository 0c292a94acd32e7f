// DistTGL's three parallelisms as one layout of N trainers: i (mini-batch) × j (epoch) × k (memory),
// i·j·k = N. Trainer r is part m of epoch-rank e of memory group g with r = g·(i·j) + e·i + m, as the
// authors' code numbers its ranks (research/disttgl.md §1), except that j is given, never implied.
// Each memory group's copy of node memory is owned by its first trainer (e = 0, m = 0).

export interface ParallelLayout {
  /** i: trainers that split one logical batch of i × batch-size events (same pre-batch memory). */
  batch: number;
  /** j: trainers that share one memory, each training its own batches j times with different negatives. */
  epoch: number;
  /** k: independent copies of node memory, phase-shifted over the stream, never synchronised. */
  memory: number;
}

export interface TrainerPosition {
  /** g: the memory group. */
  group: number;
  /** e: the trainer's place among the group's j epoch-parallel trainers. */
  epochRank: number;
  /** m: which part of a logical batch the trainer takes. */
  part: number;
}

/** `i×j×k` (also `ixjxk` or `i*j*k`), or a shorthand putting all N trainers in one dimension. */
export function parseParallel(text: string, workers: number): ParallelLayout {
  const shorthand: Record<string, ParallelLayout> = {
    memory: { batch: 1, epoch: 1, memory: workers },
    epoch: { batch: 1, epoch: workers, memory: 1 },
    batch: { batch: workers, epoch: 1, memory: 1 },
  };
  const named = shorthand[text.trim()];
  if (named) return checkLayout(named, workers);
  const parts = text.trim().split(/\s*[×xX*]\s*/);
  if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new RangeError(`--parallel must be i×j×k (mini-batch × epoch × memory, e.g. 1×2×2) or one of memory, epoch, batch; got '${text}'`);
  }
  const [batch, epoch, memory] = parts.map(Number);
  return checkLayout({ batch, epoch, memory }, workers);
}

/** Refuses a layout whose dimensions are not positive integers or whose product is not the worker count. */
export function checkLayout(layout: ParallelLayout, workers: number): ParallelLayout {
  for (const [name, v] of [['i (mini-batch)', layout.batch], ['j (epoch)', layout.epoch], ['k (memory)', layout.memory]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`--parallel: ${name} must be a positive integer, got ${v}`);
  }
  const product = layout.batch * layout.epoch * layout.memory;
  if (product !== workers) {
    throw new RangeError(`--parallel ${describeLayout(layout)} needs i·j·k = ${product} trainers, but --workers is ${workers}`);
  }
  return layout;
}

export function describeLayout(layout: ParallelLayout): string {
  return `${layout.batch}×${layout.epoch}×${layout.memory}`;
}

export const trainerCount = (layout: ParallelLayout): number => layout.batch * layout.epoch * layout.memory;

export function trainerPosition(rank: number, layout: ParallelLayout): TrainerPosition {
  const { batch: i, epoch: j } = layout;
  if (!Number.isInteger(rank) || rank < 0 || rank >= trainerCount(layout)) throw new RangeError(`trainer ${rank} outside 0..${trainerCount(layout) - 1} of layout ${describeLayout(layout)}`);
  return { group: Math.floor(rank / (i * j)), epochRank: Math.floor((rank % (i * j)) / i), part: rank % i };
}

export function trainerRank(position: TrainerPosition, layout: ParallelLayout): number {
  return position.group * layout.batch * layout.epoch + position.epochRank * layout.batch + position.part;
}

/** The trainer that owns group g's memory (and serves its reads and writes). */
export const memoryOwner = (group: number, layout: ParallelLayout): number => group * layout.batch * layout.epoch;
