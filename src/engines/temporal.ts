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
import { describeEvent, type EventStream } from '../graph/event-stream.ts';
import { NegativeSampler } from '../graph/negative-sampler.ts';
import { TemporalCsr } from '../graph/temporal-csr.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import { Optimizer, type OptimizerHyper, type OptimizerKind } from '../nn/optimizer.ts';
import type { TemporalBatch, TemporalMemoryUpdate, TemporalModel } from '../nn/temporal-model.ts';
import { HostNodeMemory } from '../nn/tgn/host-memory.ts';
import { MemoryOrderError, type TgnMemoryStore } from '../nn/tgn/memory-store.ts';
import { NodeMemory } from '../nn/tgn/node-memory.ts';
import { empty, fromArray } from '../tensor/create.ts';
import { accumulateGrad, ones } from '../tensor/ops/elementwise.ts';
import { spmm } from '../tensor/ops/spmm.ts';
import { keep, withScopeAsync } from '../tensor/scope.ts';
import { SparseMatrix } from '../tensor/sparse-matrix.ts';
import { backwardAsync, noGradAsync } from '../tensor/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Engine } from './engine.ts';
import { averagePrecision, rocAuc } from './link-metrics.ts';
import { STALE_SELF_WEIGHT, stalenessBlend } from './staleness-mitigation.ts';
import { StalenessPolicy, checkStaleness, type StalenessSetting } from './staleness-policy.ts';

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

/**
 * Wall time of a training pass by stage (ms), on the CPU's clock: `sample` — negatives, neighbours,
 * distinct nodes and selection matrices; `fetch` — memory rows read (uploaded from host memory);
 * `train` — recording the forward, backward and optimizer step; `write` — recording the memory writes;
 * `wait` — waiting for the device (a write to land, or a batch's scores). Everything but `wait` is CPU
 * work MSPipe overlaps with the device.
 */
export interface TemporalStageTimes {
  sample: number;
  fetch: number;
  train: number;
  write: number;
  wait: number;
}

export interface TemporalEpochMetrics {
  epoch: number;
  loss: number;
  valAp: number;
  valAuc: number;
  testAp: number;
  testAuc: number;
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

interface BatchScores {
  loss: number;
  positive: Float32Array;
  negative: Float32Array;
}

/** A batch's CPU-side work (step 1): the model's view of it, and the selection matrices it closes over. */
interface PreparedBatch extends TemporalBatch {
  readonly matrices: SparseMatrix[];
}

/** Which step keys a batch's negatives: training epochs differ, evaluation is fixed (same negatives every time). */
const EVAL_STEP = 0xffffff;

export class TemporalEngine implements Engine<TemporalEpochMetrics> {
  readonly mode = 'temporal' as const;
  readonly workers = 1;
  readonly memory: TgnMemoryStore;
  readonly staleness: StalenessSetting;
  private readonly optimizer: Optimizer;
  private readonly trainGraph: TemporalCsr;
  private readonly fullGraph: TemporalCsr;
  private readonly negatives: NegativeSampler;
  private readonly edgeFeatures: Tensor | null;
  /** Times in the memory are relative to the first event (TGN's datasets start at 0). */
  private readonly t0: number;
  private epoch = 0;
  private stages: TemporalStageTimes = { sample: 0, fetch: 0, train: 0, write: 0, wait: 0 };
  private inFlightAtFetch: number[] = [];
  private staleRows = 0;

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
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    if (options.sampler !== undefined && options.sampler !== 'recent' && options.sampler !== 'uniform') throw new RangeError(`sampler must be 'recent' or 'uniform', got '${options.sampler}'`);
    if (model.edgeDim !== stream.edgeDim) throw new RangeError(`the model expects ${model.edgeDim} features per event; stream '${stream.name}' has ${stream.edgeDim}`);
    if (!Number.isInteger(model.neighbours) || model.neighbours < 0) throw new RangeError(`the model's neighbour slots per root must be a non-negative integer, got ${model.neighbours}`);
    this.staleness = checkStaleness(options.staleness ?? 0);
    const where = options.memory ?? (this.staleness === 0 ? 'device' : 'host');
    if (where === 'device' && this.staleness !== 0) {
      throw new Error(`staleness ${this.staleness} needs node memory in host RAM (memory: 'host'): device memory is read in queue order and is never stale`);
    }
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
    // TGN trains on neighbour lists of training events only and evaluates on all events; either way a
    // query sees only events strictly before its time.
    this.trainGraph = TemporalCsr.fromStream(stream, split.train);
    this.fullGraph = TemporalCsr.fromStream(stream);
    this.negatives = new NegativeSampler(stream, { seed: options.seed });
    this.edgeFeatures = stream.edgeFeatures && stream.edgeDim ? keep(fromArray(gpu, stream.edgeFeatures, [stream.numEvents, stream.edgeDim], { label: 'edge features' })) : null;
    this.t0 = stream.numEvents ? stream.t[0] : 0;
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
    this.stages = { sample: 0, fetch: 0, train: 0, write: 0, wait: 0 };
    this.inFlightAtFetch = [];
    this.staleRows = 0;
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
      const batch = this.prepare(train.subarray(at, at + batchSize), this.trainGraph, this.epoch, true);
      const k = policy.next();
      const sampled = performance.now();
      // auto fetches as late as possible: whatever has been read back by now lands too.
      const eager = this.staleness === 'auto';
      if (eager) await this.waited(yieldToEventLoop());
      await this.waited(this.memory.settle(k, eager));
      const cpuResumed = performance.now();
      this.inFlightAtFetch.push(this.memory.inFlight);
      const { scores } = await this.record(batch);
      queued.push({ scores, done: Math.min(train.length, at + batchSize) });
      policy.measure(sampled - cpuStart + (performance.now() - cpuResumed), NaN);
      await drain(k);
    }
    await drain(0);
    await this.waited(this.memory.settle(0));
    const trainSeconds = (performance.now() - started) / 1000;
    const stageMs = { ...this.stages };
    const val = await this.evaluate(this.split.val, 'val');
    const test = await this.evaluate(this.split.test, 'test');
    const inductive = pick(test, this.split.test, new Set(this.split.inductiveTest));
    this.epoch++;
    const inFlight = this.inFlightAtFetch;
    return {
      epoch: this.epoch,
      loss: lossSum / Math.max(1, batches),
      valAp: averagePrecision(val),
      valAuc: rocAuc(val),
      testAp: averagePrecision(test),
      testAuc: rocAuc(test),
      inductiveAp: averagePrecision(inductive),
      inductiveAuc: rocAuc(inductive),
      eventsPerSecond: train.length / trainSeconds,
      stageMs,
      staleness: { ...policy.summary(), inFlightMean: inFlight.length ? inFlight.reduce((a, b) => a + b, 0) / inFlight.length : 0, staleRows: this.staleRows },
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
      this.stages.wait += performance.now() - start;
    }
  }

  /** Scores of `events` (positives) and their negatives, in order, continuing the memory (sequentially). */
  private async evaluate(events: Int32Array, phase: 'val' | 'test'): Promise<{ positive: Float32Array; negative: Float32Array }> {
    const positive = new Float32Array(events.length);
    const negative = new Float32Array(events.length);
    const stages = this.stages;
    try {
      for (let at = 0; at < events.length; at += this.options.batchSize) {
        const batch = this.prepare(events.subarray(at, at + this.options.batchSize), this.fullGraph, EVAL_STEP, false);
        await this.memory.settle(0);
        const s = await (await this.record(batch)).scores;
        positive.set(s.positive, at);
        negative.set(s.negative, at);
        this.options.onBatch?.({ epoch: this.epoch + 1, phase, done: Math.min(events.length, at + this.options.batchSize), total: events.length });
        await this.stopIfAsked();
      }
      await this.memory.settle(0);
    } finally {
      this.stages = stages; // evaluation time is not training's
    }
    return { positive, negative };
  }

  /** Step 1 on the CPU: negatives, neighbours, distinct nodes, the selection matrices and the endpoints' rows. */
  private prepare(events: Int32Array, graph: TemporalCsr, step: number, training: boolean): PreparedBatch {
    const start = performance.now();
    const { stream, gpu } = this;
    const B = events.length;
    const K = this.model.neighbours;
    const neg = this.negatives.sample(events, step);
    const roots = new Int32Array(3 * B);
    const rootTimes = new Float64Array(3 * B);
    for (let i = 0; i < B; i++) {
      const e = events[i];
      roots[i] = stream.src[e];
      roots[B + i] = stream.dst[e];
      roots[2 * B + i] = neg[i];
      rootTimes[i] = rootTimes[B + i] = rootTimes[2 * B + i] = stream.t[e];
    }
    const nb = this.options.sampler === 'uniform' ? graph.uniform(roots, rootTimes, K, this.options.seed, step, { keys: queryKeys(events) }) : graph.mostRecent(roots, rootTimes, K);
    const touched = distinctNodes(roots, nb.neighbors, stream.numNodes);
    const U = touched.nodes.length;
    const { index } = touched;
    const selectRoots = SparseMatrix.fromCsr(gpu, selection(index.subarray(0, 3 * B), U), 'select roots');
    const selectNeighbours = K > 0 ? SparseMatrix.fromCsr(gpu, selection(index.subarray(3 * B), U), 'select neighbours') : null;
    const endpoints = { nodes: new Uint32Array(2 * B), own: new Uint32Array(2 * B), other: new Uint32Array(2 * B), events: new Uint32Array(2 * B) };
    for (let i = 0; i < B; i++) {
      const e = events[i];
      endpoints.nodes[2 * i] = stream.src[e];
      endpoints.nodes[2 * i + 1] = stream.dst[e];
      endpoints.own[2 * i] = endpoints.other[2 * i + 1] = index[i];
      endpoints.own[2 * i + 1] = endpoints.other[2 * i] = index[B + i];
      endpoints.events[2 * i] = endpoints.events[2 * i + 1] = e;
    }
    const batch: PreparedBatch = {
      gpu,
      events,
      size: B,
      training,
      roots,
      rootTimes,
      neighbours: nb,
      neighbourDt: Float32Array.from(nb.times, (t, p) => (nb.mask[p] ? rootTimes[Math.floor(p / K)] - t : 0)),
      nodes: touched.nodes,
      distinct: touched.distinct,
      index,
      selectRoots: (rows) => spmm(selectRoots, rows),
      selectNeighbours: (rows) => {
        if (!selectNeighbours) throw new Error('selectNeighbours: the model samples no neighbours (neighbours = 0)');
        return spmm(selectNeighbours, rows);
      },
      edgeFeatures: this.edgeFeatures,
      endpoints,
      matrices: selectNeighbours ? [selectRoots, selectNeighbours] : [selectRoots],
    };
    this.stages.sample += performance.now() - start;
    return batch;
  }

  /**
   * Steps 2–4 recorded on the device; resolves once they are recorded (memory writes included, so the
   * next batch may be recorded at once) with the batch's scores still to come (one readback).
   */
  private async record(batch: PreparedBatch): Promise<{ scores: Promise<BatchScores> }> {
    const { gpu, model, memory } = this;
    const { training } = batch;
    const B = batch.size;
    let clock = performance.now();
    const lap = (stage: keyof TemporalStageTimes) => {
      const now = performance.now();
      this.stages[stage] += now - clock;
      clock = now;
    };
    let blend: SparseMatrix | null = null;
    const run = async (): Promise<{ read: Promise<ArrayBuffer> }> =>
      withScopeAsync(gpu, async () => {
        // 2. Memory and mail of every touched node (stale rows blended).
        const fetched = memory.fetch(batch.nodes);
        blend = this.mitigation(batch, fetched.stale);
        const previous = blend ? spmm(blend, fetched.memory) : fetched.memory;
        lap('fetch');
        // 3. The model's forward pass (in training or evaluation mode); backward and the optimizer step when training.
        if (model.training !== training) model.train(training);
        const output = model.forwardBatch(batch, { memory: previous, mail: fetched.mail, sinceMemory: fetched.sinceMemory });
        const { positive, negative, loss } = output;
        if (positive.size !== B || negative.size !== B || loss.size !== 1) {
          throw new RangeError(`forwardBatch must give B = ${B} positive and negative logits and one loss, got ${positive}, ${negative}, ${loss}`);
        }
        if (training) {
          await backwardAsync(loss, ones(gpu, [1]), accumulateGrad);
          this.optimizer.step();
          this.optimizer.zeroGrad();
        }
        const packed = empty(gpu, [2 * B + 1], 'f32', 'batch scores');
        gpu.encoder.copy(positive.buffer, 0, packed.buffer, 0, B * 4);
        gpu.encoder.copy(negative.buffer, 0, packed.buffer, B * 4, B * 4);
        gpu.encoder.copy(loss.buffer, 0, packed.buffer, 2 * B * 4, 4);
        lap('train');
        // 4. The positives' memory and mail (detached), in event order so the last event wins.
        this.writeMemory(batch, model.memoryUpdate(batch, output), fetched.absorbedTime);
        // One readback: the batch's scores and loss (started here, awaited by the caller).
        const read = gpu.read(packed.buffer, 0, (2 * B + 1) * 4);
        lap('write');
        return { read };
      });
    try {
      // Wrapped: an async function would adopt a returned promise and wait for the readback.
      const { read } = training ? await run() : await noGradAsync(gpu, run);
      const scores = read.then((bytes) => {
        const values = new Float32Array(bytes);
        return { loss: values[2 * B], positive: values.slice(0, B), negative: values.slice(B, 2 * B) };
      });
      scores.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection meanwhile
      return { scores };
    } finally {
      // Commands that use them are submitted (the readback submitted everything): safe to free now.
      for (const m of batch.matrices) m.dispose();
      (blend as SparseMatrix | null)?.dispose();
    }
  }

  /** The staleness-mitigation blend for this batch's fetched memory, or null when no row is stale. */
  private mitigation(batch: PreparedBatch, stale: Uint8Array | null): SparseMatrix | null {
    const selfWeight = this.options.staleSelfWeight ?? STALE_SELF_WEIGHT;
    if (!stale || selfWeight === 1) return null;
    const roots = 3 * batch.events.length;
    for (let p = 0; p < batch.distinct; p++) this.staleRows += stale[p];
    const csr = stalenessBlend(
      { stale, rows: batch.distinct, rootRows: batch.index.subarray(0, roots), neighbourRows: batch.index.subarray(roots), mask: batch.neighbours.mask, k: this.model.neighbours, selfWeight },
      batch.nodes.length,
    );
    return csr ? SparseMatrix.fromCsr(this.gpu, csr, 'staleness blend') : null;
  }

  /** The model's rows for the positive endpoints back into the store (after the order check), with their times. */
  private writeMemory(batch: PreparedBatch, update: TemporalMemoryUpdate, absorbedTime: Float64Array): void {
    const { stream, memory } = this;
    const { endpoints } = batch;
    const entries = update.entries ?? Int32Array.from(endpoints.nodes, (_, j) => j);
    const n = entries.length;
    if (update.memory.rows !== n || update.memory.cols !== this.model.memoryDim || update.mail.rows !== n || update.mail.cols !== this.model.mailDim) {
      throw new RangeError(`memoryUpdate must give ${n} rows of memory (${this.model.memoryDim}) and mail (${this.model.mailDim}), got ${update.memory} and ${update.mail}`);
    }
    const nodes = new Uint32Array(n);
    const memoryTimes = new Float64Array(n);
    const mailTimes = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const entry = entries[j];
      if (!(entry >= 0 && entry < endpoints.nodes.length) || (j > 0 && entry <= entries[j - 1])) throw new RangeError(`memoryUpdate: entries must ascend within [0, ${endpoints.nodes.length}), got ${entry} at ${j}`);
      nodes[j] = endpoints.nodes[entry];
      memoryTimes[j] = absorbedTime[endpoints.own[entry]];
      mailTimes[j] = stream.t[endpoints.events[entry]] - this.t0;
    }
    checkMessageOrder(stream, memory, batch.events, this.t0);
    memory.write({ nodes, memory: update.memory, mail: update.mail, memoryTimes, mailTimes });
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
    for (const [name, t] of this.model.namedParameters()) tensors.push({ name: `param:${name}`, shape: [...t.shape], data: new Float32Array(await t.toArray()) });
    tensors.push(...(await this.optimizer.stateTensors(this.model.namedParameters())));
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
    this.edgeFeatures?.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/**
 * Memory never moves back in time: each event's message must be no older than the message its endpoints
 * already hold (times relative to t0). Refuses with the event named (file and line) otherwise.
 */
export function checkMessageOrder(stream: EventStream, memory: { mailTime: Float64Array; memoryTime: Float64Array }, events: Int32Array, t0: number): void {
  for (const e of events) {
    for (const v of [stream.src[e], stream.dst[e]]) {
      if (stream.t[e] - t0 < memory.mailTime[v] || memory.mailTime[v] < memory.memoryTime[v]) {
        throw new MemoryOrderError(
          `TGN memory would move back in time at ${describeEvent(stream, e)}: node ${stream.originalIds[v]} already holds a message of t = ${memory.mailTime[v] + t0} (memory at t = ${memory.memoryTime[v] + t0})`,
        );
      }
    }
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

/** Keys of a batch's neighbour queries (source, destination, negative of each event): the draws do not depend on batching. */
function queryKeys(events: Int32Array): Int32Array {
  const B = events.length;
  const keys = new Int32Array(3 * B);
  for (let i = 0; i < B; i++) for (let role = 0; role < 3; role++) keys[role * B + i] = events[i] * 3 + role;
  return keys;
}

/** Rows of the per-batch node tensors are padded to a multiple of this: recurring sizes let the buffer pool reuse them. */
const NODE_ROWS_QUANTUM = 64;

/**
 * Distinct nodes of roots ∪ neighbours in order of first appearance (padded with node 0 to a multiple
 * of NODE_ROWS_QUANTUM; padding rows are computed and never selected), and each entry's position.
 */
function distinctNodes(roots: Int32Array, neighbours: Int32Array, numNodes: number): { nodes: Int32Array; distinct: number; index: Int32Array } {
  const position = new Int32Array(numNodes).fill(-1);
  const index = new Int32Array(roots.length + neighbours.length);
  const nodes: number[] = [];
  const visit = (v: number, at: number) => {
    if (position[v] < 0) {
      position[v] = nodes.length;
      nodes.push(v);
    }
    index[at] = position[v];
  };
  roots.forEach((v, i) => visit(v, i));
  neighbours.forEach((v, i) => visit(v, roots.length + i));
  const padded = new Int32Array(Math.ceil(nodes.length / NODE_ROWS_QUANTUM) * NODE_ROWS_QUANTUM);
  padded.set(nodes);
  return { nodes: padded, distinct: nodes.length, index };
}

/** The 0/1 matrix whose row p picks column index[p]: Y = S·X gathers rows, Sᵀ sums their gradients. */
function selection(index: Int32Array, columns: number) {
  const n = index.length;
  const rowPtr = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) rowPtr[i] = i;
  return { numRows: n, numCols: columns, rowPtr, colIdx: index.slice(), values: null };
}

/** The scores of the events in `subset` (positions found through `order`). */
function pick(scores: { positive: Float32Array; negative: Float32Array }, order: Int32Array, subset: Set<number>): { positive: Float32Array; negative: Float32Array } {
  const positive: number[] = [];
  const negative: number[] = [];
  order.forEach((e, i) => {
    if (subset.has(e)) {
      positive.push(scores.positive[i]);
      negative.push(scores.negative[i]);
    }
  });
  return { positive: Float32Array.from(positive), negative: Float32Array.from(negative) };
}
