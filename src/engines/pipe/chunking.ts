// GNNPipe's chunks: the partitioner cuts the graph into C parts, and nodes are renumbered so that each
// part is one contiguous id range (chunk k = new ids [starts[k], starts[k + 1])). Contiguous ranges make
// a chunk's rows of every whole-graph tensor (features, historical embeddings) one slice: no gathers.
// Within a chunk nodes keep their ascending original order, so one chunk is the identity renumbering.

import type { NodeDataset } from '../../graph/node-dataset.ts';
import { partitionEdgeList } from '../../graph/partition.ts';

export interface Chunking {
  numChunks: number;
  /** C + 1 offsets: chunk k holds new ids [starts[k], starts[k + 1]). */
  starts: Int32Array;
  /** New id → original node id. */
  original: Int32Array;
  /** Original node id → new id. */
  renumbered: Int32Array;
}

/** C chunks of `dataset` by the multilevel partitioner (deterministic for a seed). */
export function chunkGraph(dataset: NodeDataset, chunks: number, seed: number): Chunking {
  const n = dataset.numNodes;
  if (!Number.isInteger(chunks) || chunks < 1) throw new RangeError(`--chunks must be a positive integer, got ${chunks}`);
  if (chunks > n) throw new RangeError(`--chunks ${chunks} is more than the graph's ${n} nodes: every chunk needs at least one node`);
  const assignment = chunks === 1 ? new Int32Array(n) : partitionEdgeList(n, dataset.edgeSrc, dataset.edgeDst, { parts: chunks, seed }).assignment;
  return chunkingFromAssignment(assignment, chunks);
}

/** The renumbering that makes part k of `assignment` the k-th contiguous id range. */
export function chunkingFromAssignment(assignment: Int32Array, chunks: number): Chunking {
  const n = assignment.length;
  const starts = new Int32Array(chunks + 1);
  for (let v = 0; v < n; v++) starts[assignment[v] + 1]++;
  for (let k = 0; k < chunks; k++) {
    if (starts[k + 1] === 0) throw new RangeError(`chunk ${k} has no nodes (${chunks} chunks of ${n} nodes)`);
    starts[k + 1] += starts[k];
  }
  const fill = starts.slice(0, chunks);
  const original = new Int32Array(n);
  const renumbered = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    const id = fill[assignment[v]]++;
    original[id] = v;
    renumbered[v] = id;
  }
  return { numChunks: chunks, starts, original, renumbered };
}

/** The chunk that holds new id `v`. */
export function chunkOf(chunking: Chunking, v: number): number {
  let lo = 0;
  let hi = chunking.numChunks - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunking.starts[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The dataset's edges in new ids. */
export function renumberEdges(dataset: NodeDataset, chunking: Chunking): { src: Int32Array; dst: Int32Array } {
  const src = new Int32Array(dataset.edgeSrc.length);
  const dst = new Int32Array(dataset.edgeDst.length);
  for (let e = 0; e < src.length; e++) {
    src[e] = chunking.renumbered[dataset.edgeSrc[e]];
    dst[e] = chunking.renumbered[dataset.edgeDst[e]];
  }
  return { src, dst };
}
