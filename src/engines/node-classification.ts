// The training loop every front end shares (CLI, browser worker, tests): epochs from an engine,
// early stopping, periodic checkpoints, and the summary a run reports.

import type { CheckpointData } from '../nn/checkpoint.ts';
import type { NodeModelKind } from '../nn/models/node-classifier.ts';
import { EarlyStopping } from './early-stopping.ts';
import type { Engine, EpochMetrics } from './engine.ts';
import { median } from '../tensor/stats.ts';
import type { NodeTrainingOptions } from './training-state.ts';

/** How long a run goes and what it saves (any model, any node engine). */
export interface NodeLoopOptions {
  epochs: number;
  /** Epochs without a better validation accuracy before stopping; 0 = never stop early. */
  patience: number;
  training: NodeTrainingOptions;
  /** Save a checkpoint every N epochs (0 = only at the end). Not with `checkpointBest`. */
  checkpointEvery?: number;
  /**
   * Keep the best validation epoch instead of the last (pipe mode, where training epochs read stale
   * history and only exact evaluations judge the model): a checkpoint is saved at every epoch whose
   * exact evaluation is the best so far, and none at the end, so the saved model is the reported one.
   */
  checkpointBest?: boolean;
  onCheckpoint?: (data: CheckpointData) => Promise<void>;
}

/** A run of a built-in model: the loop's options, the model's (kind, widths, dropout) and the optimizer's. */
export interface NodeRunOptions extends NodeLoopOptions {
  model: NodeModelKind;
  hidden: number;
  /** GAT: attention heads of the hidden layer. */
  heads?: number;
  /** Graph convolutions (default 2; GCNII 16, ResGCN+ 8). */
  layers?: number;
  /** GCN, GraphSAGE: residual hidden convolutions. */
  residual?: boolean;
  /** GCNII: weight decay of the convolutions (0.01; the linear layers take training.weightDecay). */
  convWeightDecay?: number;
  dropout: number;
}

export interface NodeRunSummary {
  epochsRun: number;
  best: EpochMetrics | null;
  last: EpochMetrics | null;
  stoppedEarly: boolean;
  epochMs: number[];
}

/** Runs to `epochs` (or early stop), yielding each epoch's metrics; returns the summary. */
export async function* trainNodeClassification(
  engine: Engine,
  options: NodeLoopOptions,
  resume?: CheckpointData,
): AsyncGenerator<EpochMetrics, NodeRunSummary> {
  if (options.checkpointBest && options.checkpointEvery) throw new RangeError('a run that checkpoints its best validation epoch saves at each new best: checkpointEvery does not apply');
  const stopping = new EarlyStopping(options.patience);
  stopping.restoreFrom(resume?.extra);
  const summary: NodeRunSummary = { epochsRun: 0, best: null, last: null, stoppedEarly: false, epochMs: [] };
  const checkpoint = async () => {
    if (!options.onCheckpoint) return;
    const data = await engine.snapshot();
    data.extra = { ...data.extra, earlyStopping: stopping.saved };
    await options.onCheckpoint(data);
  };
  for await (const m of engine.run(options.epochs)) {
    // Pipe mode's epochs before its first exact evaluation (--eval-every) have no validation loss yet.
    if (!Number.isFinite(m.loss) || (m.evaluated !== false && !Number.isFinite(m.valLoss))) {
      // Stop before any checkpoint is written, so the last good one stays on disk.
      throw new Error(`training diverged at epoch ${m.epoch}: loss ${m.loss}, validation loss ${m.valLoss} (try a lower --lr)`);
    }
    summary.epochsRun++;
    summary.last = m;
    summary.epochMs.push(m.epochMs);
    const stop = stopping.update(m);
    yield m;
    if (options.checkpointBest ? stopping.best === m : options.checkpointEvery && m.epoch % options.checkpointEvery === 0) await checkpoint();
    if (stop) {
      summary.stoppedEarly = true;
      break;
    }
  }
  summary.best = stopping.best;
  if (!options.checkpointBest) await checkpoint();
  return summary;
}

/** Drives a run to its end, handing each epoch to `onEpoch` (which may pause by not returning);
 * resolves to the run's summary. */
export async function consumeRun(run: AsyncGenerator<EpochMetrics, NodeRunSummary>, onEpoch: (m: EpochMetrics) => void | Promise<void>): Promise<NodeRunSummary> {
  for (;;) {
    const next = await run.next();
    if (next.done) return next.value;
    await onEpoch(next.value);
  }
}

export { median } from '../tensor/stats.ts';

/** What a library user sets for a run; everything has the default of the best documented result (GCN on Cora). */
export interface TrainOptions {
  /** Maximum epochs (200). */
  epochs?: number;
  /** Stop after this many epochs without a better validation accuracy (100; 0 = never). */
  patience?: number;
  optimizer?: NodeTrainingOptions['optimizer'];
  /** Learning rate (0.01). */
  lr?: number;
  /** L2 weight decay (5e-4). */
  weightDecay?: number;
  /** Decay only the first block with parameters, as Kipf & Welling's GCN (false: all parameters). */
  decayFirstLayerOnly?: boolean;
  /** Initial weights and dropout masks (0). */
  seed?: number;
  /** Called after every epoch (awaited: training waits while it runs). */
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Checkpoint every N epochs (not in mode 'pipe', whose checkpoint is its best validation epoch's, saved at each new best). */
  checkpointEvery?: number;
  onCheckpoint?: (data: CheckpointData) => Promise<void>;
  /** Continue from this checkpoint (the model's parameter names and shapes must match it). */
  resume?: CheckpointData;
}

export interface TrainResult {
  /** Test accuracy at the best validation epoch (the epoch reported). */
  testAcc: number;
  valAcc: number;
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  epochMsMedian: number;
  peakGpuBytesPerWorker: number[];
  /** Every epoch's metrics, in order. */
  history: EpochMetrics[];
}

export function loopOptions(options: TrainOptions): NodeLoopOptions {
  return {
    epochs: options.epochs ?? 200,
    patience: options.patience ?? 100,
    training: {
      optimizer: options.optimizer ?? 'adam',
      lr: options.lr ?? 0.01,
      weightDecay: options.weightDecay ?? 5e-4,
      seed: options.seed ?? 0,
      decayFirstLayerOnly: options.decayFirstLayerOnly ?? false,
    },
    checkpointEvery: options.checkpointEvery,
    onCheckpoint: options.onCheckpoint,
  };
}

/** Trains `engine` to the end of the run and releases it; resolves to what the run reached. */
export async function trainToEnd(engine: Engine, options: TrainOptions): Promise<TrainResult> {
  const history: EpochMetrics[] = [];
  try {
    // A pipeline keeps its best validation epoch (see NodeLoopOptions.checkpointBest).
    const loop = { ...loopOptions(options), checkpointBest: engine.mode === 'pipe' };
    const summary = await consumeRun(trainNodeClassification(engine, loop, options.resume), async (m) => {
      history.push(m);
      await options.onEpoch?.(m);
    });
    const best = summary.best ?? summary.last;
    return {
      testAcc: best?.testAcc ?? NaN,
      valAcc: best?.valAcc ?? NaN,
      bestEpoch: best?.epoch ?? 0,
      epochsRun: summary.epochsRun,
      stoppedEarly: summary.stoppedEarly,
      epochMsMedian: median(summary.epochMs),
      peakGpuBytesPerWorker: summary.last?.peakGpuBytes ?? [],
      history,
    };
  } finally {
    // SAR over threads settles once every thread has ended (dawn.node must not be mid-call at exit).
    await engine.dispose();
  }
}
