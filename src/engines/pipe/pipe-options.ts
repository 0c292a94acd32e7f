// The settings of --mode pipe, with the defaults of GNNPipe's best documented result (research/gnnpipe.md):
// 4 chunks per worker, recomputation on, all three convergence tricks on with the authors' constants.

import { mulberry32 } from '../../graph/synthetic.ts';
import type { StageMethod } from './stage-plan.ts';

export interface PipeOptions {
  /** Chunks the graph is cut into (default 4 per stage). */
  chunks: number;
  /** Recompute each chunk's forward before its backward instead of keeping its activations. */
  recompute: boolean;
  /** Trick 1: a new (seeded) chunk order every epoch; off: chunks in id order. */
  shuffle: boolean;
  /** Trick 2: ×2 on a chunk's stored aggregation gradients, all cleared each epoch. */
  unbiasedGradients: boolean;
  /** Trick 3: historical embeddings restored from a snapshot refreshed every K epochs (1: off). */
  snapshotPeriod: number;
  /** Exact (non-pipelined, whole-graph) training epochs before pipelining. */
  warmupEpochs: number;
  /** Exact evaluation every E epochs (and at the last). */
  evalEvery: number;
  /** Stage sizes from a measured per-block cost profile, or one unit per layer. */
  stages: StageMethod;
  /**
   * Hybrid (Mithril's ways): M replicas of the whole pipeline, each owning C/M of the chunks; the M
   * workers of one stage exchange the rows the others' chunks read at every aggregation and all-reduce
   * their gradients. Workers = stages × M. 1: one pipeline.
   */
  graphParallel: number;
}

/** GNNPipe's REVERSE_PERIOD. */
export const SNAPSHOT_PERIOD = 23;
export const CHUNKS_PER_STAGE = 4;

export function pipeDefaults(stages: number): PipeOptions {
  return {
    chunks: CHUNKS_PER_STAGE * stages,
    recompute: true,
    shuffle: true,
    unbiasedGradients: true,
    snapshotPeriod: SNAPSHOT_PERIOD,
    warmupEpochs: 0,
    evalEvery: 1,
    stages: 'profile',
    graphParallel: 1,
  };
}

/** All tricks off: plain pipelined training with one-epoch-old history (for the exactness tests and the ablation). */
export const TRICKS_OFF: Pick<PipeOptions, 'shuffle' | 'unbiasedGradients' | 'snapshotPeriod'> = { shuffle: false, unbiasedGradients: false, snapshotPeriod: 1 };

export function checkPipeOptions(o: PipeOptions, numNodes: number): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.chunks) || o.chunks < 1) problems.push(`--chunks must be a positive integer, got ${o.chunks}`);
  else if (o.chunks > numNodes) problems.push(`--chunks ${o.chunks} is more than the graph's ${numNodes} nodes`);
  if (!Number.isInteger(o.snapshotPeriod) || o.snapshotPeriod < 1) problems.push(`--snapshot-period must be a positive integer of epochs, got ${o.snapshotPeriod}`);
  if (!Number.isInteger(o.warmupEpochs) || o.warmupEpochs < 0) problems.push(`--warmup must be a non-negative integer of epochs, got ${o.warmupEpochs}`);
  if (!Number.isInteger(o.evalEvery) || o.evalEvery < 1) problems.push(`--eval-every must be a positive integer of epochs, got ${o.evalEvery}`);
  const M = o.graphParallel;
  if (!Number.isInteger(M) || M < 1) problems.push(`--graph-parallel must be a positive integer, got ${M}`);
  else if (M > 1) {
    if (Number.isInteger(o.chunks) && o.chunks % M !== 0) problems.push(`--chunks ${o.chunks} is not a multiple of --graph-parallel ${M}: each of the ${M} replicas of a stage owns the same number of chunks`);
    if (o.warmupEpochs > 0) problems.push(`--warmup does not apply with --graph-parallel ${M}: a warm-up epoch is one pipeline's exact pass over the whole graph, which replicas that each own part of the chunks do not run; drop --warmup or use --graph-parallel 1`);
  }
  if (o.stages !== 'profile' && o.stages !== 'equal') problems.push(`--stages must be 'profile' or 'equal', got '${String(o.stages)}'`);
  if (problems.length) throw new RangeError(problems.join('; '));
}

/** Epoch e's chunk order: seeded by (seed, e), the same on every stage without a message. */
export function chunkOrder(chunks: number, epoch: number, seed: number, shuffle: boolean): number[] {
  const order = Array.from({ length: chunks }, (_, i) => i);
  if (!shuffle) return order;
  const random = mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35)) >>> 0);
  for (let i = chunks - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Stages of a run of `workers` workers with `graphParallel` replicas per stage (workers = stages × M). */
export function pipeStageCount(workers: number, graphParallel: number): number {
  if (!Number.isInteger(graphParallel) || graphParallel < 1) throw new RangeError(`--graph-parallel must be a positive integer, got ${graphParallel}`);
  if (workers % graphParallel !== 0) {
    throw new RangeError(`--graph-parallel ${graphParallel} does not divide --workers ${workers}: the workers form stages × ${graphParallel} replicas of each stage; use a worker count that is a multiple of ${graphParallel}`);
  }
  return workers / graphParallel;
}

/**
 * Worker `rank` of a hybrid run: stage rank % S of way ⌊rank / S⌋. Way w's pipeline is ranks w·S … w·S+S−1;
 * stage s's replicas are ranks s, S+s, … (its way group, ordered by way).
 */
export function hybridPosition(rank: number, stages: number): { stage: number; way: number } {
  return { stage: rank % stages, way: Math.floor(rank / stages) };
}
