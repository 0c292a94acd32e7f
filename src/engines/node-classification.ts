// The training loop every front end shares (CLI, browser worker, tests): epochs from an engine,
// early stopping, periodic checkpoints, and the summary a run reports.

import type { Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { NodeClassifier, type NodeModelConfig, type NodeModelKind } from '../nn/models/node-classifier.ts';
import { EarlyStopping } from './early-stopping.ts';
import type { Engine, EpochMetrics } from './engine.ts';
import { SingleEngine, type NodeTrainingOptions } from './single.ts';

export interface NodeRunOptions {
  model: NodeModelKind;
  hidden: number;
  /** GAT: attention heads of the hidden layer. */
  heads?: number;
  /** Graph convolutions (default 2). */
  layers?: number;
  dropout: number;
  epochs: number;
  /** Epochs without a better validation accuracy before stopping; 0 = never stop early. */
  patience: number;
  training: NodeTrainingOptions;
  /** Save a checkpoint every N epochs (0 = only at the end). */
  checkpointEvery?: number;
  onCheckpoint?: (data: CheckpointData) => Promise<void>;
}

export interface NodeRunSummary {
  epochsRun: number;
  best: EpochMetrics | null;
  last: EpochMetrics | null;
  stoppedEarly: boolean;
  epochMs: number[];
}

export function modelConfigFor(dataset: NodeDataset, options: Pick<NodeRunOptions, 'model' | 'hidden' | 'dropout' | 'heads' | 'layers'>): NodeModelConfig {
  return {
    kind: options.model,
    inChannels: dataset.numFeatures,
    hiddenChannels: options.hidden,
    outChannels: dataset.numClasses,
    dropout: options.dropout,
    ...(options.model === 'gat' ? { heads: options.heads ?? 8 } : {}),
    ...(options.layers && options.layers !== 2 ? { layers: options.layers } : {}),
  };
}

/** The model a run trains: the checkpoint's when resuming (checked against the dataset), else from the options. */
export function resolveModelConfig(dataset: NodeDataset, options: NodeRunOptions, resume?: CheckpointData): NodeModelConfig {
  const config = resume ? (resume.config.model as NodeModelConfig) : modelConfigFor(dataset, options);
  if (resume) checkResumable(config, dataset, options);
  return config;
}

/** Builds the single-device engine, continuing from `resume` when given. */
export function createNodeEngine(gpu: Gpu, dataset: NodeDataset, options: NodeRunOptions, resume?: CheckpointData): SingleEngine {
  return new SingleEngine(gpu, new NodeClassifier(resolveModelConfig(dataset, options, resume)), dataset, options.training, resume);
}

function checkResumable(config: NodeModelConfig, dataset: NodeDataset, options: NodeRunOptions): void {
  const problems: string[] = [];
  if (config.kind !== options.model) problems.push(`model is '${config.kind}', not '${options.model}'`);
  if (config.inChannels !== dataset.numFeatures) problems.push(`it expects ${config.inChannels} features, the dataset has ${dataset.numFeatures}`);
  if (config.outChannels !== dataset.numClasses) problems.push(`it predicts ${config.outChannels} classes, the dataset has ${dataset.numClasses}`);
  if (problems.length) throw new Error(`cannot resume from this checkpoint: ${problems.join('; ')}`);
}

/** Runs to `epochs` (or early stop), yielding each epoch's metrics; returns the summary. */
export async function* trainNodeClassification(
  engine: Engine,
  options: NodeRunOptions,
  resume?: CheckpointData,
): AsyncGenerator<EpochMetrics, NodeRunSummary> {
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
    if (!Number.isFinite(m.loss) || !Number.isFinite(m.valLoss)) {
      // Stop before any checkpoint is written, so the last good one stays on disk.
      throw new Error(`training diverged at epoch ${m.epoch}: loss ${m.loss}, validation loss ${m.valLoss} (try a lower --lr)`);
    }
    summary.epochsRun++;
    summary.last = m;
    summary.epochMs.push(m.epochMs);
    const stop = stopping.update(m);
    yield m;
    if (options.checkpointEvery && m.epoch % options.checkpointEvery === 0) await checkpoint();
    if (stop) {
      summary.stoppedEarly = true;
      break;
    }
  }
  summary.best = stopping.best;
  await checkpoint();
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

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
