// The graph as layers see it: the adjacency in each normalisation a layer asks for, built on the
// CPU and uploaded once (with its transpose for the backward), then reused every epoch.

import type { Gpu } from '../gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency, type Csr } from '../graph/csr.ts';
import { GraphCsr } from '../tensor/graph-csr.ts';
import { SparseMatrix } from '../tensor/sparse-matrix.ts';

/**
 * 'gcn': D^-1/2 (A + I) D^-1/2 (GCNConv); 'mean': mean over in-neighbours without self loops
 * (SAGEConv); 'sum': plain sum over in-neighbours (GIN-style).
 */
export type Aggregation = 'gcn' | 'mean' | 'sum';

export class GraphInput {
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
