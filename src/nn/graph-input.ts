// The graph as layers see it: the adjacency in each normalisation a layer asks for, built on the
// CPU and uploaded once (with its transpose for the backward), then reused every epoch.

import type { Gpu } from '../gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency, type Csr } from '../graph/csr.ts';
import { GraphCsr } from '../tensor/graph-csr.ts';
import { gatAttention, type GatAttentionOptions } from '../tensor/ops/gat-attention.ts';
import { spmm } from '../tensor/ops/spmm.ts';
import { SparseMatrix } from '../tensor/sparse-matrix.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * 'gcn': D^-1/2 (A + I) D^-1/2 (GCNConv); 'mean': mean over in-neighbours without self loops
 * (SAGEConv); 'sum': plain sum over in-neighbours (GIN-style).
 */
export type Aggregation = 'gcn' | 'mean' | 'sum';

/**
 * What a layer aggregates over: the whole graph on one device (GraphInput), or one worker's partition
 * whose neighbours live on other workers (SAR). Layers only ever call these two operations, so the same
 * model runs in both; a partitioned graph answers with a promise because it waits for peers.
 */
export interface NodeGraph {
  /** Rows this device holds: every node, or the worker's own. */
  readonly numNodes: number;
  /** Global node id of every row this device holds (u32), or null when row i is node i. */
  readonly rowIds: Tensor | null;
  /** The keys of this forward pass's random numbers (dropout masks), set by the engine each step. */
  readonly random: RandomKey;
  /** Row i of the result combines the rows of x at i's in-neighbours, weighted as `kind` says. */
  aggregate(kind: Aggregation, x: Tensor): Tensor | Promise<Tensor>;
  /** Graph attention (GATConv) over in-neighbours with one self loop each. */
  attend(z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Tensor | Promise<Tensor>;
}

/** Masks are keyed by (seed, the layer's stream, step, global row, column): the same on one device or many. */
export interface RandomKey {
  seed: number;
  /** Training step (epoch or iteration): a new mask each step. */
  step: number;
}

export class GraphInput implements NodeGraph {
  readonly rowIds = null;
  random: RandomKey = { seed: 0, step: 0 };
  private readonly matrices = new Map<Aggregation, SparseMatrix>();
  private attentionGraph: GraphCsr | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly numNodes: number,
    private readonly src: Int32Array,
    private readonly dst: Int32Array,
    private readonly undirected = true,
  ) {}

  csr(aggregation: Aggregation): Csr {
    const structure = buildAdjacency(this.numNodes, this.src, this.dst, {
      undirected: this.undirected,
      selfLoops: aggregation === 'gcn' ? 'add' : 'remove',
    });
    return normalizedAdjacency(structure, aggregation);
  }

  adjacency(aggregation: Aggregation): SparseMatrix {
    let m = this.matrices.get(aggregation);
    if (!m) {
      m = SparseMatrix.fromCsr(this.gpu, this.csr(aggregation), `adjacency:${aggregation}`);
      this.matrices.set(aggregation, m);
    }
    return m;
  }

  aggregate(kind: Aggregation, x: Tensor): Tensor {
    return spmm(this.adjacency(kind), x);
  }

  attend(z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Tensor {
    return gatAttention(this.attention(), z, aSrc, aDst, options);
  }

  /** The structure attention layers (GAT) run on: in-neighbours with one self loop each, unweighted. */
  attention(): GraphCsr {
    if (!this.attentionGraph) {
      const structure = buildAdjacency(this.numNodes, this.src, this.dst, { undirected: this.undirected, selfLoops: 'add' });
      this.attentionGraph = GraphCsr.fromCsr(this.gpu, structure, 'attention');
    }
    return this.attentionGraph;
  }

  dispose(): void {
    for (const m of this.matrices.values()) m.dispose();
    this.matrices.clear();
    this.attentionGraph?.dispose();
    this.attentionGraph = null;
  }
}
