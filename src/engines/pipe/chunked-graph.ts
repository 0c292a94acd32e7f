// The graph as a pipeline stage's layers see it: one chunk at a time (a NodeGraph whose rows are the
// chunk's nodes), aggregating exactly inside the chunk and over historical embeddings elsewhere
// (GNNPipe, research/gnnpipe.md §3). Aggregation is pull-based both ways:
//   forward   Y_c  = A_cc·X_c + A_c,rest·H_k          (H_k: aggregation k's historical inputs, N × F)
//   backward  dX_c = A_ccᵀ·dY_c + (Aᵀ)_c,rest·G_k      (G_k: its historical output gradients)
// after which the chunk writes X_c into H_k (forward passes only) and dY_c into G_k. The whole graph
// is also a chunk (WHOLE): exact passes (evaluation, warm-up epochs) read no history.
// In hybrid mode (replicas of the stage, WayExchange) the rows other replicas' concurrent chunks hold are
// swapped in before each read, so they are of this layer and epoch.
// Layers call `aggregate` only; they never know they run in a pipeline.

import type { Gpu } from '../../gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency } from '../../graph/csr.ts';
import type { Aggregation, NodeGraph, RandomKey } from '../../nn/graph-input.ts';
import { transposeCsr, type Csr } from '../../tensor/csr-structure.ts';
import { empty, fromArray } from '../../tensor/create.ts';
import type { GatAttentionOptions } from '../../tensor/ops/gat-attention.ts';
import { axpyInPlace } from '../../tensor/ops/elementwise.ts';
import { spmmInto } from '../../tensor/ops/spmm.ts';
import { keep } from '../../tensor/scope.ts';
import { SparseMatrix } from '../../tensor/sparse-matrix.ts';
import { record } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { chunkBlocks } from './chunk-blocks.ts';
import type { Chunking } from './chunking.ts';
import type { HistoryStore } from './history.ts';
import type { MirrorRows, WayExchange } from './way-exchange.ts';

/** Why attention layers do not run in a pipeline (the CLI refuses --model gat --mode pipe with it up front). */
export const PIPE_ATTENTION_REFUSAL =
  "--mode pipe does not run attention layers (GAT): a chunk's attention would need its neighbours' attention inputs and softmax terms from other chunks, which the historical buffers do not hold; train GAT with --mode single or --mode sar";

/** The whole graph as one chunk. */
export const WHOLE = -1;

/**
 * 'forward': a chunk's pipelined forward (reads history, writes its rows, counts ages); 'recompute': its
 * forward again before its backward (reads history, writes nothing); 'eval': an exact pass (WHOLE only).
 */
export type PassKind = 'forward' | 'recompute' | 'eval';

interface ChunkOperators {
  local: SparseMatrix;
  off: SparseMatrix | null;
  offT: SparseMatrix | null;
  rowsReadFrom: Int32Array;
  gradRowsReadFrom: Int32Array;
}

export class ChunkedGraph {
  private readonly operators = new Map<string, ChunkOperators>();
  private readonly rowIds = new Map<number, Tensor>();
  private readonly cpuMatrices = new Map<string, Csr>();
  /** Recompute mode: each chunk's historical part of each aggregation, from its forward until its recompute. */
  private readonly historicalParts = new Map<string, Tensor>();
  /** Set by the stage when chunks are recomputed before their backward. */
  keepForRecompute = false;

  constructor(
    readonly gpu: Gpu,
    readonly chunking: Chunking,
    /** Edges in new ids (chunking.renumbered). */
    private readonly edges: { src: Int32Array; dst: Int32Array },
    readonly history: HistoryStore,
    /** The other replicas of this stage (hybrid mode), or null. */
    private readonly exchange: WayExchange | null = null,
  ) {}

  get numNodes(): number {
    return this.chunking.starts[this.chunking.numChunks];
  }

  /** Rows of chunk `c` (or of the whole graph). */
  rows(c: number): number {
    return c === WHOLE ? this.numNodes : this.chunking.starts[c + 1] - this.chunking.starts[c];
  }

  /** The NodeGraph layers see for one pass of chunk `c`: its aggregations are numbered in call order. */
  view(c: number, pass: PassKind, random: RandomKey): NodeGraph {
    if (pass === 'eval' && c !== WHOLE) throw new Error('pipeline: exact passes run on the whole graph');
    let calls = 0;
    const graph = this;
    return {
      numNodes: this.rows(c),
      rowIds: this.originalIds(c),
      random,
      aggregate: (kind: Aggregation, x: Tensor) => graph.aggregate(kind, calls++, c, pass, x),
      attend: (_z: Tensor, _aSrc: Tensor, _aDst: Tensor, _options: GatAttentionOptions): Tensor => {
        throw new Error(PIPE_ATTENTION_REFUSAL);
      },
    };
  }

  /**
   * With replicas of this stage (hybrid mode), a chunk's forward first swaps mirror rows with the other
   * ways (their concurrent chunks' rows this chunk reads land in the history before it reads it), and its
   * backward swaps output-gradient rows likewise. A recompute reads what its forward read: no swap.
   */
  private aggregate(kind: Aggregation, call: number, c: number, pass: PassKind, x: Tensor): Tensor | Promise<Tensor> {
    const n = this.rows(c);
    if (x.rows !== n || x.shape.length !== 2) throw new RangeError(`aggregate(${kind}) on chunk ${c}: input ${x} must have ${n} rows`);
    const exchange = c === WHOLE ? null : this.exchange;
    if (!exchange || pass !== 'forward') return this.aggregateChunk(kind, call, c, pass, x, exchange);
    return exchange.swap('forward', `${kind}ᵀ`, this.matrix(kind, true), call, c, x).then((mirrors) => {
      this.history.embeddings(call, x.cols);
      for (const m of mirrors) {
        this.history.writeMirrorEmbeddings(call, m.chunk, m.rows, m.ids);
        m.rows.dispose();
      }
      return this.aggregateChunk(kind, call, c, pass, x, exchange);
    });
  }

  private aggregateChunk(kind: Aggregation, call: number, c: number, pass: PassKind, x: Tensor, exchange: WayExchange | null): Tensor {
    const n = this.rows(c);
    const ops = this.ops(kind, c);
    const F = x.cols;
    const out = empty(this.gpu, [n, F], 'f32', 'pipe_aggregate');
    spmmInto(ops.local, x, out);
    const { history } = this;
    if (c === WHOLE) {
      // An exact training pass (warm-up) leaves every row fresh for the first pipelined epoch.
      if (pass === 'forward') {
        history.embeddings(call, F);
        history.writeAllEmbeddings(call, x);
      }
    } else if (ops.off) {
      // The historical part is computed apart and, for a recompute, kept: the recomputed forward must
      // read the same historical rows as the forward did, though later chunks have overwritten them since.
      const key = `${call}:${c}`;
      let part: Tensor;
      if (pass === 'recompute') {
        const kept = this.historicalParts.get(key);
        if (!kept) throw new Error(`pipeline: chunk ${c} is recomputed without its forward's historical rows (aggregation ${call})`);
        this.historicalParts.delete(key);
        part = kept;
      } else {
        part = empty(this.gpu, [n, F], 'f32', 'pipe_historical_part');
        spmmInto(ops.off, history.embeddings(call, F), part);
        if (pass === 'forward') history.noteEmbeddingReads(call, ops.rowsReadFrom);
      }
      axpyInPlace(out, part);
      if (pass === 'forward' && this.keepForRecompute) {
        this.historicalParts.get(key)?.dispose();
        this.historicalParts.set(key, keep(part));
      } else {
        part.dispose();
      }
    }
    if (c !== WHOLE && pass === 'forward') {
      history.embeddings(call, F);
      history.writeEmbeddings(call, c, x);
    }
    return record('pipeAggregate', [x], out, (g) => {
      if (!exchange) return [this.aggregateBackward(ops, call, c, g, [])];
      return exchange.swap('backward', kind, this.matrix(kind), call, c, g).then((mirrors) => [this.aggregateBackward(ops, call, c, g, mirrors)]);
    });
  }

  /**
   * dX_c = A_ccᵀ·dY_c + (Aᵀ)_c,rest·G_k. Mirror gradient rows (hybrid mode) are exact for the concurrent
   * chunk that reads them now, so they are stored ×1 first and, under trick 2, ×2 afterwards for the chunks
   * that read them later, as this way's own rows are.
   */
  private aggregateBackward(ops: ChunkOperators, call: number, c: number, g: Tensor, mirrors: MirrorRows[]): Tensor {
    const dx = empty(this.gpu, [g.rows, g.cols], 'f32', 'pipe_aggregate_grad');
    spmmInto(ops.local.transpose(), g, dx);
    if (c === WHOLE) return dx;
    const { history } = this;
    const gh = history.gradients(call, g.cols);
    for (const m of mirrors) history.writeMirrorGradients(call, m.chunk, m.rows, m.ids);
    if (ops.offT) {
      spmmInto(ops.offT, gh, dx, { accumulate: true });
      history.noteGradientReads(call, ops.gradRowsReadFrom);
    }
    history.writeGradients(call, c, g);
    for (const m of mirrors) {
      history.doubleMirrorGradients(call, m.rows, m.ids);
      m.rows.dispose();
    }
    return dx;
  }

  /** Original node ids of chunk `c`'s rows (u32): dropout masks are keyed by them, as on one device. */
  private originalIds(c: number): Tensor {
    let ids = this.rowIds.get(c);
    if (!ids) {
      const start = c === WHOLE ? 0 : this.chunking.starts[c];
      const n = this.rows(c);
      ids = keep(fromArray(this.gpu, Uint32Array.from(this.chunking.original.subarray(start, start + n)), [n], { dtype: 'u32', label: `pipe_row_ids:${c}` }));
      this.rowIds.set(c, ids);
    }
    return ids;
  }

  /** The whole operator on the CPU (or its transpose), built once per kind. */
  private matrix(kind: Aggregation, transposed = false): Csr {
    const key = `${kind}${transposed ? 'ᵀ' : ''}`;
    let m = this.cpuMatrices.get(key);
    if (!m) {
      // The same matrix GraphInput builds on one device (global degrees), in new ids.
      m = transposed
        ? transposeCsr(this.matrix(kind))
        : normalizedAdjacency(buildAdjacency(this.numNodes, this.edges.src, this.edges.dst, { undirected: true, selfLoops: kind === 'gcn' ? 'add' : 'remove' }), kind);
      this.cpuMatrices.set(key, m);
    }
    return m;
  }

  private ops(kind: Aggregation, c: number): ChunkOperators {
    const key = `${kind}:${c}`;
    let ops = this.operators.get(key);
    if (ops) return ops;
    const a = this.matrix(kind);
    if (c === WHOLE) {
      const none = new Int32Array(this.chunking.numChunks);
      ops = { local: SparseMatrix.fromCsr(this.gpu, a, `pipe:${kind}`), off: null, offT: null, rowsReadFrom: none, gradRowsReadFrom: none };
    } else {
      const blocks = chunkBlocks(a, this.matrix(kind, true), this.chunking, c);
      ops = {
        local: SparseMatrix.fromCsr(this.gpu, blocks.local, `pipe:${kind}:${c}`),
        off: blocks.off ? SparseMatrix.fromCsr(this.gpu, blocks.off, `pipe:${kind}:${c}:history`) : null,
        offT: blocks.offT ? SparseMatrix.fromCsr(this.gpu, blocks.offT, `pipe:${kind}:${c}:history_grad`) : null,
        rowsReadFrom: blocks.rowsReadFrom,
        gradRowsReadFrom: blocks.gradRowsReadFrom,
      };
    }
    this.operators.set(key, ops);
    return ops;
  }

  dispose(): void {
    for (const ops of this.operators.values()) {
      ops.local.dispose();
      ops.off?.dispose();
      ops.offT?.dispose();
    }
    this.operators.clear();
    this.cpuMatrices.clear();
    for (const t of this.historicalParts.values()) t.dispose();
    this.historicalParts.clear();
    for (const t of this.rowIds.values()) t.dispose();
    this.rowIds.clear();
    this.history.dispose();
    this.exchange?.dispose();
  }
}
