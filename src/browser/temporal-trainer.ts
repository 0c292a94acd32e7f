// TGN link prediction in the demo's worker, driven as the CLI's `train-temporal` drives it: the loaded
// event stream (optionally only its first N events), TGN's chronological split, and TemporalEngine. What it
// adds for a page: per-batch progress throttled to a few messages a second (with every batch's loss, so
// the plot misses none), per-epoch metrics, pause between epochs, and stop after the current batch —
// a CollegeMsg epoch takes minutes on a software adapter, too long to wait for its end.

import { TemporalEngine, TrainingStopped, type TemporalBatchProgress, type TemporalEpochMetrics, type TemporalTrainingOptions } from '../engines/temporal.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { EventStream } from '../graph/event-stream.ts';
import { requireEverySet, splitEvents } from '../graph/temporal-split.ts';
import { Tgn, TGN_DEFAULTS } from '../nn/tgn/tgn.ts';
import { firstEvents } from '../graph/event-stream-prefix.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { isStalenessSetting, type StalenessSetting } from '../engines/staleness-policy.ts';
import { TemporalRunSummary, type TemporalStalenessSummary } from '../engines/temporal-run-summary.ts';

/** A TGN run's settings as the page sends them (the CLI's train-temporal flags of the same names). */
export interface TemporalRunSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  memoryDim: number;
  neighbors: number;
  /** Train on the first this many events only; null: the whole stream. */
  events: number | null;
  seed: number;
  /** MSPipe's staleness bound k, or 'auto' (chosen per iteration); 0: the sequential algorithm. */
  staleness: StalenessSetting;
  /** Where node memory lives; null: on the GPU when staleness is 0, else in host RAM (as the CLI). */
  memory: 'device' | 'host' | null;
  /** Which past neighbours attention sees. */
  sampler: NonNullable<TemporalTrainingOptions['sampler']>;
}

export interface TemporalStreamInfo {
  name: string;
  numNodes: number;
  numEvents: number;
  edgeDim: number;
  /** Time from the first event to the last, in the file's unit (seconds for CollegeMsg). */
  span: number;
}

export interface TemporalSplitInfo {
  train: number;
  val: number;
  test: number;
  inductiveVal: number;
  inductiveTest: number;
  /** Nodes without a training event (held out, or first seen after the validation cut). */
  newNodes: number;
  /** Training-window events left out because they touch a held-out node. */
  droppedTrainEvents: number;
}

export type TemporalTrainerEvent =
  | { type: 'started'; settings: TemporalRunSettings; stream: TemporalStreamInfo; split: TemporalSplitInfo }
  | {
      type: 'progress';
      /** The epoch in progress (1-based). */
      epoch: number;
      phase: TemporalBatchProgress['phase'];
      /** Events of this phase done, of `total`. */
      done: number;
      total: number;
      /** Events per second of this phase so far. */
      eventsPerSecond: number;
      /** Training batches finished since the previous message: x is the fractional epoch (epoch − 1 + done/total). */
      batchX: number[];
      batchLoss: number[];
    }
  | { type: 'epoch'; metrics: TemporalEpochMetrics; gpuBytes: number }
  | { type: 'paused'; epoch: number };

export interface TemporalTrainResult {
  epochsRun: number;
  stoppedByUser: boolean;
  /** The epoch of the best validation AP (its test AP is what the CLI reports as test_ap). */
  best: TemporalEpochMetrics | null;
  last: TemporalEpochMetrics | null;
  /** Mean of the epochs' training events per second. */
  eventsPerSecond: number | null;
  /** MSPipe's chosen k per training iteration over the run, with the setting that chose it. */
  staleness: TemporalStalenessSummary & { setting: StalenessSetting };
  stream: TemporalStreamInfo;
  split: TemporalSplitInfo;
}

/**
 * Where a run's events go. Across a worker boundary (Comlink) each call is a message on the callback's
 * own port, and the run's result comes back on another: a run awaits its per-epoch events, so the page
 * has seen every one of them (and every progress message before them) before it sees the result.
 */
export type TemporalEventSink = (event: TemporalTrainerEvent) => void | Promise<void>;

/** How the worker's pause and stop buttons reach a run. */
export interface RunControl {
  readonly stopRequested: boolean;
  /** Resolves at once unless the user asked to pause; then when they resume or stop. */
  waitWhilePaused(epoch: number): Promise<void>;
}

/** At most this many progress messages a second (the last batch of a phase is always sent). */
const PROGRESS_PER_SECOND = 4;

export function describeStream(stream: EventStream): TemporalStreamInfo {
  const span = stream.numEvents ? stream.t[stream.numEvents - 1] - stream.t[0] : 0;
  return { name: stream.name, numNodes: stream.numNodes, numEvents: stream.numEvents, edgeDim: stream.edgeDim, span };
}

/** Refuses settings the engine cannot train with, naming the setting as the page's form does. */
export function checkTemporalSettings(s: TemporalRunSettings): void {
  const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  const problems: string[] = [];
  const need = (ok: boolean, what: string, rule: string, value: unknown) => {
    if (!ok) problems.push(`${what} must be ${rule}, got ${JSON.stringify(value)}`);
  };
  need(positiveInt(s.epochs), 'Epochs', 'a positive integer', s.epochs);
  need(positiveInt(s.batchSize), 'Batch size', 'a positive integer', s.batchSize);
  need(typeof s.lr === 'number' && Number.isFinite(s.lr) && s.lr > 0, 'Learning rate', 'a positive number', s.lr);
  need(positiveInt(s.memoryDim), 'Memory dim', 'a positive integer', s.memoryDim);
  need(positiveInt(s.neighbors), 'Neighbours', 'a positive integer', s.neighbors);
  need(s.events === null || positiveInt(s.events), 'Events', 'a positive integer (or empty for all)', s.events);
  need(Number.isSafeInteger(s.seed) && s.seed >= 0, 'Seed', 'a non-negative integer', s.seed);
  need(isStalenessSetting(s.staleness), 'Staleness', "a non-negative integer or 'auto'", s.staleness);
  need(s.memory === null || s.memory === 'device' || s.memory === 'host', 'Node memory', "'device', 'host' or null", s.memory);
  need(s.sampler === 'recent' || s.sampler === 'uniform', 'Neighbour sampling', "'recent' or 'uniform'", s.sampler);
  // GPU memory is read in queue order, so it is never stale: only host memory can be pipelined.
  if (s.memory === 'device' && s.staleness !== 0) problems.push(`Staleness ${s.staleness} needs node memory in host RAM (GPU memory is never stale)`);
  if (problems.length) throw new Error(problems.join('; '));
}

/** Throttles per-batch progress into messages, collecting every training batch's loss in between. */
class ProgressReporter {
  private phase: TemporalBatchProgress['phase'] | null = null;
  private phaseStart = 0;
  /** When the previous batch ended: where the next phase's clock starts. */
  private lastBatchEnd = 0;
  private lastSent = -Infinity;
  private batchX: number[] = [];
  private batchLoss: number[] = [];

  /** Progress is not awaited: training does not wait on the page (the epoch event after it is awaited). */
  constructor(private readonly send: TemporalEventSink) {}

  /** An epoch's training starts now (also after a pause). */
  epochStarts(): void {
    this.phase = null;
    this.lastBatchEnd = performance.now();
  }

  batch(epochsDone: number, p: TemporalBatchProgress): void {
    const now = performance.now();
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStart = this.lastBatchEnd;
    }
    this.lastBatchEnd = now;
    if (p.phase === 'train' && p.loss !== undefined) {
      this.batchX.push(epochsDone + p.done / Math.max(1, p.total));
      this.batchLoss.push(p.loss);
    }
    if (p.done < p.total && now - this.lastSent < 1000 / PROGRESS_PER_SECOND) return;
    this.lastSent = now;
    const seconds = Math.max(1e-3, (now - this.phaseStart) / 1000);
    void this.send({ type: 'progress', epoch: epochsDone + 1, phase: p.phase, done: p.done, total: p.total, eventsPerSecond: p.done / seconds, batchX: this.batchX, batchLoss: this.batchLoss });
    this.batchX = [];
    this.batchLoss = [];
  }
}

/**
 * Trains TGN on `full` (or its first `settings.events` events) and reports to `onEvent`; resolves when the
 * last epoch is done or the user stopped, with the best-validation epoch's metrics. After every epoch
 * `keep` (if given) gets the run's checkpoint. The engine is disposed at the end either way.
 */
export async function runTemporalTraining(
  gpu: Gpu,
  full: EventStream,
  settings: TemporalRunSettings,
  control: RunControl,
  onEvent: TemporalEventSink,
  keep?: (checkpoint: CheckpointData) => void | Promise<void>,
): Promise<TemporalTrainResult> {
  checkTemporalSettings(settings);
  const stream = settings.events === null ? full : firstEvents(full, settings.events);
  const split = splitEvents(stream, { seed: settings.seed });
  const splitInfo: TemporalSplitInfo = {
    train: split.train.length,
    val: split.val.length,
    test: split.test.length,
    inductiveVal: split.inductiveVal.length,
    inductiveTest: split.inductiveTest.length,
    newNodes: split.newNodes.length,
    droppedTrainEvents: split.droppedTrainEvents,
  };
  requireEverySet(split, stream);
  const config = { ...TGN_DEFAULTS, memoryDim: settings.memoryDim, neighbors: settings.neighbors, numNodes: stream.numNodes, edgeDim: stream.edgeDim };
  const progress = new ProgressReporter(onEvent);
  const onBatch = (p: TemporalBatchProgress) => progress.batch(p.epoch - 1, p);
  const shouldStop = () => control.stopRequested;
  const engine = new TemporalEngine(gpu, new Tgn(config), stream, split, {
    seed: settings.seed,
    lr: settings.lr,
    batchSize: settings.batchSize,
    staleness: settings.staleness,
    memory: settings.memory ?? undefined,
    sampler: settings.sampler,
    onBatch,
    shouldStop,
  });
  const streamInfo = describeStream(stream);
  // No early stopping in the page: the user sets the epochs and may stop; the best validation epoch still reports.
  const run = new TemporalRunSummary();
  try {
    await onEvent({ type: 'started', settings, stream: streamInfo, split: splitInfo });
    progress.epochStarts();
    for await (const m of engine.run(settings.epochs)) {
      run.add(m);
      // As the CLI's --checkpoint writes it, so `train-temporal --resume` continues this run.
      if (keep) await keep(await run.checkpoint(engine));
      await onEvent({ type: 'epoch', metrics: m, gpuBytes: gpu.pool.allocatedBytes });
      if (control.stopRequested) break;
      await control.waitWhilePaused(m.epoch);
      if (control.stopRequested) break;
      progress.epochStarts();
    }
  } catch (error) {
    if (!(error instanceof TrainingStopped)) throw error;
  } finally {
    engine.dispose();
  }
  const epochsRun = run.last?.epoch ?? 0;
  return {
    epochsRun,
    stoppedByUser: control.stopRequested && epochsRun < settings.epochs,
    best: run.best,
    last: run.last,
    eventsPerSecond: run.eventsPerSecond,
    staleness: { ...run.stalenessSummary, setting: settings.staleness },
    stream: streamInfo,
    split: splitInfo,
  };
}
