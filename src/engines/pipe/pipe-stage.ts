// One pipeline stage (GNNPipe, research/gnnpipe.md §2): its own device, a contiguous run of the model's
// blocks with their parameters and optimizer, the whole graph's structure and historical buffers, and a
// transport to the stages before and after it. An epoch is GPipe's fill and drain:
//   forward  every chunk in this epoch's order: receive its boundary rows (stage 0: slice the features),
//            run the blocks, send the output on;
//   backward every chunk in reverse: recompute its forward (or take its kept tape), back-propagate the
//            gradient received from the next stage (the last: the chunk's loss), send the input's on;
//   then one optimizer step with the gradients summed over chunks: weights are never stale.
// The last stage computes the loss and, every E epochs, the metrics of an exact whole-graph forward.
// Hybrid mode: the stage is one of M replicas (its `ways` group), runs only its replica's chunks, swaps
// mirror rows with the other replicas at every aggregation (ChunkedGraph) and all-reduces the epoch's
// gradient sums with them before the step; replica 0 alone evaluates.

import type { Gpu } from '../../gpu/gpu.ts';
import { allReduceSum } from '../../dist/collectives.ts';
import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { CheckpointData, CheckpointTensor } from '../../nn/checkpoint.ts';
import type { RandomKey } from '../../nn/graph-input.ts';
import { blocksOf, type GraphModule } from '../../nn/graph-module.ts';
import type { Module } from '../../nn/module.ts';
import type { Optimizer } from '../../nn/optimizer.ts';
import { fromArray, zeros } from '../../tensor/create.ts';
import { accuracyCounts, crossEntropy } from '../../tensor/ops/cross-entropy.ts';
import { accumulateGrad, ones } from '../../tensor/ops/elementwise.ts';
import { sliceRows } from '../../tensor/ops/layout.ts';
import { keep, withScopeAsync } from '../../tensor/scope.ts';
import { backwardAsync, noGradAsync, restoreTape, takeTape, type TapeEntry } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { packScalars } from '../node-epoch.ts';
import { buildOptimizer, checkpointParameters, type NodeTrainingOptions } from '../training-state.ts';
import { ChunkedGraph, WHOLE, type PassKind } from './chunked-graph.ts';
import { HistoryStore, type AgeStats } from './history.ts';
import type { PipeData } from './pipe-data.ts';
import { chunkOrder, type PipeOptions } from './pipe-options.ts';
import type { StagePlan } from './stage-plan.ts';
import { WayExchange } from './way-exchange.ts';

/** One epoch as one stage saw it; the training and evaluation figures come from the last stage only. */
export interface StageEpochResult {
  stage: number;
  /** Which replica of the pipeline (hybrid mode; 0 with one pipeline). */
  way: number;
  /** Last stage: the pipelined training loss over this way's chunks (the ways' losses sum to the mean over the training nodes). */
  loss: number | null;
  /** Last stage of way 0, on evaluation epochs: the exact pass's metrics. */
  evaluation: { valLoss: number; trainCorrect: number; valCorrect: number; testCorrect: number } | null;
  embeddingAges: AgeStats;
  gradientAges: AgeStats;
  epochMs: number;
  peakGpuBytes: number;
  gpuBytes: number;
  historyBytes: number;
  bytesSent: number;
  bytesReceived: number;
}

interface KeptChunk {
  x: Tensor;
  out: Tensor | null;
  tape: TapeEntry[] | null;
}

const tagOf = (channel: number, c: number) => makeTag(channel, c === WHOLE ? 0 : c + 1);
/** The collective tag id of the ways' gradient all-reduce (one call per epoch, so it may repeat). */
const GRADIENT_TAG = 1;

export class PipeStage {
  readonly blocks: Module[];
  readonly graph: ChunkedGraph;
  readonly named: Array<[string, Tensor]>;
  private readonly optimizer: Optimizer;
  private readonly features: Tensor | null = null;
  private readonly labels: Tensor | null = null;
  /** Last stage: per chunk, its labels and local training ids; the whole graph's for evaluation. */
  private readonly chunkLabels: Tensor[] = [];
  private readonly chunkTrain: Tensor[] = [];
  private readonly splits: { train: Tensor; val: Tensor; test: Tensor } | null = null;
  private readonly sizes: { train: number; val: number; test: number } | null = null;
  private readonly gradSums = new Map<Tensor, Tensor>();
  private epoch = 0;

  constructor(
    readonly gpu: Gpu,
    readonly transport: Transport,
    /** This stage's replica of the model: only its blocks are materialised. */
    readonly model: GraphModule,
    private readonly data: PipeData,
    readonly plan: StagePlan,
    readonly options: PipeOptions,
    readonly training: NodeTrainingOptions,
    resume?: CheckpointData,
    /** Hybrid mode: the replicas of this stage (rank = way), which own the other chunks; null with one pipeline. */
    readonly ways: Transport | null = null,
  ) {
    const rank = transport.rank;
    const range = plan.stages[rank];
    if (!range || plan.stages.length !== transport.size) throw new RangeError(`PipeStage ${rank}: the plan has ${plan.stages.length} stages for ${transport.size} workers`);
    this.blocks = blocksOf(model).slice(range.first, range.end);
    const values = resume ? checkpointParameters(resume) : undefined;
    this.named = [];
    for (const block of this.blocks) {
      const prefix = block.path ? `${block.path}.` : '';
      // Values by full name; one the checkpoint lacks is refused by materialize, naming it.
      const own = values ? new Map(block.parameterShapes().flatMap(([name]) => (values.has(prefix + name) ? [[prefix + name, values.get(prefix + name)!] as const] : []))) : undefined;
      block.materialize(gpu, training.seed, own, { fullNames: true });
      for (const [name, t] of block.namedParameters()) this.named.push([prefix + name, t]);
    }
    this.optimizer = buildOptimizer(model, this.named, training);
    if (resume) {
      this.optimizer.loadState(resume, this.named);
      this.epoch = resume.epoch;
    }
    const history = new HistoryStore(gpu, data.chunking, { snapshotPeriod: options.snapshotPeriod, unbiasedGradients: options.unbiasedGradients });
    this.graph = new ChunkedGraph(gpu, data.chunking, data.edges, history, ways && ways.size > 1 ? new WayExchange(gpu, ways, data.chunking) : null);
    this.graph.keepForRecompute = options.recompute;
    const n = this.graph.numNodes;
    if (this.isFirst) {
      if (!data.features) throw new Error('PipeStage 0: needs the features');
      this.features = keep(fromArray(gpu, data.features, [n, data.numFeatures], { label: 'features' }));
    }
    if (this.isLast) {
      if (!data.labels || !data.splits) throw new Error(`PipeStage ${rank}: the last stage needs the labels and splits`);
      const { labels, splits } = data;
      this.labels = keep(fromArray(gpu, labels, [n], { dtype: 'i32', label: 'labels' }));
      const ids = (a: Int32Array, label: string) => keep(fromArray(gpu, a, [a.length], { dtype: 'i32', label }));
      this.splits = { train: ids(splits.train, 'train'), val: ids(splits.val, 'val'), test: ids(splits.test, 'test') };
      this.sizes = { train: splits.train.length, val: splits.val.length, test: splits.test.length };
      const { starts, numChunks } = data.chunking;
      const byChunk: number[][] = Array.from({ length: numChunks }, () => []);
      for (const v of splits.train) byChunk[chunkIndex(starts, v)].push(v);
      for (let c = 0; c < numChunks; c++) {
        this.chunkLabels.push(keep(fromArray(gpu, labels.slice(starts[c], starts[c + 1]), [starts[c + 1] - starts[c]], { dtype: 'i32', label: `labels:${c}` })));
        this.chunkTrain.push(ids(Int32Array.from(byChunk[c], (v) => v - starts[c]), `train:${c}`));
      }
    }
    // The stage's peak memory counts from here, its weights and data in: the plan's profile (stage 0's
    // device, the whole graph one block at a time) is setup, and profileBlocks gave its buffers back.
    gpu.pool.resetPeak();
  }

  get rank(): number {
    return this.transport.rank;
  }

  get isFirst(): boolean {
    return this.rank === 0;
  }

  get isLast(): boolean {
    return this.rank === this.transport.size - 1;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get way(): number {
    return this.ways?.rank ?? 0;
  }

  private get numWays(): number {
    return this.ways?.size ?? 1;
  }

  /** Width of the rows this stage receives (its first block's input) and sends (its last block's output). */
  private get inWidth(): number {
    const first = this.plan.stages[this.rank].first;
    return first === 0 ? this.data.numFeatures : this.plan.widths[first - 1];
  }

  private get outWidth(): number {
    return this.plan.widths[this.plan.stages[this.rank].end - 1];
  }

  /** One training epoch (and, when `evaluate`, an exact evaluation); on failure tells the peers before rethrowing. */
  async trainEpoch(evaluate: boolean): Promise<StageEpochResult> {
    try {
      return await this.epochBody(evaluate);
    } catch (error) {
      this.transport.abort(`stage ${this.rank} stopped: ${(error as Error).message}`);
      throw error;
    }
  }

  private async epochBody(evaluate: boolean): Promise<StageEpochResult> {
    const start = performance.now();
    const { gpu, transport, options } = this;
    const sentBefore = this.traffic('bytesSent');
    const receivedBefore = this.traffic('bytesReceived');
    const e = this.epoch;
    this.graph.history.beginEpoch(e);
    const exact = e < options.warmupEpochs;
    // Way w runs its own chunks in the order every way uses for its own: the concurrent chunks of two
    // ways are always the same distance apart (WayExchange).
    const perWay = this.data.chunking.numChunks / this.numWays;
    const order = exact ? [WHOLE] : chunkOrder(perWay, e, this.training.seed, options.shuffle).map((q) => this.way * perWay + q);
    const lossSum = this.isLast ? keep(zeros(gpu, [1], 'f32', 'pipe_loss')) : null;
    const kept = new Map<number, KeptChunk>();
    await withScopeAsync(gpu, async () => {
      for (const c of order) kept.set(c, await this.forwardChunk(c, e));
      for (const c of [...order].reverse()) await this.backwardChunk(c, e, kept.get(c)!, lossSum);
      await this.sumOverWays();
      for (const [p, g] of this.gradSums) p.grad = g;
      this.gradSums.clear();
      this.optimizer.step();
      this.optimizer.zeroGrad();
    });
    this.graph.history.endEpoch();
    // One way evaluates: the replicas hold the same weights (identical steps on all-reduced gradients).
    const evaluation = evaluate && this.way === 0 ? await this.exactPass() : null;
    if (evaluation) this.releaseCached();
    let loss: number | null = null;
    let metrics: StageEpochResult['evaluation'] = null;
    if (lossSum) {
      const values = evaluation ? [lossSum, ...evaluation] : [lossSum];
      const packed = packScalars(gpu, values);
      const read = packed.decode(await gpu.read(packed.packed.buffer, 0, values.length * 4));
      packed.packed.dispose();
      for (const t of values) t.dispose();
      loss = read[0];
      if (evaluation) metrics = { valLoss: read[1], trainCorrect: read[2], valCorrect: read[3], testCorrect: read[4] };
    }
    this.epoch++;
    return {
      stage: this.rank,
      way: this.way,
      loss,
      evaluation: metrics,
      embeddingAges: this.graph.history.embeddingAges,
      gradientAges: this.graph.history.gradientAges,
      epochMs: performance.now() - start,
      peakGpuBytes: gpu.pool.peakAllocatedBytes,
      gpuBytes: gpu.pool.allocatedBytes,
      historyBytes: this.graph.history.bytes,
      bytesSent: this.traffic('bytesSent') - sentBefore,
      bytesReceived: this.traffic('bytesReceived') - receivedBefore,
    };
  }

  /** A fresh random key per pass: dropout counts its calls per pass, keyed by (seed, epoch, global row). */
  private key(e: number): RandomKey {
    return { seed: this.training.seed, step: e };
  }

  private async forwardChunk(c: number, e: number): Promise<KeptChunk> {
    const { gpu } = this;
    const x = await this.input(c, TAG_CHANNEL.pipeForward);
    const view = this.graph.view(c, 'forward', this.key(e));
    if (this.options.recompute) {
      // Only the input is kept; the forward runs again before the backward.
      const out = await withScopeAsync(gpu, () => noGradAsync(gpu, () => this.runBlocks(view, x, true, false)));
      if (this.isLast) out.dispose();
      else await this.send(TAG_CHANNEL.pipeForward, c, out, true);
      this.releaseCached();
      return { x, out: null, tape: null };
    }
    const out = keep(await this.runBlocks(view, x));
    if (!this.isLast) await this.send(TAG_CHANNEL.pipeForward, c, out, false);
    return { x, out, tape: takeTape(gpu) };
  }

  private async backwardChunk(c: number, e: number, chunk: KeptChunk, lossSum: Tensor | null): Promise<void> {
    const { gpu } = this;
    await withScopeAsync(gpu, async () => {
      let out: Tensor;
      if (chunk.tape) {
        restoreTape(gpu, chunk.tape);
        out = chunk.out!;
      } else {
        out = await this.runBlocks(this.graph.view(c, 'recompute', this.key(e)), chunk.x);
      }
      if (lossSum) {
        const labels = c === WHOLE ? this.labels! : this.chunkLabels[c];
        const train = c === WHOLE ? this.splits!.train : this.chunkTrain[c];
        const loss = crossEntropy(out, labels, train, { denominator: this.sizes!.train });
        accumulateGrad(lossSum, loss);
        await backwardAsync(loss, ones(gpu, [1]), accumulateGrad);
      } else {
        const g = await this.receive(TAG_CHANNEL.pipeBackward, c, this.rank + 1, this.outWidth);
        await backwardAsync(out, g, accumulateGrad);
        g.dispose();
      }
      out.dispose();
      if (!this.isFirst) {
        const gx = chunk.x.grad ?? keep(zeros(gpu, chunk.x.shape, 'f32', 'pipe_input_grad'));
        chunk.x.grad = null;
        await this.sendTo(this.rank - 1, TAG_CHANNEL.pipeBackward, c, gx, true);
      }
      chunk.x.dispose();
      this.foldGradients();
    });
    this.releaseCached();
  }

  /** Bytes this worker moved to or from its pipeline and its stage's replicas (disjoint peers) so far. */
  private traffic(kind: 'bytesSent' | 'bytesReceived'): number {
    return sum(this.transport.stats[kind]) + (this.ways ? sum(this.ways.stats[kind]) : 0);
  }

  /**
   * Hybrid mode: each way summed the gradients of its own chunks; the ring all-reduce over the stage's
   * ways gives every replica the same bits of the whole sum, so their optimizer steps stay identical.
   */
  private async sumOverWays(): Promise<void> {
    if (!this.ways || this.ways.size === 1) return;
    const sizes = this.named.map(([, p]) => p.size);
    const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    for (const [, p] of this.named) {
      const g = this.gradSums.get(p);
      if (g) flat.set(new Float32Array(await this.gpu.read(g.buffer, 0, g.byteLength)), offset);
      offset += p.size;
    }
    await allReduceSum(this.ways, flat, GRADIENT_TAG);
    offset = 0;
    for (const [, p] of this.named) {
      const own = this.gradSums.get(p);
      // Every way runs the same blocks, so a parameter without a gradient has none on any way.
      if (own) {
        own.dispose();
        this.gradSums.set(p, keep(fromArray(this.gpu, flat.slice(offset, offset + p.size), [...p.shape], { label: 'pipe_grad_sum' })));
      }
      offset += p.size;
    }
  }

  /** Moves each parameter's gradient of one chunk into the epoch's sum (a backward walk replaces `grad`). */
  private foldGradients(): void {
    for (const [, p] of this.named) {
      if (!p.grad) continue;
      const total = this.gradSums.get(p);
      if (total) {
        accumulateGrad(total, p.grad);
        p.grad.dispose();
      } else {
        this.gradSums.set(p, p.grad);
      }
      p.grad = null;
    }
  }

  /** The exact whole-graph forward in eval mode; the last stage returns [valLoss, trainCorrect, valCorrect, testCorrect]. */
  private async exactPass(): Promise<Tensor[] | null> {
    const { gpu } = this;
    return withScopeAsync(gpu, () =>
      noGradAsync(gpu, async () => {
        const x = await this.input(WHOLE, TAG_CHANNEL.pipeExact);
        for (const b of this.blocks) b.eval();
        const out = await this.runBlocks(this.graph.view(WHOLE, 'eval', this.key(this.epoch)), x, false, false);
        if (out !== x) x.dispose();
        for (const b of this.blocks) b.train();
        if (!this.isLast) {
          await this.send(TAG_CHANNEL.pipeExact, WHOLE, out, true);
          return null;
        }
        const { labels, splits } = this;
        return [
          keep(crossEntropy(out, labels!, splits!.val, { denominator: this.sizes!.val })),
          keep(accuracyCounts(out, labels!, splits!.train)),
          keep(accuracyCounts(out, labels!, splits!.val)),
          keep(accuracyCounts(out, labels!, splits!.test)),
        ];
      }),
    );
  }

  /**
   * The stage's blocks over `x`. With `recorded` false (nothing on the tape: the exact pass, or a forward
   * that will be recomputed) each block runs in a scope of its own and the previous block's output is freed,
   * so a pass holds one block's intermediates at a time, not the stage's.
   */
  private async runBlocks(view: ReturnType<ChunkedGraph['view']>, x: Tensor, training = true, recorded = true): Promise<Tensor> {
    let h = x;
    for (const block of this.blocks) {
      if (training) block.train();
      if (recorded) {
        h = await (block as GraphModule).forward(view, h);
        continue;
      }
      const input = h;
      h = await withScopeAsync(this.gpu, async () => (block as GraphModule).forward(view, input));
      if (input !== x && input !== h) input.dispose();
    }
    return h;
  }

  /**
   * Gives the pool's cached free buffers back to the device. Chunks differ in size and the pool reuses a
   * buffer only for the same size, so without this every chunk's intermediates would stay cached: a stage
   * would hold about the whole graph's activations, as if nothing were pipelined.
   */
  private releaseCached(): void {
    // Submitted first: buffers released by recorded work are then free to destroy now, not after the next submit.
    this.gpu.submit();
    this.gpu.pool.trim();
  }

  /** Chunk `c`'s input rows: stage 0 slices the features, the others receive the previous stage's output. */
  private async input(c: number, channel: number): Promise<Tensor> {
    if (this.isFirst) {
      // A copy even of the whole graph's rows: a chunk's input is freed after its backward.
      return keep(sliceRows(this.features!, c === WHOLE ? 0 : this.data.chunking.starts[c], this.graph.rows(c)));
    }
    const x = await this.receive(channel, c, this.rank - 1, this.inWidth);
    x.requiresGrad = channel === TAG_CHANNEL.pipeForward;
    return x;
  }

  private async receive(channel: number, c: number, from: number, width: number): Promise<Tensor> {
    const rows = this.graph.rows(c);
    const message = await this.transport.recv(from, tagOf(channel, c), { kind: 'f32', shape: [rows, width] });
    return keep(fromArray(this.gpu, message.data as Float32Array, [rows, width], { label: `pipe_in:${c}` }));
  }

  private send(channel: number, c: number, t: Tensor, release: boolean): Promise<void> {
    return this.sendTo(this.rank + 1, channel, c, t, release);
  }

  /** Reads `t` back (and frees it when `release`) and sends its rows to stage `to`. */
  private async sendTo(to: number, channel: number, c: number, t: Tensor, release: boolean): Promise<void> {
    const shape = [t.rows, t.cols];
    const bytes = t.byteLength ? await this.gpu.read(t.buffer, 0, t.byteLength) : new ArrayBuffer(0);
    if (release) t.dispose();
    await this.transport.send(to, tagOf(channel, c), new Float32Array(bytes), shape);
  }

  /** This stage's parameters and optimizer state, by full name (the engine merges every stage's into one checkpoint). */
  async stateTensors(): Promise<CheckpointTensor[]> {
    const tensors: CheckpointTensor[] = [];
    for (const [name, t] of this.named) tensors.push({ name: `param:${name}`, shape: [...t.shape], data: new Float32Array(await t.toArray()) });
    tensors.push(...(await this.optimizer.stateTensors(this.named)));
    return tensors;
  }

  optimizerState(): CheckpointData['optimizer'] {
    return this.optimizer.describe();
  }

  dispose(): void {
    this.graph.dispose();
    const own = [this.features, this.labels, this.splits?.train, this.splits?.val, this.splits?.test, ...this.chunkLabels, ...this.chunkTrain];
    for (const t of own) t?.dispose();
    for (const g of this.gradSums.values()) g.dispose();
    this.optimizer.dispose();
    for (const block of this.blocks) block.dispose();
  }
}

function chunkIndex(starts: Int32Array, v: number): number {
  let c = 0;
  while (starts[c + 1] <= v) c++;
  return c;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
