// What one SAR worker needs of a dataset: its own nodes' features, labels and split members, plus the
// graph's structure. The structure stays whole (about 1 % of Cora's bytes: 84 KB of edges beside 15.5 MB
// of features) because normalisation uses global degrees and per-edge random keys use global entry ids,
// which is what makes N workers give the same result as one. A room's leader builds one of these per
// member and sends it (room-partition.ts); in-process workers build their own from the dataset.

import type { NodeDataset } from '../../graph/node-dataset.ts';
import { ownedNodes, type NodePlacement } from '../../graph/partition-blocks.ts';

export interface WorkerPartition {
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  /** Undirected edges of the whole graph, as in the dataset. */
  edgeSrc: Int32Array<ArrayBuffer>;
  edgeDst: Int32Array<ArrayBuffer>;
  /** Global ids of this worker's nodes, ascending (local id = position). */
  nodes: Int32Array<ArrayBuffer>;
  /** nodes.length × numFeatures, row-major, in local order. */
  features: Float32Array<ArrayBuffer>;
  /** Class of each local node, −1 = unlabelled. */
  labels: Int32Array<ArrayBuffer>;
  /** Local ids of this worker's members of each split, ascending. */
  train: Int32Array<ArrayBuffer>;
  val: Int32Array<ArrayBuffer>;
  test: Int32Array<ArrayBuffer>;
  /** Global split sizes: the denominators of losses and accuracies. */
  sizes: { train: number; val: number; test: number };
}

export function isWorkerPartition(data: NodeDataset | WorkerPartition): data is WorkerPartition {
  return 'nodes' in data;
}

/** Worker `rank`'s share of `dataset` under `placement`. */
export function partitionFor(dataset: NodeDataset, placement: NodePlacement, rank: number): WorkerPartition {
  const nodes = ownedNodes(placement, rank) as Int32Array<ArrayBuffer>;
  const F = dataset.numFeatures;
  const features = new Float32Array(nodes.length * F);
  nodes.forEach((v, i) => features.set(dataset.features.subarray(v * F, (v + 1) * F), i * F));
  const local = (split: Int32Array) =>
    Int32Array.from([...split].filter((v) => placement.owner[v] === rank).map((v) => placement.localId[v]).sort((a, b) => a - b));
  return {
    numNodes: dataset.numNodes,
    numFeatures: F,
    numClasses: dataset.numClasses,
    edgeSrc: dataset.edgeSrc,
    edgeDst: dataset.edgeDst,
    nodes,
    features,
    labels: Int32Array.from(nodes, (v) => dataset.labels[v]),
    train: local(dataset.train),
    val: local(dataset.val),
    test: local(dataset.test),
    sizes: { train: dataset.train.length, val: dataset.val.length, test: dataset.test.length },
  };
}
