// The built-in node classifiers as a run names them (`--model gcn --hidden 16 …`): the config for a
// dataset, or the one a checkpoint was saved with (checked against the dataset and the run).

import type { NodeDataset } from '../../graph/node-dataset.ts';
import type { CheckpointData } from '../checkpoint.ts';
import { GCNII_DEFAULTS } from './gcnii.ts';
import { DEFAULT_LAYERS, NodeClassifier, type NodeModelConfig, type NodeModelKind } from './node-classifier.ts';

export interface BuiltinModelOptions {
  model: NodeModelKind;
  hidden: number;
  /** GAT: attention heads of the hidden layer. */
  heads?: number;
  /** Graph convolutions (default 2; GCNII 16, ResGCN+ 8). */
  layers?: number;
  /** GCN, GraphSAGE: each hidden→hidden convolution adds its input back (layers ≥ 3). */
  residual?: boolean;
  /** GCNII: weight decay of the convolutions (0.01); its linear layers take the run's weight decay. */
  convWeightDecay?: number;
  dropout: number;
}

export function modelConfigFor(dataset: NodeDataset, options: BuiltinModelOptions): NodeModelConfig {
  const kind = options.model;
  // The deep models record their depth and settings always (their defaults are not the classic 2 layers).
  const deep = kind === 'gcnii' || kind === 'resgcn';
  const layers = options.layers ?? DEFAULT_LAYERS[kind];
  return {
    kind,
    inChannels: dataset.numFeatures,
    hiddenChannels: options.hidden,
    outChannels: dataset.numClasses,
    dropout: options.dropout,
    ...(kind === 'gat' ? { heads: options.heads ?? 8 } : {}),
    ...(deep || layers !== 2 ? { layers } : {}),
    ...(options.residual ? { residual: true } : {}),
    ...(kind === 'gcnii'
      ? { alpha: GCNII_DEFAULTS.alpha, lambda: GCNII_DEFAULTS.lambda, convWeightDecay: options.convWeightDecay ?? GCNII_DEFAULTS.convWeightDecay }
      : {}),
  };
}

/** The model a run trains: the checkpoint's when resuming (checked against the dataset), else from the options. */
export function resolveModelConfig(dataset: NodeDataset, options: BuiltinModelOptions, resume?: CheckpointData): NodeModelConfig {
  const config = resume ? (resume.config.model as NodeModelConfig) : modelConfigFor(dataset, options);
  if (resume) checkResumable(config, dataset, options);
  return config;
}

/** A fresh built-in model for `dataset` (or for continuing `resume`). */
export function builtinModel(dataset: NodeDataset, options: BuiltinModelOptions, resume?: CheckpointData): NodeClassifier {
  return new NodeClassifier(resolveModelConfig(dataset, options, resume));
}

function checkResumable(config: NodeModelConfig, dataset: NodeDataset, options: BuiltinModelOptions): void {
  const problems: string[] = [];
  if (config.kind !== options.model) problems.push(`model is '${config.kind}', not '${options.model}'`);
  if (config.inChannels !== dataset.numFeatures) problems.push(`it expects ${config.inChannels} features, the dataset has ${dataset.numFeatures}`);
  if (config.outChannels !== dataset.numClasses) problems.push(`it predicts ${config.outChannels} classes, the dataset has ${dataset.numClasses}`);
  if (problems.length) throw new Error(`cannot resume from this checkpoint: ${problems.join('; ')}`);
}

/** A built-in model for a dataset known only by its shape (a room member holds only its partition). */
export function builtinModelForShape(shape: { numFeatures: number; numClasses: number }, options: BuiltinModelOptions): NodeClassifier {
  return new NodeClassifier(modelConfigFor(shape as NodeDataset, options));
}
