// GNNPipe training with every stage in this process (each on its own adapter and device), linked by any
// transport. Each epoch runs all stages concurrently (the pipeline fills and drains inside it); the last
// stage reports the loss and the exact evaluation, every stage its memory, traffic and history ages.

import type { DeviceReport } from '../../gpu/gpu.ts';
import type { CheckpointData, CheckpointTensor } from '../../nn/checkpoint.ts';
import type { Module } from '../../nn/module.ts';
import type { Engine, EpochMetrics } from '../engine.ts';
import { settleWorkers } from '../sar/sar-engine.ts';
import type { NodeTrainingOptions } from '../training-state.ts';
import { emptyAges, mergeAges } from './history.ts';
import { hybridPosition, type PipeOptions } from './pipe-options.ts';
import type { PipeStage, StageEpochResult } from './pipe-stage.ts';

/** What one stage's epoch is driven by, wherever the stage runs (this process, a thread). */
export interface StageHandle {
  readonly rank: number;
  trainEpoch(evaluate: boolean): Promise<StageEpochResult>;
}

/** The split sizes and evaluation cadence the engine turns stage results into metrics with. */
export interface PipeMetricsContext {
  sizes: { train: number; val: number; test: number };
  evalEvery: number;
}

export class PipeMetrics {
  private lastEvaluation: Pick<EpochMetrics, 'valLoss' | 'trainAcc' | 'valAcc' | 'testAcc'> = { valLoss: NaN, trainAcc: NaN, valAcc: NaN, testAcc: NaN };

  constructor(private readonly context: PipeMetricsContext) {}

  /** Whether epoch `e` (0-based) of a run to `epochs` ends with an exact evaluation. */
  evaluates(e: number, epochs: number): boolean {
    return (e + 1) % this.context.evalEvery === 0 || e + 1 === epochs;
  }

  combine(epoch: number, results: StageEpochResult[]): EpochMetrics {
    const n = (count: number) => Math.max(1, count);
    const { sizes } = this.context;
    // The last stage of every way reports the loss over its own chunks (their sum is the mean over all
    // training nodes); the last stage of way 0 alone evaluates.
    const losses = results.flatMap((r) => (r.loss === null ? [] : [r.loss]));
    const evaluated = results.find((r) => r.evaluation !== null);
    if (evaluated) {
      const ev = evaluated.evaluation!;
      this.lastEvaluation = { valLoss: ev.valLoss, trainAcc: ev.trainCorrect / n(sizes.train), valAcc: ev.valCorrect / n(sizes.val), testAcc: ev.testCorrect / n(sizes.test) };
    }
    const ages = results.reduce((a, r) => mergeAges(a, r.embeddingAges), emptyAges());
    const gradAges = results.reduce((a, r) => mergeAges(a, r.gradientAges), emptyAges());
    return {
      epoch,
      loss: losses.length ? losses.reduce((a, b) => a + b, 0) : NaN,
      ...this.lastEvaluation,
      epochMs: Math.max(...results.map((r) => r.epochMs)),
      peakGpuBytes: results.map((r) => r.peakGpuBytes),
      gpuBytes: results.map((r) => r.gpuBytes),
      bytesSent: results.map((r) => r.bytesSent),
      evaluated: evaluated !== undefined,
      staleness: {
        maxAge: ages.maxAge,
        meanAge: ages.rows ? ages.sumAge / ages.rows : 0,
        gradientMaxAge: gradAges.maxAge,
        gradientMeanAge: gradAges.rows ? gradAges.sumAge / gradAges.rows : 0,
      },
    };
  }
}

export class PipeEngine implements Engine {
  readonly mode = 'pipe' as const;
  readonly workers: number;
  private readonly metrics: PipeMetrics;
  /** Every epoch's stage results, in order (tests and the bench read traffic and ages from them). */
  readonly history: StageEpochResult[][] = [];

  constructor(
    private readonly stages: PipeStage[],
    private readonly model: Module,
    private readonly training: NodeTrainingOptions,
    readonly options: PipeOptions,
    /** Recorded in checkpoints and summaries (stages, chunks, plan, tricks). */
    readonly describe: Record<string, unknown>,
    sizes: { train: number; val: number; test: number },
    private readonly release: () => Promise<void> | void = () => {},
  ) {
    if (!stages.length) throw new RangeError('PipeEngine: needs at least one stage');
    const S = stages.length / options.graphParallel;
    stages.forEach((s, i) => {
      const at = hybridPosition(i, S);
      if (s.rank !== at.stage || s.way !== at.way) throw new RangeError(`PipeEngine: worker ${i} is stage ${s.rank} of way ${s.way}, expected stage ${at.stage} of way ${at.way}`);
    });
    this.workers = stages.length;
    this.metrics = new PipeMetrics({ sizes, evalEvery: options.evalEvery });
  }

  get devices(): DeviceReport[] {
    return this.stages.map((s) => s.gpu.report);
  }

  get currentEpoch(): number {
    return this.stages[0].currentEpoch;
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.currentEpoch < epochs) {
      const evaluate = this.metrics.evaluates(this.currentEpoch, epochs);
      const results = await settleWorkers(this.stages.map((s) => s.trainEpoch(evaluate)));
      this.history.push(results);
      yield this.metrics.combine(this.currentEpoch, results);
    }
  }

  /** One checkpoint of the whole model (the same format as one device's: any mode can resume from it). */
  async snapshot(): Promise<CheckpointData> {
    // Replicas of a stage hold the same weights and optimizer state: way 0's stages hold the model once.
    const tensors = (await Promise.all(this.stages.filter((s) => s.way === 0).map((s) => s.stateTensors()))).flat();
    return pipeCheckpoint(this.model, this.training, this.describe, this.currentEpoch, this.stages[0].optimizerState(), tensors);
  }

  dispose(): void {
    for (const s of this.stages) s.dispose();
    void Promise.all(this.stages.map((s) => s.transport.close())).then(this.release, this.release);
  }
}

/** The one-device checkpoint of a pipeline run at `epoch`, from every stage's tensors (wherever the stages run). */
export function pipeCheckpoint(
  model: Module,
  training: NodeTrainingOptions,
  describe: Record<string, unknown>,
  epoch: number,
  optimizer: CheckpointData['optimizer'],
  tensors: CheckpointTensor[],
): CheckpointData {
  return { config: { model: model.describe(), training: { ...training }, pipe: describe }, epoch, rng: { seed: training.seed, step: epoch }, optimizer, tensors };
}
