// Memory-based temporal training: a scheduler over batches, node memory and staleness for any
// TemporalModel (src/nn/temporal-model.ts; TGN is one, built by the caller — this file knows no layer).
// Events are taken in time order in batches; every batch:
//   1. (CPU) samples a negative destination per event and the k most recent neighbours (strictly before
//      the event's time) of every source, destination and negative; finds the distinct nodes it touches
//      and builds the 0/1 selection matrices that pick their rows for roots and neighbour slots (so the
//      gradient of a node used many times sums in a fixed order: SpMM backward, no atomics);
//   2. fetches the memory and mailbox of every distinct node (blending stale rows, MSPipe);
//   3. the model's forwardBatch: memory update, embeddings, logits and loss; when training, the engine
//      records the backward pass and the optimizer step (any of src/nn/optimizer.ts's);
//   4. the model's memoryUpdate: the positive endpoints' new memory and messages, which the engine writes
//      back (detached) in event order, the last event winning, after checking that memory never moves
//      back in time.
// Memory is reset every epoch; evaluation continues the memory through validation and test.
//
// MSPipe (staleness k, memory in host RAM): the CPU samples and records batch i while the device still
// runs earlier batches, and batch i fetches memory when at most k earlier writes have yet to land; their
// readbacks and the batches' scores are awaited k batches later. A fixed k lands exactly the writes older
// than the last k (reproducible whatever the timing); k = 0 waits for every write, which is the sequential
// algorithm exactly (same arithmetic as device memory, bit for bit). `auto` lands whatever has arrived
// (the run then depends on timing). Evaluation is always sequential. See staleness-policy.ts (how k is chosen) and staleness-mitigation.ts (stale rows).

import type { Gpu } from '../gpu/gpu.ts';
import { yieldToEventLoop } from '../gpu/next-task.ts';
import type { EventStream } from '../graph/event-stream.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import { Optimizer, type OptimizerHyper, type OptimizerKind } from '../nn/optimizer.ts';
import type { TemporalModel } from '../nn/temporal-model.ts';
import { HostNodeMemory } from '../nn/tgn/host-memory.ts';
import type { TgnMemoryStore } from '../nn/tgn/memory-store.ts';
import { NodeMemory } from '../nn/tgn/node-memory.ts';
import type { Engine } from './engine.ts';
import { averagePrecision, rocAuc } from './link-metrics.ts';
import { trainingTensors } from './training-state.ts';
import { StalenessPolicy, checkStaleness, type StalenessSetting } from './staleness-policy.ts';
import { noStageTimes, pickScores, TemporalBatchRunner, type BatchScores, type EvaluationScores, type TemporalStageTimes } from './temporal/batch-runner.ts';
import { checkMetric, meanReciprocalRanks, type EvaluationMetric } from './link-metrics.ts';

export { checkMessageOrder, type TemporalStageTimes } from './temporal/batch-runner.ts';

export interface TemporalTrainingOptions extends Partial<Omit<OptimizerHyper, 'lr'>> {
  seed: number;
  lr: number;
  /** The optimizer (default 'adam'), as node classification's; `weightDecay` (default 0) applies to every parameter. */
  optimizer?: OptimizerKind;
  batchSize: number;
  /** Where node memory lives: 'device' (default with staleness 0) or 'host' (required for staleness > 0 and 'auto'). */
  memory?: 'device' | 'host';
  /** Which temporal neighbours the attention sees: the k most recent (TGN's default) or k drawn uniformly from the past. */
  sampler?: 'recent' | 'uniform';
  /** MSPipe's staleness bound k for training (default 0: sequential). */
  staleness?: StalenessSetting;
  /** Weight λ of a stale node's own memory in the mitigation blend (1 disables mitigation). */
  staleSelfWeight?: number;
  /** DistTGL's static node memory [numNodes × memoryDim], added to the dynamic memory before the embedding. */
  staticMemory?: Float32Array;
  /** 'mrr' also ranks every evaluation event against 49 negatives (valMrr, testMrr); AP is always reported. */
  metric?: EvaluationMetric;
  /** Called after every batch (training, then validation and test), e.g. for a progress bar. */
  onBatch?: (progress: TemporalBatchProgress) => void;
  /** Asked between batches; true ends the run there with TrainingStopped (after the device work in flight lands). */
  shouldStop?: () => boolean;
}

/** The run was ended between two batches at the caller's request (shouldStop); the epoch is not counted. */
export class TrainingStopped extends Error {
  constructor(readonly epoch: number) {
    super(`training stopped during epoch ${epoch}`);
    this.name = 'TrainingStopped';
  }
}

export interface TemporalBatchProgress {
  /** The epoch under way (1-based). */
  epoch: number;
  phase: 'train' | 'val' | 'test';
  /** Events of this phase done so far, of `total`. */
  done: number;
  total: number;
  /** The batch's loss (training only). */
  loss?: number;
}

export interface TemporalEpochMetrics {
  epoch: number;
  loss: number;
  valAp: number;
  valAuc: number;
  testAp: number;
  testAuc: number;
  /** Mean reciprocal rank against 49 negatives, with metric 'mrr'. */
  valMrr?: number;
  testMrr?: number;
  inductiveAp: number;
  inductiveAuc: number;
  /** Training events per second of this epoch's training pass. */
  eventsPerSecond: number;
  stageMs: TemporalStageTimes;
  /** Staleness bound k chosen per training iteration this epoch, and the writes actually in flight at each fetch. */
  staleness: { mean: number; max: number; inFlightMean: number; staleRows: number };
  epochMs: number;
  peakGpuBytes: number[];
}

export class TemporalEngine implements Engine<TemporalEpochMetrics> {
  readonly mode = 'temporal' as const;
  readonly workers = 1;
  readonly memory: TgnMemoryStore;
  readonly staleness: StalenessSetting;
  private readonly optimizer: Optimizer;
  /** Each batch's CPU and device work (this engine schedules the batches, memory and staleness). */
  private readonly runner: TemporalBatchRunner;
  private epoch = 0;
  private inFlightAtFetch: number[] = [];

  /**
   * Trains `model` (materialised here: from `options.seed`, or from `resume`'s weights) on `stream`
   * with `split`; continues a checkpoint of this engine when `resume` is given. The engine owns the
   * model from then on (`dispose` frees its parameters).
   */
  constructor(
    readonly gpu: Gpu,
    readonly model: TemporalModel,
    readonly stream: EventStream,
    readonly split: TemporalSplit,
    readonly options: TemporalTrainingOptions,
    resume?: CheckpointData,
  ) {
    this.staleness = checkStaleness(options.staleness ?? 0);
    const where = options.memory ?? (this.staleness === 0 ? 'device' : 'host');
    if (where === 'device' && this.staleness !== 0) {
      throw new Error(`staleness ${this.staleness} needs node memory in host RAM (memory: 'host'): device memory is read in queue order and is never stale`);
    }
    this.runner = new TemporalBatchRunner(gpu, model, stream, split, options);
    const params = new Map<string, Float32Array>();
    for (const t of resume?.tensors ?? []) if (t.name.startsWith('param:')) params.set(t.name.slice(6), t.data);
    model.materialize(gpu, options.seed, resume ? params : undefined);
    this.optimizer = new Optimizer(options.optimizer ?? 'adam', [{ params: model.parameters() }], optimizerHyper(options));
    if (resume) {
      this.optimizer.loadState(resume, model.namedParameters());
      this.epoch = resume.epoch;
    }
    const Store = where === 'host' ? HostNodeMemory : NodeMemory;
    this.memory = new Store(gpu, stream.numNodes, model.memoryDim, model.mailDim);
    if (resume) this.restoreMemory(resume);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  async *run(epochs: number): AsyncGenerator<TemporalEpochMetrics> {
    while (this.epoch < epochs) yield await this.trainEpoch();
  }

  private async trainEpoch(): Promise<TemporalEpochMetrics> {
    const started = performance.now();
    await this.memory.settle(0);
    this.memory.reset();
    this.runner.stages = noStageTimes();
    this.inFlightAtFetch = [];
    this.runner.staleRows = 0;
    const policy = new StalenessPolicy(this.staleness);
    const train = this.split.train;
    const { batchSize } = this.options;
    // Batches recorded and not yet read back, oldest first.
    const queued: Array<{ scores: Promise<BatchScores>; done: number }> = [];
    let lossSum = 0;
    let batches = 0;
    let lastLanding = NaN;
    const drain = async (keep: number) => {
      while (queued.length > keep) {
        const { scores, done } = queued.shift()!;
        const s = await this.waited(scores);
        const now = performance.now();
        const between = now - lastLanding;
        lastLanding = now;
        if (queued.length || keep > 0) policy.measure(NaN, between);
        lossSum += s.loss;
        batches++;
        this.options.onBatch?.({ epoch: this.epoch + 1, phase: 'train', done, total: train.length, loss: s.loss });
      }
    };
    for (let at = 0; at < train.length; at += batchSize) {
      if (this.options.shouldStop?.()) {
        await drain(0);
        await this.stopIfAsked();
      }
      const cpuStart = performance.now();
      const batch = this.runner.prepare(train.subarray(at, at + batchSize), this.runner.trainGraph, this.epoch, true);
      const k = policy.next();
      const sampled = performance.now();
      // auto fetches as late as possible: whatever has been read back by now lands too.
      const eager = this.staleness === 'auto';
      if (eager) await this.waited(yieldToEventLoop());
      await this.waited(this.memory.settle(k, eager));
      const cpuResumed = performance.now();
      this.inFlightAtFetch.push(this.memory.inFlight);
      const { scores } = await this.runner.record(batch, this.memory, { step: () => this.step() });
      queued.push({ scores, done: Math.min(train.length, at + batchSize) });
      policy.measure(sampled - cpuStart + (performance.now() - cpuResumed), NaN);
      await drain(k);
    }
    await drain(0);
    await this.waited(this.memory.settle(0));
    const trainSeconds = (performance.now() - started) / 1000;
    const stageMs = { ...this.runner.stages };
    const val = await this.evaluate(this.split.val, 'val');
    const test = await this.evaluate(this.split.test, 'test');
    const inductive = pickScores(test, this.split.test, new Set(this.split.inductiveTest));
    this.epoch++;
    const inFlight = this.inFlightAtFetch;
    return {
      epoch: this.epoch,
      loss: lossSum / Math.max(1, batches),
      valAp: averagePrecision(val),
      valAuc: rocAuc(val),
      testAp: averagePrecision(test),
      testAuc: rocAuc(test),
      ...meanReciprocalRanks(val, test),
      inductiveAp: averagePrecision(inductive),
      inductiveAuc: rocAuc(inductive),
      eventsPerSecond: train.length / trainSeconds,
      stageMs,
      staleness: { ...policy.summary(), inFlightMean: inFlight.length ? inFlight.reduce((a, b) => a + b, 0) / inFlight.length : 0, staleRows: this.runner.staleRows },
      epochMs: performance.now() - started,
      peakGpuBytes: [this.gpu.pool.peakAllocatedBytes],
    };
  }

  /** Ends the run with TrainingStopped when the caller asks, once every write in flight has landed. */
  private async stopIfAsked(): Promise<void> {
    if (!this.options.shouldStop?.()) return;
    await this.memory.settle(0);
    throw new TrainingStopped(this.epoch + 1);
  }

  /** Awaits `promise`, counting the time as waiting for the device. */
  private async waited<T>(promise: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await promise;
    } finally {
      this.runner.stages.wait += performance.now() - start;
    }
  }

  /** Scores of `events` (positives) and their negatives, in order, continuing the memory (sequentially). */
  private evaluate(events: Int32Array, phase: 'val' | 'test'): Promise<EvaluationScores> {
    return this.runner.evaluate(
      events,
      this.memory,
      async (done) => {
        this.options.onBatch?.({ epoch: this.epoch + 1, phase, done, total: events.length });
        await this.stopIfAsked();
      },
      checkMetric(this.options.metric) === 'mrr',
    );
  }

  /** The optimizer step of one training batch (its gradients are in place). */
  private step(): void {
    this.optimizer.step();
    this.optimizer.zeroGrad();
  }

  /** Node memory, mailbox and their times as saved (training resets memory each epoch; evaluation continues it). */
  private restoreMemory(resume: CheckpointData): void {
    const tensor = (name: string) => resume.tensors.find((t) => t.name === name)?.data;
    const memory = tensor('memory:memory');
    const mail = tensor('memory:mail');
    const times = resume.extra as { memoryTime?: number[]; mailTime?: number[] } | undefined;
    if (!memory || !mail || !times?.memoryTime || !times.mailTime) throw new Error('cannot resume: the checkpoint has no TGN node memory (memory:memory, memory:mail and their times)');
    this.memory.load({ memory, mail, memoryTime: times.memoryTime, mailTime: times.mailTime });
  }

  async snapshot(): Promise<CheckpointData> {
    const tensors: CheckpointTensor[] = [];
    tensors.push(...(await trainingTensors(this.model, this.optimizer)));
    const state = await this.memory.save();
    const N = this.stream.numNodes;
    tensors.push({ name: 'memory:memory', shape: [N, this.model.memoryDim], data: state.memory });
    tensors.push({ name: 'memory:mail', shape: [N, this.model.mailDim], data: state.mail });
    const { seed, lr, batchSize } = this.options;
    return {
      config: {
        ...this.model.checkpointConfig(),
        training: { seed, lr, batchSize, sampler: this.options.sampler ?? 'recent', optimizer: this.optimizer.kind, weightDecay: this.optimizer.hyper.weightDecay },
        dataset: this.stream.name,
      },
      epoch: this.epoch,
      rng: { seed: this.options.seed, step: this.epoch },
      optimizer: this.optimizer.describe(),
      tensors,
      // f64 times do not fit the f32 tensor format: kept exactly as JSON numbers.
      extra: { memoryTime: Array.from(state.memoryTime), mailTime: Array.from(state.mailTime) },
    };
  }

  dispose(): void {
    this.memory.dispose();
    this.runner.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** The optimizer's hyperparameters from the options: lr and weight decay (default 0), and whichever others are given. */
function optimizerHyper(options: TemporalTrainingOptions): OptimizerHyper {
  if (!(options.lr > 0 && Number.isFinite(options.lr))) throw new RangeError(`learning rate must be a positive number, got ${options.lr}`);
  const weightDecay = options.weightDecay ?? 0;
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new RangeError(`weight decay must be a non-negative number, got ${weightDecay}`);
  const hyper: OptimizerHyper = { lr: options.lr, weightDecay };
  for (const key of ['beta1', 'beta2', 'eps', 'momentum'] as const) if (options[key] !== undefined) hyper[key] = options[key];
  return hyper;
}
