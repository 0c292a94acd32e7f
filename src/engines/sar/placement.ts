// Which SAR worker owns each node. Browser-safe (no Node imports), so the CLI, the worker threads and
// the demo's in-tab workers all place nodes with this one function.

import { buildAdjacency, type Csr } from '../../graph/csr.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import { placeNodes, type NodePlacement } from '../../graph/partition-blocks.ts';
import { edgeCut, partitionGraph, randomPartition } from '../../graph/partition.ts';

export type PartitionMethod = 'metis' | 'random';

export interface SarPlacement {
  placement: NodePlacement;
  /** Undirected edges between different workers' nodes. */
  edgeCut: number;
  edges: number;
  /** The undirected adjacency without self loops the partition was computed on. */
  adjacency: Csr;
}

/** Which worker owns each node: multilevel (METIS-style) or random, both seeded. */
export function placeForSar(dataset: NodeDataset, workers: number, method: PartitionMethod, seed: number): SarPlacement {
  const adjacency = buildAdjacency(dataset.numNodes, dataset.edgeSrc, dataset.edgeDst, { undirected: true, selfLoops: 'remove' });
  const partition = method === 'random' ? randomPartition(dataset.numNodes, workers, seed) : partitionGraph(adjacency, { parts: workers, seed });
  return { placement: placeNodes(partition.assignment, workers), edgeCut: edgeCut(adjacency, partition), edges: adjacency.rowPtr[adjacency.numRows] / 2, adjacency };
}
