// One DistTGL trainer (research/disttgl.md): a full replica of the model on its own device, training the
// tasks disttgl-schedule.ts gives it, with gradients all-reduced over all N trainers before one identical
// optimizer step everywhere, and node memory shared only inside its memory group.
//
// Each iteration t, on every trainer, in this order:
//   1. (owner of the group) serve the group's reads of t: zero the memory first when t's position is
//      batch 0, then answer the i parts of the epoch-rank whose pass 0 runs at t, in part order;
//   2. on a pass 0: sample all j passes (their negatives differ), read the rows of every node they touch
//      once (the owner's table, or a request to it) and keep them for the j passes;
//   3. record the pass (batch-runner.ts): forward, backward, the gradient all-reduce (summed, divided by
//      the trainers with a task), the optimizer step; a pass 0 also writes its endpoints' new memory;
//      a trainer without a task this iteration joins the all-reduce with zeros;
//   4. a pass 0 sends its rows (only nodes whose last occurrence in the logical batch is in its part) to
//      the owner, which (5) lands the parts' writes of t in part order before serving reads of t + 1.
// Reads of t + 1 follow the writes of t on the owner by construction, without any waiting in a loop, so
// memory evolves exactly as on one trainer; everything is keyed by the seed, so a run is reproducible.

import type { Gpu } from '../../gpu/gpu.ts';
import { allReduceSum } from '../../dist/collectives.ts';
import type { Transport } from '../../dist/transport.ts';
import type { EventStream } from '../../graph/event-stream.ts';
import type { TemporalSplit } from '../../graph/temporal-split.ts';
import { Optimizer, type OptimizerHyper, type OptimizerKind } from '../../nn/optimizer.ts';
import type { TemporalModel } from '../../nn/temporal-model.ts';
import { HostNodeMemory } from '../../nn/tgn/host-memory.ts';
import { allReduceGradients } from '../gradient-all-reduce.ts';
import { averagePrecision, checkMetric, meanReciprocalRanks, rocAuc, type EvaluationMetric } from '../link-metrics.ts';
import { EVAL_STEP, pickScores, TemporalBatchRunner, type BatchScores, type SampledBatch } from './batch-runner.ts';
import { batchesPerPass, batchRange, contributors, groupStart, lastOccurrenceParts, negativeStep, partRange, taskAt, type TrainerTask } from './disttgl-schedule.ts';
import { concatRows, filterRows, GroupMemoryTable, SnapshotMemory, type MemoryRows, type OwnerOperation } from './group-memory.ts';
import type { CheckpointData, CheckpointTensor } from '../../nn/checkpoint.ts';
import { checkResume, type TrainerState } from './disttgl-checkpoint.ts';
import { checkpointParameters, trainingTensors } from '../training-state.ts';
import { MemoryLink } from './memory-link.ts';
import { memoryOwner, trainerCount, trainerPosition, trainerRank, type ParallelLayout, type TrainerPosition } from './parallel-layout.ts';

export interface DistTglOptions {
  seed: number;
  /** The learning rate of one trainer; scaled by N when `lrScaling` is 'linear' (the default, as DistTGL). */
  lr: number;
  lrScaling?: 'linear' | 'none';
  optimizer?: OptimizerKind;
  weightDecay?: number;
  /** Events per part (a logical batch is i × batchSize). */
  batchSize: number;
  sampler?: 'recent' | 'uniform';
  layout: ParallelLayout;
  /** Record every operation of the memory owners (tests). */
  instrument?: boolean;
  /** 'mrr' also ranks every evaluation event against 49 negatives. */
  metric?: EvaluationMetric;
  /** Static node memory [numNodes × memoryDim] added before the embedding (--static-memory). */
  staticMemory?: Float32Array;
  /** Every trainer gets trainer 0's evaluation (one more small all-reduce an epoch; rooms, where each member reports). */
  shareEvaluation?: boolean;
}

export interface DistTglEpochResult {
  rank: number;
  /** Mean training loss over every pass of every trainer this epoch (all-reduced: the same on all). */
  loss: number;
  /** Training events processed this epoch by all trainers (each pass counts), and by this one. */
  events: number;
  ownEvents: number;
  /** Passes over the training stream so far (epochs × j × k). */
  passes: number;
  trainMs: number;
  epochMs: number;
  bytesSent: number;
  bytesReceived: number;
  /** Of bytesSent: memory reads and writes (the rest are gradients and metrics). */
  memoryBytesSent: number;
  peakGpuBytes: number;
  gpuBytes: number;
  /** Trainer 0 only: validation and test from group 0's memory. */
  evaluation: { valAp: number; valAuc: number; testAp: number; testAuc: number; inductiveAp: number; inductiveAuc: number; valMrr?: number; testMrr?: number } | null;
}

const TAG_GRADIENTS = 1;
const TAG_METRICS = 2;
const TAG_EVALUATION = 3;

/** What a trainer keeps of its current position for the j passes: each pass's batch, and the rows read once. */
interface Held {
  position: number;
  sampled: SampledBatch[];
  rows: MemoryRows;
  /** Mini-batch parallelism: which part writes each node of the logical batch. */
  writer: Map<number, number> | null;
}

export class DistTglTrainer {
  readonly position: TrainerPosition;
  readonly runner: TemporalBatchRunner;
  readonly optimizer: Optimizer;
  /** This trainer's memory group's table when it owns it (trainer e = 0, m = 0 of the group). */
  readonly table: GroupMemoryTable | null;
  readonly link: MemoryLink;
  private readonly snapshot: SnapshotMemory;
  private readonly batches: number;
  private held: Held | null = null;
  private epoch = 0;
  /** Passes over the training stream so far: j × k an epoch (a room re-formed over other members changes k). */
  private passes = 0;

  constructor(
    readonly gpu: Gpu,
    readonly transport: Transport,
    readonly model: TemporalModel,
    readonly stream: EventStream,
    readonly split: TemporalSplit,
    readonly options: DistTglOptions,
    resume?: CheckpointData,
    /**
     * 'exact': the checkpoint of a run of this very layout (every group's memory and held rows, see
     * disttgl-checkpoint.ts). 'weights': only its weights, optimizer state and epoch, with every memory
     * group starting from zero where its walk stands — how a room re-forms its groups over other members.
     */
    resumeMode: 'exact' | 'weights' = 'exact',
  ) {
    const { layout } = options;
    const N = trainerCount(layout);
    if (transport.size !== N) throw new RangeError(`DistTGL: layout ${layout.batch}×${layout.epoch}×${layout.memory} has ${N} trainers but the transport links ${transport.size}`);
    this.position = trainerPosition(transport.rank, layout);
    this.batches = batchesPerPass(split.train.length, options.batchSize, layout);
    if (this.batches < layout.epoch) {
      throw new RangeError(`DistTGL: ${this.batches} logical batches of ${layout.batch} × ${options.batchSize} training events are fewer than the ${layout.epoch} epoch-parallel trainers (use a smaller --batch-size or fewer trainers)`);
    }
    if (this.batches < layout.memory) throw new RangeError(`DistTGL: ${this.batches} logical batches cannot be shared among ${layout.memory} memory groups`);
    this.runner = new TemporalBatchRunner(gpu, model, stream, split, { seed: options.seed, batchSize: options.batchSize, sampler: options.sampler, staticMemory: options.staticMemory });
    if (resume && resumeMode === 'exact') checkResume(resume, layout, this.batches);
    model.materialize(gpu, options.seed, resume ? checkpointParameters(resume) : undefined);
    this.optimizer = new Optimizer(options.optimizer ?? 'adam', [{ params: model.parameters() }], scaledHyper(options, N));
    const owns = memoryOwner(this.position.group, layout) === transport.rank;
    this.table = owns ? new GroupMemoryTable(stream.numNodes, model.memoryDim, model.mailDim, options.instrument) : null;
    this.snapshot = new SnapshotMemory(gpu, stream.numNodes, model.memoryDim, model.mailDim);
    this.link = new MemoryLink(transport, { numNodes: stream.numNodes, width: model.memoryDim + model.mailDim });
    if (resume) this.restore(resume, resumeMode);
  }

  /** The weights, optimizer state and epoch (the same on every trainer) as a checkpoint, without node memory. */
  async weightsCheckpoint(extraConfig: Record<string, unknown> = {}): Promise<CheckpointData> {
    const tensors = await trainingTensors(this.model, this.optimizer);
    const { seed } = this.options;
    return { config: { ...this.model.checkpointConfig(), ...extraConfig }, epoch: this.epoch, rng: { seed, step: this.epoch }, optimizer: this.optimizer.describe(), tensors, extra: { passes: this.passes } };
  }

  /**
   * What this trainer holds of the run, between epochs: the weights and optimizer state (every trainer's
   * are the same; trainer 0's are saved), its group's memory when it owns it, and the rows of a position
   * whose passes continue into the next epoch (epoch parallelism).
   */
  async state(): Promise<TrainerState> {
    const tensors: CheckpointTensor[] = this.rank === 0 ? await trainingTensors(this.model, this.optimizer) : [];
    const times: TrainerState['times'] = {};
    if (this.table) {
      const g = this.position.group;
      const saved = this.table.copy();
      tensors.push({ name: `memory:${g}:memory`, shape: [this.stream.numNodes, this.model.memoryDim], data: saved.memory });
      tensors.push({ name: `memory:${g}:mail`, shape: [this.stream.numNodes, this.model.mailDim], data: saved.mail });
      times[`memory:${g}`] = { memoryTime: Array.from(saved.memoryTime), mailTime: Array.from(saved.mailTime) };
    }
    const next = taskAt(this.epoch * this.batches, this.position.group, this.position.epochRank, this.batches, this.options.layout);
    if (next && next.pass > 0 && this.held?.position === next.position) {
      const { rows } = this.held;
      tensors.push({ name: `held:${this.rank}:rows`, shape: [rows.nodes.length, this.link.shape.width], data: rows.rows.slice() });
      times[`held:${this.rank}`] = { nodes: Array.from(rows.nodes), memoryTime: Array.from(rows.memoryTime), mailTime: Array.from(rows.mailTime) };
    }
    return { rank: this.rank, epoch: this.epoch, passes: this.passes, tensors, times, optimizer: this.optimizer.describe() };
  }

  /** Back to a checkpoint's state (the constructor has loaded the weights). */
  private restore(resume: CheckpointData, mode: 'exact' | 'weights'): void {
    this.optimizer.loadState(resume, this.model.namedParameters());
    this.epoch = resume.epoch;
    const saved = resume.extra?.passes;
    this.passes = typeof saved === 'number' && Number.isInteger(saved) && saved >= 0 ? saved : this.epoch * this.options.layout.epoch * this.options.layout.memory;
    if (mode === 'weights') return;
    const times = (resume.extra?.disttglTimes ?? {}) as TrainerState['times'];
    const tensor = (name: string) => resume.tensors.find((t) => t.name === name)?.data;
    if (this.table) {
      const g = this.position.group;
      const memory = tensor(`memory:${g}:memory`);
      const mail = tensor(`memory:${g}:mail`);
      const t = times[`memory:${g}`];
      if (!memory || !mail || !t?.memoryTime || !t.mailTime) throw new Error(`cannot resume: the checkpoint has no node memory of memory group ${g}`);
      this.table.rows.memory.set(memory);
      this.table.rows.mail.set(mail);
      this.table.rows.memoryTime.set(t.memoryTime);
      this.table.rows.mailTime.set(t.mailTime);
    }
    const next = taskAt(this.epoch * this.batches, this.position.group, this.position.epochRank, this.batches, this.options.layout);
    if (next && next.pass > 0) {
      const rows = tensor(`held:${this.rank}:rows`);
      const t = times[`held:${this.rank}`];
      if (!rows || !t?.nodes || !t.memoryTime || !t.mailTime) throw new Error(`cannot resume: the checkpoint lacks the rows trainer ${this.rank} read for batch ${next.batch}, whose passes continue`);
      const range = partRange(next.batch, this.position.part, this.options.batchSize, this.options.layout, this.split.train.length);
      this.readSamples(next, this.split.train.subarray(range.from, range.to), {
        nodes: Uint32Array.from(t.nodes),
        rows: rows.slice(),
        memoryTime: Float64Array.from(t.memoryTime),
        mailTime: Float64Array.from(t.mailTime),
      });
    }
  }

  get rank(): number {
    return this.transport.rank;
  }

  /** Logical batches in one pass over the training stream (T). */
  get batchesPerPass(): number {
    return this.batches;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** The memory owner's operations so far (instrumented owners only). */
  get ownerLog(): OwnerOperation[] | null {
    return this.table?.log ?? null;
  }

  async trainEpoch(): Promise<DistTglEpochResult> {
    const started = performance.now();
    const sentBefore = sum(this.transport.stats.bytesSent);
    const receivedBefore = sum(this.transport.stats.bytesReceived);
    const memoryBefore = this.link.bytesSent;
    let lossSum = 0;
    let passes = 0;
    let ownEvents = 0;
    try {
      const T = this.batches;
      for (let t = this.epoch * T; t < (this.epoch + 1) * T; t++) {
        const scores = await this.iteration(t);
        if (scores) {
          const s = await scores.scores;
          lossSum += s.loss;
          passes++;
          ownEvents += scores.events;
        }
      }
      const trainMs = performance.now() - started;
      const totals = await allReduceSum(this.transport, Float32Array.from([lossSum, passes, ownEvents]), TAG_METRICS);
      this.epoch++;
      this.passes += this.options.layout.epoch * this.options.layout.memory;
      let evaluation = this.rank === 0 ? await this.evaluate() : null;
      if (this.options.shareEvaluation) evaluation = await this.shareEvaluation(evaluation);
      return {
        rank: this.rank,
        loss: totals[0] / Math.max(1, totals[1]),
        events: totals[2],
        ownEvents,
        passes: this.passes,
        trainMs,
        epochMs: performance.now() - started,
        bytesSent: sum(this.transport.stats.bytesSent) - sentBefore,
        bytesReceived: sum(this.transport.stats.bytesReceived) - receivedBefore,
        memoryBytesSent: this.link.bytesSent - memoryBefore,
        peakGpuBytes: this.gpu.pool.peakAllocatedBytes,
        gpuBytes: this.gpu.pool.allocatedBytes,
        evaluation,
      };
    } catch (error) {
      // Peers waiting for this trainer's gradients or rows stop too.
      this.transport.abort(`trainer ${this.rank} stopped: ${(error as Error).message}`);
      throw error;
    }
  }

  /** One global iteration (see the file's comment); resolves with this trainer's scores when it had a task. */
  private async iteration(t: number): Promise<{ scores: Promise<BatchScores>; events: number } | null> {
    const { layout, batchSize } = this.options;
    const { group, epochRank, part } = this.position;
    const train = this.split.train;
    const task = taskAt(t, group, epochRank, this.batches, layout);
    const range = task ? partRange(task.batch, part, batchSize, layout, train.length) : null;
    const active = task !== null && range !== null && range.to > range.from;
    if (this.table) await this.serveReads(t);
    if (!active) {
      await this.reduceAndStep(t);
      if (this.table) await this.landWrites(t);
      return null;
    }
    if (task.pass === 0) await this.readPosition(task, train.subarray(range.from, range.to));
    const held = this.held!;
    const batch = this.runner.upload(held.sampled[task.pass]);
    const recorded = await this.runner.record(batch, this.snapshot, { step: () => this.reduceAndStep(t), write: task.pass === 0 });
    if (task.pass === 0) {
      const rows = concatRows(await this.snapshot.takeWrites(), this.link.shape.width);
      const mine = held.writer ? filterRows(rows, this.link.shape.width, (v) => held.writer!.get(v) === part) : rows;
      if (this.table) this.ownWrite = mine;
      else await this.link.write(memoryOwner(group, layout), mine);
    }
    if (this.table) await this.landWrites(t);
    return { scores: recorded.scores, events: range.to - range.from };
  }

  /** The owner's own write of the current iteration, landed in part order with the others'. */
  private ownWrite: MemoryRows | null = null;

  /** Pass 0 of a position: every pass's sample, and the rows of all the nodes they touch, read once. */
  private async readPosition(task: TrainerTask, events: Int32Array): Promise<void> {
    const { layout } = this.options;
    const { group } = this.position;
    const sampled = this.samplePasses(task, events);
    const nodes = new Set<number>([0]); // node 0 pads every batch's rows
    for (const s of sampled) for (let p = 0; p < s.distinct; p++) nodes.add(s.nodes[p]);
    const wanted = Uint32Array.from(nodes);
    const owner = memoryOwner(group, layout);
    // Pass 0 of position p runs at iteration p: the position is the iteration the owner logs.
    const rows = this.table ? this.table.read(wanted, this.who(task, task.position)) : await this.link.read(owner, wanted);
    this.readSamples(task, events, rows, sampled);
  }

  /** Every pass's sample of a position (deterministic: the same on a resumed run). */
  private samplePasses(task: TrainerTask, events: Int32Array): SampledBatch[] {
    const { layout } = this.options;
    return Array.from({ length: layout.epoch }, (_, pass) => this.runner.sample(events, this.runner.trainGraph, negativeStep({ ...task, pass }, this.position.group, layout), true));
  }

  /** Holds a position's rows (read now, or saved in a checkpoint) for its passes. */
  private readSamples(task: TrainerTask, events: Int32Array, rows: MemoryRows, sampled = this.samplePasses(task, events)): void {
    const { layout, batchSize } = this.options;
    this.snapshot.hold(rows);
    let writer: Map<number, number> | null = null;
    if (layout.batch > 1) {
      const all = batchRange(task.batch, batchSize, layout, this.split.train.length);
      writer = lastOccurrenceParts(this.stream.src, this.stream.dst, this.split.train.subarray(all.from, all.to), batchSize);
    }
    this.held = { position: task.position, sampled, rows, writer };
  }

  /**
   * Owner: the task whose pass 0 runs at iteration t in this group (its epoch rank is t mod j), and the
   * trainers of its parts that hold events, in part order; null when no pass 0 runs at t.
   */
  private firstPassAt(t: number): { task: TrainerTask; ranks: number[] } | null {
    const { layout, batchSize } = this.options;
    const { group } = this.position;
    const epochRank = t % layout.epoch;
    const task = taskAt(t, group, epochRank, this.batches, layout);
    if (!task || task.pass !== 0) return null;
    const ranks: number[] = [];
    for (let part = 0; part < layout.batch; part++) {
      const { from, to } = partRange(task.batch, part, batchSize, layout, this.split.train.length);
      if (to > from) ranks.push(trainerRank({ group, epochRank, part }, layout));
    }
    return { task, ranks };
  }

  /** Owner: zero the memory at batch 0, then answer the reads of iteration t in part order. */
  private async serveReads(t: number): Promise<void> {
    const first = this.firstPassAt(t);
    if (!first) return;
    const { task, ranks } = first;
    if (task.reset) this.table!.reset(this.who(task, t, this.rank));
    for (const rank of ranks) {
      if (rank === this.rank) continue; // the owner reads its own part locally
      await this.link.serveRead(rank, (nodes) => this.table!.read(nodes, this.who(task, t, rank)));
    }
  }

  /** Owner: the writes of iteration t, landed in part order (the owner's own from `ownWrite`). */
  private async landWrites(t: number): Promise<void> {
    const first = this.firstPassAt(t);
    if (!first) return;
    for (const rank of first.ranks) {
      const rows = rank === this.rank ? this.ownWrite : await this.link.receiveWrite(rank);
      if (!rows) throw new Error(`trainer ${this.rank}: its own write of iteration ${t} is missing`);
      this.table!.write(rows, this.who(first.task, t, rank));
    }
    this.ownWrite = null;
  }

  private who(task: TrainerTask, iteration: number, trainer = this.rank): Omit<OwnerOperation, 'op'> {
    return { trainer, iteration, batch: task.batch, position: task.position, pass: task.pass };
  }

  /**
   * Sums every parameter's gradient over all trainers (one readback, one ring all-reduce, one upload),
   * divides by the trainers that had a task, and steps. Alone, it only steps (bit for bit the sequential engine).
   */
  private async reduceAndStep(t: number): Promise<void> {
    if (this.transport.size > 1) {
      const c = contributors(t, this.batches, this.options.batchSize, this.options.layout, this.split.train.length);
      await allReduceGradients(this.gpu, this.transport, this.model.parameters(), TAG_GRADIENTS, c);
    }
    this.optimizer.step();
    this.optimizer.zeroGrad();
  }

  /**
   * Trainer 0 (owner of group 0): validation and test from a copy of group 0's memory. The copy holds the
   * stream up to the batch before the group's start; the batches from there to the end of the training
   * stream are replayed first (none when the group starts at batch 0), so evaluation always continues
   * from memory of the whole training stream in order, as the sequential engine's does.
   */
  private async evaluate(): Promise<DistTglEpochResult['evaluation']> {
    const { layout, batchSize } = this.options;
    const memory = new HostNodeMemory(this.gpu, this.stream.numNodes, this.model.memoryDim, this.model.mailDim);
    memory.load(this.table!.copy());
    const start = groupStart(0, this.batches, layout.memory);
    const train = this.split.train;
    // Group 0 starts at batch 0 unless k does not divide T: then its memory holds batches 0 … start − 1.
    if (start > 0) {
      for (let at = start * batchSize * layout.batch; at < train.length; at += batchSize) {
        const batch = this.runner.prepare(train.subarray(at, at + batchSize), this.runner.trainGraph, EVAL_STEP, false);
        await memory.settle(0);
        await (await this.runner.record(batch, memory)).scores;
      }
    }
    const ranking = checkMetric(this.options.metric) === 'mrr';
    const val = await this.runner.evaluate(this.split.val, memory, undefined, ranking);
    const test = await this.runner.evaluate(this.split.test, memory, undefined, ranking);
    const inductive = pickScores(test, this.split.test, new Set(this.split.inductiveTest));
    memory.dispose();
    return {
      valAp: averagePrecision(val),
      valAuc: rocAuc(val),
      testAp: averagePrecision(test),
      testAuc: rocAuc(test),
      inductiveAp: averagePrecision(inductive),
      inductiveAuc: rocAuc(inductive),
      ...meanReciprocalRanks(val, test),
    };
  }

  /** Trainer 0's evaluation, on every trainer (a sum over trainers of which only trainer 0's is not zero). */
  private async shareEvaluation(own: DistTglEpochResult['evaluation']): Promise<NonNullable<DistTglEpochResult['evaluation']>> {
    const keys = ['valAp', 'valAuc', 'testAp', 'testAuc', 'inductiveAp', 'inductiveAuc', 'valMrr', 'testMrr'] as const;
    const values = Float32Array.from(keys, (k) => (own ? (own[k] ?? NaN) : 0));
    // NaN (no MRR asked) cannot travel through a sum: sent as 0 with a flag.
    const ranked = own?.valMrr !== undefined ? 1 : 0;
    const summed = await allReduceSum(this.transport, Float32Array.from([...values.map((v) => (Number.isNaN(v) ? 0 : v)), ranked]), TAG_EVALUATION);
    const out = Object.fromEntries(keys.map((k, i) => [k, summed[i]])) as Record<(typeof keys)[number], number>;
    const { valMrr, testMrr, ...ap } = out;
    return summed[keys.length] > 0 ? { ...ap, valMrr, testMrr } : ap;
  }

  dispose(): void {
    this.runner.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** One trainer's optimizer settings, the learning rate scaled by N (linear) unless told not to. */
function scaledHyper(options: DistTglOptions, trainers: number): OptimizerHyper {
  if (!(options.lr > 0 && Number.isFinite(options.lr))) throw new RangeError(`learning rate must be a positive number, got ${options.lr}`);
  const scaling = options.lrScaling ?? 'linear';
  if (scaling !== 'linear' && scaling !== 'none') throw new RangeError(`lr scaling must be 'linear' or 'none', got '${scaling}'`);
  const weightDecay = options.weightDecay ?? 0;
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new RangeError(`weight decay must be a non-negative number, got ${weightDecay}`);
  return { lr: scaling === 'linear' ? options.lr * trainers : options.lr, weightDecay };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
