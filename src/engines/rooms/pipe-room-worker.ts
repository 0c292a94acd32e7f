// A room member's part of a pipe room in one generation: one pipeline stage (its blocks of the model), plus
// what makes the room's bookkeeping work when each member holds only some of the model:
// - metrics: every stage's epoch result is gathered to every member, which combines them the same way
//   (PipeMetrics), so all members report and commit the same figures;
// - the commit: every stage's parameters and optimizer state are gathered to every member, so each holds
//   the whole model and the room can re-assign the stages over whoever remains after a loss.

import { allGather } from '../../dist/collectives.ts';
import { PeerError, type Transport } from '../../dist/transport.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData, type CheckpointTensor } from '../../nn/checkpoint.ts';
import type { GraphModule } from '../../nn/graph-module.ts';
import type { EpochMetrics } from '../engine.ts';
import type { NodeTrainingOptions } from '../training-state.ts';
import { chunkGraph } from '../pipe/chunking.ts';
import type { AgeStats } from '../pipe/history.ts';
import { pipeDataFor } from '../pipe/pipe-data.ts';
import { PipeMetrics, pipeCheckpoint } from '../pipe/pipe-engine.ts';
import { describePipe } from '../pipe/pipe-run.ts';
import type { PipeOptions } from '../pipe/pipe-options.ts';
import { PipeStage, type StageEpochResult } from '../pipe/pipe-stage.ts';
import type { StagePlan } from '../pipe/stage-plan.ts';

/** Collective tag ids (SAR's workers use 1 and 2; a generation runs one kind of worker). */
const TAG_RESULTS = 3;
const TAG_STATE = 4;
/** Values per stage result, each a float64 (two u32 words): exact for byte counts too. */
const RESULT_VALUES = 19;

export class PipeRoomWorker {
  readonly stage: PipeStage;
  private readonly metrics: PipeMetrics;

  constructor(
    gpu: Gpu,
    readonly transport: Transport,
    /** A replica of the room's model; this member materialises only its stage's blocks. */
    readonly model: GraphModule,
    dataset: NodeDataset,
    readonly plan: StagePlan,
    readonly pipe: PipeOptions,
    readonly training: NodeTrainingOptions,
    private readonly epochs: number,
    resume?: CheckpointData,
  ) {
    const chunking = chunkGraph(dataset, pipe.chunks, training.seed);
    this.stage = new PipeStage(gpu, transport, model, pipeDataFor(dataset, chunking, transport.rank, transport.size), plan, pipe, training, resume);
    this.metrics = new PipeMetrics({ sizes: { train: dataset.train.length, val: dataset.val.length, test: dataset.test.length }, evalEvery: pipe.evalEvery });
  }

  get currentEpoch(): number {
    return this.stage.currentEpoch;
  }

  /** One epoch of this stage; resolves to the room's metrics (the same on every member) and this stage's own result. */
  async trainEpoch(): Promise<{ metrics: EpochMetrics; own: StageEpochResult }> {
    const own = await this.stage.trainEpoch(this.metrics.evaluates(this.currentEpoch, this.epochs));
    const all = await allGather(this.transport, encodeResult(own), TAG_RESULTS);
    const results = all.map((words, rank) => decodeResult(words, rank));
    return { metrics: this.metrics.combine(this.currentEpoch, results), own };
  }

  /** The whole model's checkpoint, the same on every member: each stage's share, gathered. */
  async snapshot(extraConfig: Record<string, unknown>): Promise<CheckpointData> {
    const epoch = this.currentEpoch;
    const share: CheckpointData = { config: {}, epoch, rng: { seed: this.training.seed, step: epoch }, optimizer: this.stage.optimizerState(), tensors: await this.stage.stateTensors() };
    const shares = await allGather(this.transport, encodeCheckpoint(share), TAG_STATE);
    const tensors: CheckpointTensor[] = [];
    shares.forEach((bytes, rank) => {
      let data: CheckpointData;
      try {
        data = decodeCheckpoint(bytes, `stage ${rank}'s share of the commit`);
      } catch (e) {
        throw new PeerError(rank, this.transport.rank, (e as Error).message);
      }
      if (data.epoch !== epoch) throw new PeerError(rank, this.transport.rank, `its share of the commit is of epoch ${data.epoch}, this stage's ${epoch}`);
      tensors.push(...data.tensors);
    });
    // Every parameter once: a stage that sent another's (or none of its own) is refused.
    const names = new Set<string>();
    for (const t of tensors) {
      if (names.has(t.name)) throw new PeerError(this.transport.rank, this.transport.rank, `the commit holds '${t.name}' twice`);
      names.add(t.name);
    }
    const missing = this.model.parameterShapes().filter(([name]) => !names.has(`param:${name}`));
    if (missing.length) throw new PeerError(this.transport.rank, this.transport.rank, `the gathered commit lacks ${missing.map(([n]) => n).join(', ')}`);
    // The same one-device format as an in-process pipeline's checkpoint, with the room's fields.
    const data = pipeCheckpoint(this.model, this.training, describePipe(this.plan.stages.length, this.pipe, this.plan, this.model), epoch, this.stage.optimizerState(), tensors);
    data.config = { ...data.config, ...extraConfig };
    return data;
  }

  dispose(): void {
    this.stage.dispose();
  }
}

function encodeResult(r: StageEpochResult): Uint32Array {
  const ev = r.evaluation;
  const ages = (a: AgeStats) => [a.maxAge, a.sumAge, a.rows];
  const values = Float64Array.from([
    r.stage,
    r.loss ?? NaN,
    ev ? 1 : 0,
    ev?.valLoss ?? 0,
    ev?.trainCorrect ?? 0,
    ev?.valCorrect ?? 0,
    ev?.testCorrect ?? 0,
    ...ages(r.embeddingAges),
    ...ages(r.gradientAges),
    r.epochMs,
    r.peakGpuBytes,
    r.gpuBytes,
    r.historyBytes,
    r.bytesSent,
    r.bytesReceived,
  ]);
  return new Uint32Array(values.buffer);
}

function decodeResult(words: Uint32Array, rank: number): StageEpochResult {
  if (words.length !== 2 * RESULT_VALUES) throw new PeerError(rank, rank, `its epoch result has ${words.length} words, expected ${2 * RESULT_VALUES}`);
  const v = new Float64Array(words.slice().buffer);
  if (v[0] !== rank) throw new PeerError(rank, rank, `its epoch result names stage ${v[0]}`);
  for (let i = 2; i < RESULT_VALUES; i++) {
    if (!Number.isFinite(v[i]) || v[i] < 0) throw new PeerError(rank, rank, `its epoch result has value ${i} = ${v[i]} (a count, size or time must be finite and ≥ 0)`);
  }
  const ages = (at: number): AgeStats => ({ maxAge: v[at], sumAge: v[at + 1], rows: v[at + 2] });
  return {
    stage: rank,
    // A room runs one pipeline (room-training.ts): every stage is of way 0.
    way: 0,
    loss: Number.isNaN(v[1]) ? null : v[1],
    evaluation: v[2] === 1 ? { valLoss: v[3], trainCorrect: v[4], valCorrect: v[5], testCorrect: v[6] } : null,
    embeddingAges: ages(7),
    gradientAges: ages(10),
    epochMs: v[13],
    peakGpuBytes: v[14],
    gpuBytes: v[15],
    historyBytes: v[16],
    bytesSent: v[17],
    bytesReceived: v[18],
  };
}
