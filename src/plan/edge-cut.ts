// How the graph falls over N workers: rows, local and remote non-zeros, and the halo rows each worker
// reads from the others. Measured when the graph is at hand (the SAR engine's own partitioner, seed and
// blocks, so the figures are the ones the run will have); otherwise modelled from the degree distribution.
//
// The model: a partition cuts a fraction c of the edges (published or assumed for a preset, given with
// --edge-cut, else random placement's 1 − 1/N, an upper bound); each cut edge of a node of degree d
// goes to one of the N − 1 other workers uniformly, so the node sits in a given other worker's halo with
// probability 1 − (1 − c/(N−1))^d, averaged over the degree sample.

import { partitionBlocks } from '../graph/partition-blocks.ts';
import { placeForSar, type PartitionMethod } from '../engines/sar/placement.ts';
import { degreeSample, type GraphWorkload } from './workload.ts';

export interface WorkerShape {
  rows: number;
  /** Non-zeros (no self loops) whose column this worker owns. */
  localNnz: number;
  /** Non-zeros whose column another worker owns. */
  remoteNnz: number;
  /** Rows read from other workers, summed over peers (each peer's halo counted once). */
  haloRows: number;
  /** The largest halo from one peer (SAR holds at most two at once). */
  maxPeerHaloRows: number;
  /** Rows of ours that other workers read, summed over peers. */
  sendRows: number;
  /** Peers this worker sends rows to (one message each per aggregation). */
  sendPeers: number;
  /** Our rows that read from some peer, summed over peers (a peer block's product touches only these). */
  peerActiveRows: number;
}

export interface PartitionShape {
  workers: WorkerShape[];
  edgeCutFraction: number;
  /** 'measured: …' or 'modelled: …', for the report. */
  source: string;
}

export function measuredPartition(w: GraphWorkload, workers: number, method: PartitionMethod, seed: number): PartitionShape {
  const dataset = w.dataset!;
  const { placement, edgeCut, edges, adjacency: csr } = placeForSar(dataset, workers, method, seed);
  const shapes: WorkerShape[] = [];
  for (let rank = 0; rank < workers; rank++) {
    const b = partitionBlocks(csr, placement, rank);
    let haloRows = 0;
    let maxPeerHaloRows = 0;
    let remoteNnz = 0;
    let peerActiveRows = 0;
    for (const p of b.peers) {
      if (!p) continue;
      for (let i = 0; i < p.block.numRows; i++) if (p.block.rowPtr[i + 1] > p.block.rowPtr[i]) peerActiveRows++;
      haloRows += p.halo.length;
      maxPeerHaloRows = Math.max(maxPeerHaloRows, p.halo.length);
      remoteNnz += p.block.rowPtr[p.block.numRows];
    }
    const sends = b.sendTo.filter((s) => s && s.length) as Int32Array[];
    shapes.push({
      rows: b.nodes.length,
      localNnz: b.local.rowPtr[b.local.numRows],
      remoteNnz,
      haloRows,
      maxPeerHaloRows,
      sendRows: sends.reduce((s, x) => s + x.length, 0),
      sendPeers: sends.length,
      peerActiveRows,
    });
  }
  return { workers: shapes, edgeCutFraction: edges ? edgeCut / edges : 0, source: `measured: ${method} partition of ${dataset.name} into ${workers} (seed ${seed})` };
}

/** The fraction of edges a partition into `workers` parts cuts, and where that figure comes from. */
export function cutFraction(w: GraphWorkload, workers: number, given?: number): { fraction: number; source: string } {
  if (workers === 1) return { fraction: 0, source: 'one worker' };
  if (given !== undefined) return { fraction: given, source: `edge cut ${given} given` };
  if (w.edgeCut) return { fraction: w.edgeCut.fraction(workers), source: w.edgeCut.source };
  return { fraction: 1 - 1 / workers, source: 'random placement (1 − 1/N, an upper bound: no partition of this graph at hand)' };
}

export function modelledPartition(w: GraphWorkload, workers: number, givenCut?: number): PartitionShape {
  const { fraction: c, source } = cutFraction(w, workers, givenCut);
  const rows = w.nodes / workers;
  const nnzPerWorker = w.nnz / workers;
  let haloRows = 0;
  if (workers > 1) {
    const degrees = degreeSample(w);
    const q = c / (workers - 1);
    let p = 0;
    for (const d of degrees) p += 1 - Math.pow(1 - q, d);
    p /= degrees.length;
    // Each of the other workers' rows is in our halo with probability p.
    haloRows = (w.nodes - rows) * p;
  }
  const shape: WorkerShape = {
    rows,
    localNnz: nnzPerWorker * (1 - c),
    remoteNnz: nnzPerWorker * c,
    haloRows,
    maxPeerHaloRows: workers > 1 ? haloRows / (workers - 1) : 0,
    sendRows: haloRows,
    sendPeers: workers > 1 && haloRows > 0 ? workers - 1 : 0,
    // By symmetry of equal parts: our rows reading from a peer are as many as that peer's rows we read.
    peerActiveRows: haloRows,
  };
  return { workers: Array.from({ length: workers }, () => shape), edgeCutFraction: c, source: `modelled: ${w.degrees.kind} degrees, edge cut ${c.toFixed(3)} (${source})` };
}
