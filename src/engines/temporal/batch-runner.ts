// One batch of memory-based temporal training, for every scheduler of it (the sequential and MSPipe
// engine in ../temporal.ts, DistTGL's trainers in disttgl-trainer.ts): the CPU side (negatives, temporal
// neighbours, distinct nodes, selection matrices), and the device side recorded against any node memory
// store (fetch, forward, backward, the caller's optimizer step, the positives' memory writes). It knows no
// layer: the model is any TemporalModel.

import type { Gpu } from '../../gpu/gpu.ts';
import type { EventStream } from '../../graph/event-stream.ts';
import { NegativeSampler } from '../../graph/negative-sampler.ts';
import { TemporalCsr, type TemporalNeighbors } from '../../graph/temporal-csr.ts';
import type { TemporalSplit } from '../../graph/temporal-split.ts';
import type { TemporalBatch, TemporalMemoryUpdate, TemporalModel } from '../../nn/temporal-model.ts';
import { MemoryOrderError, type TgnMemoryStore } from '../../nn/tgn/memory-store.ts';
import { describeEvent } from '../../graph/event-stream.ts';
import { empty, fromArray } from '../../tensor/create.ts';
import { accumulateGrad, ones } from '../../tensor/ops/elementwise.ts';
import { spmm } from '../../tensor/ops/spmm.ts';
import { gatherRows } from '../../tensor/ops/rows.ts';
import { keep, withScopeAsync } from '../../tensor/scope.ts';
import { SparseMatrix } from '../../tensor/sparse-matrix.ts';
import { backwardAsync, noGradAsync } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { STALE_SELF_WEIGHT, stalenessBlend } from '../staleness-mitigation.ts';

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

export const noStageTimes = (): TemporalStageTimes => ({ sample: 0, fetch: 0, train: 0, write: 0, wait: 0 });

export interface BatchScores {
  loss: number;
  positive: Float32Array;
  negative: Float32Array;
}

export interface BatchRunnerOptions {
  seed: number;
  batchSize: number;
  /** Which temporal neighbours the attention sees: the k most recent (default) or k drawn uniformly from the past. */
  sampler?: 'recent' | 'uniform';
  /** Weight λ of a stale node's own memory in the mitigation blend (1 disables mitigation). */
  staleSelfWeight?: number;
  /** Static node memory [numNodes × memoryDim], row-major, added before the embedding (DistTGL); none by default. */
  staticMemory?: Float32Array;
}

/** A batch's CPU work (no device resource yet): everything of TemporalBatch but the selection matrices. */
export type SampledBatch = Omit<TemporalBatch, 'gpu' | 'selectRoots' | 'selectNeighbours' | 'selectNodes' | 'edgeFeatures' | 'staticMemory'>;

/** A batch ready to record: the model's view of it, and the selection matrices it closes over. */
export interface PreparedBatch extends TemporalBatch {
  readonly matrices: SparseMatrix[];
}

/** Which step keys a batch's negatives: training epochs differ, evaluation is fixed (same negatives every time). */
export const EVAL_STEP = 0xffffff;
/** The step of the ranking negatives (--metric mrr): fixed, and apart from EVAL_STEP's. */
export const RANKING_STEP = 0xfffffe;
/** Negatives each evaluation event is ranked against for MRR (DistTGL's 49). */
export const RANKING_NEGATIVES = 49;

/** What an evaluation pass scores: each event against one negative (AP, AUC); with `ranking`, also against 49 (MRR). */
export interface EvaluationScores {
  positive: Float32Array;
  negative: Float32Array;
  /** Per event, 1 / (1 + the negatives scoring above the true destination), when ranking was asked. */
  reciprocalRank: Float32Array | null;
}

export interface RecordOptions {
  /** Training only: runs after the backward pass (gradients in `grad`); steps the optimizer and clears the gradients. */
  step?: () => Promise<void> | void;
  /** Whether the positives' new memory is written to the store (default true). */
  write?: boolean;
}

export class TemporalBatchRunner {
  /** Stage times since the caller last replaced this object. */
  stages: TemporalStageTimes = noStageTimes();
  /** Stale rows blended by the mitigation since the caller last reset it. */
  staleRows = 0;
  /** Neighbour lists of training events only (TGN trains on them) and of all events (evaluation). */
  readonly trainGraph: TemporalCsr;
  readonly fullGraph: TemporalCsr;
  readonly negatives: NegativeSampler;
  readonly edgeFeatures: Tensor | null;
  readonly staticMemory: Tensor | null;
  /** Times in the memory are relative to the first event (TGN's datasets start at 0). */
  readonly t0: number;

  constructor(
    readonly gpu: Gpu,
    readonly model: TemporalModel,
    readonly stream: EventStream,
    split: TemporalSplit,
    readonly options: BatchRunnerOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    if (options.sampler !== undefined && options.sampler !== 'recent' && options.sampler !== 'uniform') throw new RangeError(`sampler must be 'recent' or 'uniform', got '${options.sampler}'`);
    if (model.edgeDim !== stream.edgeDim) throw new RangeError(`the model expects ${model.edgeDim} features per event; stream '${stream.name}' has ${stream.edgeDim}`);
    if (!Number.isInteger(model.neighbours) || model.neighbours < 0) throw new RangeError(`the model's neighbour slots per root must be a non-negative integer, got ${model.neighbours}`);
    // TGN trains on neighbour lists of training events only and evaluates on all events; either way a
    // query sees only events strictly before its time.
    this.trainGraph = TemporalCsr.fromStream(stream, split.train);
    this.fullGraph = TemporalCsr.fromStream(stream);
    this.negatives = new NegativeSampler(stream, { seed: options.seed });
    this.edgeFeatures = stream.edgeFeatures && stream.edgeDim ? keep(fromArray(gpu, stream.edgeFeatures, [stream.numEvents, stream.edgeDim], { label: 'edge features' })) : null;
    const table = options.staticMemory;
    if (table && table.length !== stream.numNodes * model.memoryDim) {
      throw new RangeError(`static memory must hold ${stream.numNodes} nodes × ${model.memoryDim} values (the model's memory width), got ${table.length}`);
    }
    if (table && !table.every(Number.isFinite)) throw new RangeError('static memory holds NaN or an infinity');
    this.staticMemory = table ? keep(fromArray(gpu, table, [stream.numNodes, model.memoryDim], { label: 'static memory' })) : null;
    this.t0 = stream.numEvents ? stream.t[0] : 0;
  }

  /** Step 1 on the CPU and its upload: negatives (keyed by `step`), neighbours, distinct nodes, selection matrices. */
  prepare(events: Int32Array, graph: TemporalCsr, step: number, training: boolean): PreparedBatch {
    return this.upload(this.sample(events, graph, step, training));
  }

  /** Step 1's CPU work: the batch's negatives (drawn for `step`, unless given), neighbours, distinct nodes and endpoints. */
  sample(events: Int32Array, graph: TemporalCsr, step: number, training: boolean, given?: Int32Array): SampledBatch {
    const start = performance.now();
    const { stream } = this;
    const B = events.length;
    const K = this.model.neighbours;
    if (given && given.length !== B) throw new RangeError(`sample: ${given.length} negatives for ${B} events`);
    const neg = given ?? this.negatives.sample(events, step);
    const roots = new Int32Array(3 * B);
    const rootTimes = new Float64Array(3 * B);
    for (let i = 0; i < B; i++) {
      const e = events[i];
      roots[i] = stream.src[e];
      roots[B + i] = stream.dst[e];
      roots[2 * B + i] = neg[i];
      rootTimes[i] = rootTimes[B + i] = rootTimes[2 * B + i] = stream.t[e];
    }
    const nb: TemporalNeighbors =
      this.options.sampler === 'uniform' ? graph.uniform(roots, rootTimes, K, this.options.seed, step, { keys: queryKeys(events) }) : graph.mostRecent(roots, rootTimes, K);
    const touched = distinctNodes(roots, nb.neighbors, stream.numNodes);
    const { index } = touched;
    const endpoints = { nodes: new Uint32Array(2 * B), own: new Uint32Array(2 * B), other: new Uint32Array(2 * B), events: new Uint32Array(2 * B) };
    for (let i = 0; i < B; i++) {
      const e = events[i];
      endpoints.nodes[2 * i] = stream.src[e];
      endpoints.nodes[2 * i + 1] = stream.dst[e];
      endpoints.own[2 * i] = endpoints.other[2 * i + 1] = index[i];
      endpoints.own[2 * i + 1] = endpoints.other[2 * i] = index[B + i];
      endpoints.events[2 * i] = endpoints.events[2 * i + 1] = e;
    }
    const sampled: SampledBatch = {
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
      endpoints,
    };
    this.stages.sample += performance.now() - start;
    return sampled;
  }

  /** The selection matrices of a sampled batch, on the device. */
  upload(sampled: SampledBatch): PreparedBatch {
    const start = performance.now();
    const { gpu } = this;
    const B = sampled.size;
    const K = this.model.neighbours;
    const U = sampled.nodes.length;
    const selectRoots = SparseMatrix.fromCsr(gpu, selection(sampled.index.subarray(0, 3 * B), U), 'select roots');
    const selectNeighbours = K > 0 ? SparseMatrix.fromCsr(gpu, selection(sampled.index.subarray(3 * B), U), 'select neighbours') : null;
    const matrices = selectNeighbours ? [selectRoots, selectNeighbours] : [selectRoots];
    const { numNodes } = this.stream;
    let selectNodes: SparseMatrix | null = null;
    const nodeIndex = () => fromArray(gpu, Uint32Array.from(sampled.nodes), [U], { dtype: 'u32' });
    const batch: PreparedBatch = {
      ...sampled,
      gpu,
      selectRoots: (rows) => spmm(selectRoots, rows),
      selectNeighbours: (rows) => {
        if (!selectNeighbours) throw new Error('selectNeighbours: the model samples no neighbours (neighbours = 0)');
        return spmm(selectNeighbours, rows);
      },
      selectNodes: (table) => {
        if (table.rows !== numNodes) throw new RangeError(`selectNodes: the table has ${table.rows} rows, the stream ${numNodes} nodes`);
        if (!selectNodes) matrices.push((selectNodes = SparseMatrix.fromCsr(gpu, selection(sampled.nodes, numNodes), 'select nodes')));
        return spmm(selectNodes, table);
      },
      edgeFeatures: this.edgeFeatures,
      staticMemory: null,
      matrices,
    };
    // Gathered on first use, inside the recording's tensor scope (which frees it with the batch's tensors).
    const table = this.staticMemory;
    if (table) {
      let rows: Tensor | null = null;
      Object.defineProperty(batch, 'staticMemory', { get: () => (rows ??= gatherRows(table, nodeIndex())) });
    }
    this.stages.sample += performance.now() - start;
    return batch;
  }

  /**
   * Steps 2–4 recorded on the device against `memory`; resolves once they are recorded (memory writes
   * included, so the next batch may be recorded at once) with the batch's scores still to come (one
   * readback). Training batches run the backward pass and then `options.step`.
   */
  async record(batch: PreparedBatch, memory: TgnMemoryStore, options: RecordOptions = {}): Promise<{ scores: Promise<BatchScores> }> {
    const { gpu, model } = this;
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
          if (!options.step) throw new Error('TemporalBatchRunner.record: a training batch needs an optimizer step');
          await options.step();
        }
        const packed = empty(gpu, [2 * B + 1], 'f32', 'batch scores');
        gpu.encoder.copy(positive.buffer, 0, packed.buffer, 0, B * 4);
        gpu.encoder.copy(negative.buffer, 0, packed.buffer, B * 4, B * 4);
        gpu.encoder.copy(loss.buffer, 0, packed.buffer, 2 * B * 4, 4);
        lap('train');
        // 4. The positives' memory and mail (detached), in event order so the last event wins.
        if (options.write ?? true) this.writeMemory(batch, model.memoryUpdate(batch, output), fetched.absorbedTime, memory);
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

  /**
   * Scores of `events` (positives) and their negatives, in order, continuing `memory` sequentially (no
   * gradient; the same negatives every time). With `ranking`, each event is also ranked against
   * RANKING_NEGATIVES negatives drawn from every node (MRR), scored from the same pre-batch memory
   * without writing it. `afterBatch` runs after each batch (progress, stop requests).
   */
  async evaluate(events: Int32Array, memory: TgnMemoryStore, afterBatch?: (done: number) => Promise<void> | void, ranking = false): Promise<EvaluationScores> {
    const positive = new Float32Array(events.length);
    const negative = new Float32Array(events.length);
    const reciprocalRank = ranking ? new Float32Array(events.length) : null;
    const stages = this.stages;
    const { batchSize } = this.options;
    try {
      for (let at = 0; at < events.length; at += batchSize) {
        const slice = events.subarray(at, at + batchSize);
        await memory.settle(0);
        if (reciprocalRank) reciprocalRank.set(await this.rank(slice, memory), at);
        const batch = this.prepare(slice, this.fullGraph, EVAL_STEP, false);
        const s = await (await this.record(batch, memory)).scores;
        positive.set(s.positive, at);
        negative.set(s.negative, at);
        await afterBatch?.(Math.min(events.length, at + batchSize));
      }
      await memory.settle(0);
    } finally {
      this.stages = stages; // evaluation time is not training's
    }
    return { positive, negative, reciprocalRank };
  }

  /**
   * Each event's reciprocal rank among RANKING_NEGATIVES negatives: the batch repeated once per negative
   * (every repeat reads the same memory, so its positive score is the event's), scored without writes.
   */
  private async rank(events: Int32Array, memory: TgnMemoryStore): Promise<Float32Array> {
    const R = RANKING_NEGATIVES;
    const B = events.length;
    const drawn = this.negatives.sample(events, RANKING_STEP, R); // event i's draws at i·R … i·R + R − 1
    const repeated = new Int32Array(B * R);
    const negatives = new Int32Array(B * R);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < B; i++) {
        repeated[r * B + i] = events[i];
        negatives[r * B + i] = drawn[i * R + r];
      }
    }
    const batch = this.upload(this.sample(repeated, this.fullGraph, RANKING_STEP, false, negatives));
    const s = await (await this.record(batch, memory, { write: false })).scores;
    const out = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      let above = 0;
      for (let r = 0; r < R; r++) if (s.negative[r * B + i] > s.positive[i]) above++;
      out[i] = 1 / (1 + above);
    }
    return out;
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
  private writeMemory(batch: PreparedBatch, update: TemporalMemoryUpdate, absorbedTime: Float64Array, memory: TgnMemoryStore): void {
    const { stream } = this;
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

  dispose(): void {
    this.edgeFeatures?.dispose();
    this.staticMemory?.dispose();
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

/** The scores of the events in `subset`, in `order`'s order (e.g. the inductive test events among all test events). */
export function pickScores(scores: { positive: Float32Array; negative: Float32Array }, order: Int32Array, subset: Set<number>): { positive: Float32Array; negative: Float32Array } {
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
