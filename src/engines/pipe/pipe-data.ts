// What each pipeline stage holds of the dataset, in the chunks' numbering: every stage the graph's edges
// (its layers aggregate over the whole graph) and the chunking; the first stage the features; the last
// the labels and splits (the loss and the metrics are computed there).

import type { NodeDataset } from '../../graph/node-dataset.ts';
import { renumberEdges, type Chunking } from './chunking.ts';

export interface PipeData {
  chunking: Chunking;
  /** Edges in new ids. */
  edges: { src: Int32Array; dst: Int32Array };
  numFeatures: number;
  numClasses: number;
  /** First stage only: features, row i = new id i (N × numFeatures). */
  features: Float32Array | null;
  /** Last stage only: labels by new id, and the splits as new ids. */
  labels: Int32Array | null;
  splits: { train: Int32Array; val: Int32Array; test: Int32Array } | null;
}

export function pipeDataFor(dataset: NodeDataset, chunking: Chunking, stage: number, stages: number): PipeData {
  const { original, renumbered } = chunking;
  const n = dataset.numNodes;
  const F = dataset.numFeatures;
  let features: Float32Array | null = null;
  if (stage === 0) {
    features = new Float32Array(n * F);
    for (let i = 0; i < n; i++) features.set(dataset.features.subarray(original[i] * F, (original[i] + 1) * F), i * F);
  }
  const last = stage === stages - 1;
  const ids = (split: Int32Array) => Int32Array.from(split, (v) => renumbered[v]);
  return {
    chunking,
    edges: renumberEdges(dataset, chunking),
    numFeatures: F,
    numClasses: dataset.numClasses,
    features,
    labels: last ? Int32Array.from(original, (v) => dataset.labels[v]) : null,
    splits: last ? { train: ids(dataset.train), val: ids(dataset.val), test: ids(dataset.test) } : null,
  };
}
