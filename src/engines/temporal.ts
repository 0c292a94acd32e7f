// Memory-based temporal training (TGN, sequential: staleness 0). Events are taken in time order in
// batches; every batch:
//   1. samples a negative destination per event and the k most recent neighbours (strictly before the
//      event's time) of every source, destination and negative;
//   2. updates the memory of every node it touches from its mailbox — GRU([mail ‖ φ(t_mail − t_mem)], s) —
//      once per distinct node; rows are picked for roots and neighbours by 0/1 selection matrices, so the
//      gradient of a node used many times sums in a fixed order (SpMM backward, no atomics);
//   3. embeds the roots with temporal attention and scores (src, dst) against (src, negative) with BCE;
//   4. after the optimizer step, writes the updated memory of the positive endpoints back (detached) and
//      puts the new messages [s_src ‖ s_dst ‖ e] into their mailboxes, last event winning.
// Memory is reset every epoch; evaluation continues the memory through validation and test.

import type { Gpu } from '../gpu/gpu.ts';
import { describeEvent, type EventStream } from '../graph/event-stream.ts';
import { NegativeSampler } from '../graph/negative-sampler.ts';
import { TemporalCsr } from '../graph/temporal-csr.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import type { CheckpointData, CheckpointTensor } from '../nn/checkpoint.ts';
import { Optimizer } from '../nn/optimizer.ts';
import { MemoryOrderError, NodeMemory } from '../nn/tgn/node-memory.ts';
import { Tgn, type TgnConfig } from '../nn/tgn/tgn.ts';
import { empty, fromArray, zeros } from '../tensor/create.ts';
import { binaryCrossEntropyWithLogits } from '../tensor/ops/binary-cross-entropy.ts';
import { accumulateGrad, add, ones } from '../tensor/ops/elementwise.ts';
import { concatColumns, sliceRows } from '../tensor/ops/layout.ts';
import { gatherRows } from '../tensor/ops/rows.ts';
import { scatterLastWrite } from '../tensor/ops/memory.ts';
import { spmm } from '../tensor/ops/spmm.ts';
import { keep, withScopeAsync } from '../tensor/scope.ts';
import { SparseMatrix } from '../tensor/sparse-matrix.ts';
import { backwardAsync, noGradAsync } from '../tensor/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Engine } from './engine.ts';
import { averagePrecision, rocAuc } from './link-metrics.ts';

export interface TemporalTrainingOptions {
  seed: number;
  lr: number;
  batchSize: number;
  /** Called after every batch (training, then validation and test), e.g. for a progress bar. */
  onBatch?: (progress: TemporalBatchProgress) => void;
}

export interface TemporalBatchProgress {
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
  inductiveAp: number;
  inductiveAuc: number;
  /** Training events per second of this epoch's training pass. */
  eventsPerSecond: number;
  /**
   * Wall time of the training pass by stage (ms): `sample` — negatives, neighbours, distinct nodes and
   * selection matrices on the CPU; `train` — the GPU step to its one readback; `write` — memory and mail
   * writes (recorded, not waited on). What MSPipe could overlap.
   */
  stageMs: { sample: number; train: number; write: number };
  epochMs: number;
  peakGpuBytes: number[];
}

interface BatchScores {
  loss: number;
  positive: Float32Array;
  negative: Float32Array;
}

type Stages = TemporalEpochMetrics['stageMs'];

/** Which step keys a batch's negatives: training epochs differ, evaluation is fixed (same negatives every time). */
const EVAL_STEP = 0xffffff;

export class TemporalEngine implements Engine<TemporalEpochMetrics> {
  readonly mode = 'temporal' as const;
  readonly workers = 1;
  readonly model: Tgn;
  readonly memory: NodeMemory;
  private readonly optimizer: Optimizer;
  private readonly trainGraph: TemporalCsr;
  private readonly fullGraph: TemporalCsr;
  private readonly negatives: NegativeSampler;
  private readonly edgeFeatures: Tensor | null;
  /** Times in the memory are relative to the first event (TGN's datasets start at 0). */
  private readonly t0: number;
  private epoch = 0;
  private stages: Stages = { sample: 0, train: 0, write: 0 };

  constructor(
    readonly gpu: Gpu,
    readonly stream: EventStream,
    readonly split: TemporalSplit,
    readonly config: TgnConfig,
    readonly options: TemporalTrainingOptions,
    resume?: CheckpointData,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    this.model = new Tgn(config);
    const params = new Map<string, Float32Array>();
    for (const t of resume?.tensors ?? []) if (t.name.startsWith('param:')) params.set(t.name.slice(6), t.data);
    this.model.materialize(gpu, options.seed, resume ? params : undefined);
    this.optimizer = new Optimizer('adam', [{ params: this.model.parameters(), weightDecay: 0 }], { lr: options.lr, weightDecay: 0 });
    if (resume) {
      this.optimizer.loadState(resume, this.model.namedParameters());
      this.epoch = resume.epoch;
    }
    this.memory = new NodeMemory(gpu, stream.numNodes, config.memoryDim, this.model.mailDim);
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
    this.memory.reset();
    this.stages = { sample: 0, train: 0, write: 0 };
    let lossSum = 0;
    let batches = 0;
    const train = this.split.train;
    for (let at = 0; at < train.length; at += this.options.batchSize) {
      const scores = await this.batch(train.subarray(at, at + this.options.batchSize), this.trainGraph, true, this.epoch);
      lossSum += scores.loss;
      batches++;
      this.options.onBatch?.({ phase: 'train', done: Math.min(train.length, at + this.options.batchSize), total: train.length, loss: scores.loss });
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const stageMs = { ...this.stages };
    const val = await this.evaluate(this.split.val, 'val');
    const test = await this.evaluate(this.split.test, 'test');
    const inductive = pick(test, this.split.test, new Set(this.split.inductiveTest));
    this.epoch++;
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
      epochMs: performance.now() - started,
      peakGpuBytes: [this.gpu.pool.peakAllocatedBytes],
    };
  }

  /** Scores of `events` (positives) and their negatives, in order, continuing the memory. */
  private async evaluate(events: Int32Array, phase: 'val' | 'test'): Promise<{ positive: Float32Array; negative: Float32Array }> {
    const positive = new Float32Array(events.length);
    const negative = new Float32Array(events.length);
    for (let at = 0; at < events.length; at += this.options.batchSize) {
      const s = await this.batch(events.subarray(at, at + this.options.batchSize), this.fullGraph, false, EVAL_STEP);
      positive.set(s.positive, at);
      negative.set(s.negative, at);
      this.options.onBatch?.({ phase, done: Math.min(events.length, at + this.options.batchSize), total: events.length });
    }
    return { positive, negative };
  }

  private async batch(events: Int32Array, graph: TemporalCsr, training: boolean, step: number): Promise<BatchScores> {
    const { gpu, model, stream, memory } = this;
    const sampleStart = performance.now();
    const B = events.length;
    const K = this.config.neighbors;
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
    const nb = graph.mostRecent(roots, rootTimes, K);
    const touched = distinctNodes(roots, nb.neighbors, stream.numNodes);
    const U = touched.nodes;
    const selectRoots = SparseMatrix.fromCsr(gpu, selection(touched.index.subarray(0, 3 * B), U.length), 'select roots');
    const selectNeighbors = SparseMatrix.fromCsr(gpu, selection(touched.index.subarray(3 * B), U.length), 'select neighbours');
    const trainStart = performance.now();
    let writeMs = 0;
    const run = async (): Promise<BatchScores> =>
      withScopeAsync(gpu, async () => {
        const nodes = fromArray(gpu, Uint32Array.from(U), [U.length], { dtype: 'u32' });
        // 2. Memory of every touched node after absorbing its mailbox (φ of the time since its memory).
        const dtMemory = Float32Array.from(U, (v) => memory.mailTime[v] - memory.memoryTime[v]);
        const mailInput = concatColumns([gatherRows(memory.mail, nodes), model.time.forward(fromArray(gpu, dtMemory, [U.length]))]);
        const updated = model.updater.forward(mailInput, gatherRows(memory.memory, nodes));
        // 3. Embeddings and scores.
        const rootMemory = spmm(selectRoots, updated);
        const neighbourParts = [spmm(selectNeighbors, updated)];
        if (this.edgeFeatures) neighbourParts.push(gatherRows(this.edgeFeatures, fromArray(gpu, Uint32Array.from(nb.eventIds), [nb.eventIds.length], { dtype: 'u32' })));
        const dtNeighbours = Float32Array.from(nb.times, (t, p) => (nb.mask[p] ? rootTimes[Math.floor(p / K)] - t : 0));
        neighbourParts.push(model.time.forward(fromArray(gpu, dtNeighbours, [dtNeighbours.length])));
        const h = model.attention.forward(
          rootMemory,
          model.time.forward(zeros(gpu, [3 * B])),
          concatColumns(neighbourParts),
          fromArray(gpu, nb.mask, [3 * B, K]),
        );
        const hSrc = sliceRows(h, 0, B);
        const positive = model.predictor.forward(hSrc, sliceRows(h, B, B));
        const negative = model.predictor.forward(hSrc, sliceRows(h, 2 * B, B));
        const loss = add(binaryCrossEntropyWithLogits(positive, ones(gpu, [B])), binaryCrossEntropyWithLogits(negative, zeros(gpu, [B])));
        if (training) {
          await backwardAsync(loss, ones(gpu, [1]), accumulateGrad);
          this.optimizer.step();
          this.optimizer.zeroGrad();
        }
        // One readback: the batch's scores and loss.
        const packed = empty(gpu, [2 * B + 1], 'f32', 'batch scores');
        gpu.encoder.copy(positive.buffer, 0, packed.buffer, 0, B * 4);
        gpu.encoder.copy(negative.buffer, 0, packed.buffer, B * 4, B * 4);
        gpu.encoder.copy(loss.buffer, 0, packed.buffer, 2 * B * 4, 4);
        // 4. Positives write memory and mail (detached), in event order so the last event wins.
        const writeStart = performance.now();
        this.writeMemory(events, touched.index, updated, B);
        writeMs = performance.now() - writeStart;
        const values = new Float32Array(await gpu.read(packed.buffer, 0, (2 * B + 1) * 4));
        return { loss: values[2 * B], positive: values.slice(0, B), negative: values.slice(B, 2 * B) };
      });
    try {
      const scores = training ? await run() : await noGradAsync(gpu, run);
      if (training) {
        this.stages.sample += trainStart - sampleStart;
        this.stages.write += writeMs;
        this.stages.train += performance.now() - trainStart - writeMs;
      }
      return scores;
    } finally {
      selectRoots.dispose();
      selectNeighbors.dispose();
    }
  }

  /** Updated memory of the positive endpoints back into the state; their new messages into the mailboxes. */
  private writeMemory(events: Int32Array, index: Int32Array, updated: Tensor, B: number): void {
    const { gpu, stream, memory } = this;
    const writeNodes = new Uint32Array(2 * B);
    const own = new Uint32Array(2 * B);
    const other = new Uint32Array(2 * B);
    for (let i = 0; i < B; i++) {
      const e = events[i];
      writeNodes[2 * i] = stream.src[e];
      writeNodes[2 * i + 1] = stream.dst[e];
      own[2 * i] = other[2 * i + 1] = index[i];
      own[2 * i + 1] = other[2 * i] = index[B + i];
    }
    checkMessageOrder(stream, memory, events, this.t0);
    const nodes = fromArray(gpu, writeNodes, [2 * B], { dtype: 'u32' });
    const ownRows = gatherRows(updated, fromArray(gpu, own, [2 * B], { dtype: 'u32' }));
    scatterLastWrite(memory.memory, ownRows, nodes);
    const parts = [ownRows, gatherRows(updated, fromArray(gpu, other, [2 * B], { dtype: 'u32' }))];
    if (this.edgeFeatures) {
      const ids = new Uint32Array(2 * B);
      for (let i = 0; i < B; i++) ids[2 * i] = ids[2 * i + 1] = events[i];
      parts.push(gatherRows(this.edgeFeatures, fromArray(gpu, ids, [2 * B], { dtype: 'u32' })));
    }
    scatterLastWrite(memory.mail, concatColumns(parts), nodes);
    // Times on the CPU, in the same order (later events overwrite earlier ones).
    for (let i = 0; i < 2 * B; i++) memory.memoryTime[writeNodes[i]] = memory.mailTime[writeNodes[i]];
    for (let i = 0; i < B; i++) {
      const e = events[i];
      memory.mailTime[stream.src[e]] = memory.mailTime[stream.dst[e]] = stream.t[e] - this.t0;
    }
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
    tensors.push({ name: 'memory:memory', shape: [N, this.config.memoryDim], data: state.memory });
    tensors.push({ name: 'memory:mail', shape: [N, this.model.mailDim], data: state.mail });
    return {
      config: { tgn: { ...this.config }, training: { seed: this.options.seed, lr: this.options.lr, batchSize: this.options.batchSize }, dataset: this.stream.name },
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

/** Rows of the per-batch node tensors are padded to a multiple of this: recurring sizes let the buffer pool reuse them. */
const NODE_ROWS_QUANTUM = 512;

/**
 * Distinct nodes of roots ∪ neighbours in order of first appearance (padded with node 0 to a multiple
 * of NODE_ROWS_QUANTUM; padding rows are computed and never selected), and each entry's position.
 */
function distinctNodes(roots: Int32Array, neighbours: Int32Array, numNodes: number): { nodes: Int32Array; index: Int32Array } {
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
  return { nodes: padded, index };
}

/** The 0/1 matrix whose row p picks column index[p]: Y = S·X gathers rows, Sᵀ sums their gradients. */
function selection(index: Int32Array, columns: number) {
  const n = index.length;
  return { numRows: n, numCols: columns, rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i), colIdx: Int32Array.from(index), values: null };
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
