// A worker's partition of the graph, seen by layers as a NodeGraph: SAR's sequential aggregation and
// rematerialization (Mostafa, MLSys 2022).
//
// Forward of Y = A·X for this worker's rows: Y = A_pp·X_p, then N−1 rounds; in round r the worker
// sends peer p+r the rows of X it reads and receives from peer p−r the rows it reads from it (its halo),
// adds A_pq·X_q(halo) into Y and frees them. Round r+1's rows travel while round r aggregates, so at
// most two halos are on the device at once and nothing remote is kept for the backward.
// Backward, for these linear aggregations (sum, mean, GCN): dX_p = A_ppᵀ·dY, and each peer's share
// A_pqᵀ·dY is computed here and sent to its owner, who adds it into its rows: no refetch.
//
// `remat: false` is the ordinary graph-parallel baseline for the memory comparison: every halo is
// fetched into one tensor that is kept (as autograd keeps a saved input) until the backward, which
// returns the halo gradients the same way. Everything else is as in SAR.

import type { Gpu } from '../../gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency, type Csr } from '../../graph/csr.ts';
import { partitionBlocks, type NodePlacement, type WorkerBlocks } from '../../graph/partition-blocks.ts';
import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { Aggregation, NodeGraph, RandomKey } from '../../nn/graph-input.ts';
import { empty, fromArray } from '../../tensor/create.ts';
import type { GatAttentionOptions } from '../../tensor/ops/gat-attention.ts';
import { gatherRows, scatterAddRows } from '../../tensor/ops/rows.ts';
import { disposePartitionedAttention, observed, partitionedAttention } from './partitioned-attention.ts';
import { spmmInto } from '../../tensor/ops/spmm.ts';
import { keep } from '../../tensor/scope.ts';
import { SparseMatrix } from '../../tensor/sparse-matrix.ts';
import { record } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

export interface PartitionedGraphOptions {
  /** SAR (true, default) or keep every fetched halo until the backward (false). */
  remat?: boolean;
}

/** One aggregation kind's operators on this worker's device. */
interface Operators {
  blocks: WorkerBlocks;
  local: SparseMatrix;
  /** Per peer: A_pq with compacted columns (null when this worker reads nothing from that peer). */
  peer: (SparseMatrix | null)[];
  /** Per peer: our local ids that peer reads (u32), null when none. */
  sendIdx: (Tensor | null)[];
  /** remat: false only: [A_pq for q in round order] over every halo stacked in round order (null without halos). */
  combined: SparseMatrix | null;
}

interface ReceivedRows {
  peer: number;
  rows: Tensor;
}

const ROUND_BITS = 8;
const CALL_MASK = (1 << (24 - ROUND_BITS)) - 1;

export class PartitionedGraph implements NodeGraph {
  readonly numNodes: number;
  /** Global id of each local row (set by the worker that owns the rows): dropout keys use it. */
  rowIds: Tensor | null = null;
  random: RandomKey = { seed: 0, step: 0 };
  readonly rank: number;
  readonly size: number;
  private readonly remat: boolean;
  private readonly operators = new Map<Aggregation, Operators>();
  /** Aggregations so far; every worker calls them in the same order, which names their messages. */
  private calls = 0;
  private attention: WorkerBlocks | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly transport: Transport,
    private readonly edges: { numNodes: number; src: Int32Array; dst: Int32Array },
    readonly placement: NodePlacement,
    options: PartitionedGraphOptions = {},
  ) {
    this.rank = transport.rank;
    this.size = transport.size;
    if (placement.parts !== this.size) throw new RangeError(`PartitionedGraph: ${placement.parts} parts for ${this.size} workers`);
    this.numNodes = placement.sizes[this.rank];
    this.remat = options.remat ?? true;
  }

  /** The blocks of `kind` (built on first use), e.g. for byte and halo statistics. */
  blocks(kind: Aggregation): WorkerBlocks {
    return this.ops(kind).blocks;
  }

  async aggregate(kind: Aggregation, x: Tensor): Promise<Tensor> {
    if (x.rows !== this.numNodes) throw new RangeError(`aggregate(${kind}) on worker ${this.rank}: input ${x} must have ${this.numNodes} rows`);
    const ops = this.ops(kind);
    const call = this.nextCall();
    return this.remat ? this.sequentialForward(ops, x, call) : this.haloForward(ops, x, call);
  }

  attend(z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Promise<Tensor> {
    if (z.rows !== this.numNodes) throw new RangeError(`attend on worker ${this.rank}: z ${z} must have ${this.numNodes} rows`);
    return partitionedAttention(this, z, aSrc, aDst, options);
  }

  /** The attention structure's blocks (in-neighbours plus one self loop each, unweighted), built once. */
  attentionBlocks(): WorkerBlocks {
    if (!this.attention) {
      const { numNodes, src, dst } = this.edges;
      this.attention = partitionBlocks(buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'add' }), this.placement, this.rank);
    }
    return this.attention;
  }

  /** A fresh message id for one distributed operation; every worker draws them in the same order. */
  nextCall(): number {
    return this.calls++ & CALL_MASK;
  }

  /** The tag of round `round` of operation `call` on `channel` (TAG_CHANNEL.sarForward or sarBackward). */
  tag(channel: number, call: number, round: number): number {
    return makeTag(channel, tagId(call, round));
  }

  dispose(): void {
    for (const ops of this.operators.values()) {
      ops.local.dispose();
      ops.combined?.dispose();
      for (const m of ops.peer) m?.dispose();
      for (const t of ops.sendIdx) t?.dispose();
    }
    this.operators.clear();
    disposePartitionedAttention(this);
    this.rowIds?.dispose();
    this.rowIds = null;
  }

  // ---- SAR: sequential rounds, nothing remote kept ----

  private async sequentialForward(ops: Operators, x: Tensor, call: number): Promise<Tensor> {
    const F = x.cols;
    const out = empty(this.gpu, [this.numNodes, F], 'f32', 'sar_aggregate');
    spmmInto(ops.local, x, out);
    const sending = observed(this.sendRows(ops, x, call));
    let next: Promise<ReceivedRows | null> | null = observed(this.receiveRound(ops, 1, F, TAG_CHANNEL.sarForward, call, false));
    for (let r = 1; r < this.size; r++) {
      const current = next;
      next = r + 1 < this.size ? observed(this.receiveRound(ops, r + 1, F, TAG_CHANNEL.sarForward, call, false)) : null;
      const got = await current!;
      if (got) {
        spmmInto(ops.peer[got.peer]!, got.rows, out, { accumulate: true });
        got.rows.discard();
        this.gpu.submit();
      }
    }
    await sending;
    return record('sarAggregate', [x], out, (g) => this.sequentialBackward(ops, g, call));
  }

  private async sequentialBackward(ops: Operators, g: Tensor, call: number): Promise<Tensor[]> {
    const F = g.cols;
    const dx = empty(this.gpu, [this.numNodes, F], 'f32', 'sar_aggregate_grad');
    spmmInto(ops.local.transpose(), g, dx);
    // Round r returns to peer p−r (whose rows we read in forward round r) the gradient of those rows.
    const sending = observed((async () => {
      for (let r = 1; r < this.size; r++) {
        const to = (this.rank - r + this.size) % this.size;
        const a = ops.peer[to];
        if (!a) continue;
        const share = keep(empty(this.gpu, [a.numCols, F], 'f32', 'sar_halo_grad'));
        spmmInto(a.transpose(), g, share);
        await this.sendTensor(to, makeTag(TAG_CHANNEL.sarBackward, tagId(call, r)), share);
      }
    })());
    let next: Promise<ReceivedRows | null> | null = observed(this.receiveRound(ops, 1, F, TAG_CHANNEL.sarBackward, call, true));
    for (let r = 1; r < this.size; r++) {
      const current = next;
      next = r + 1 < this.size ? observed(this.receiveRound(ops, r + 1, F, TAG_CHANNEL.sarBackward, call, true)) : null;
      const got = await current!;
      if (got) {
        scatterAddRows(dx, got.rows, ops.sendIdx[got.peer]!);
        got.rows.discard();
        this.gpu.submit();
      }
    }
    await sending;
    return [dx];
  }

  // ---- Graph-parallel baseline: all halos fetched and kept ----

  private async haloForward(ops: Operators, x: Tensor, call: number): Promise<Tensor> {
    const F = x.cols;
    const haloBlock = ops.combined;
    const out = empty(this.gpu, [this.numNodes, F], 'f32', 'halo_aggregate');
    spmmInto(ops.local, x, out);
    const sending = observed(this.sendRows(ops, x, call));
    // Every peer's rows, in round order, in one tensor that lives until the backward.
    const halo = haloBlock ? keep(empty(this.gpu, [haloBlock.numCols, F], 'f32', 'halo_rows')) : null;
    let offset = 0;
    for (let r = 1; r < this.size; r++) {
      const got = await this.receiveRound(ops, r, F, TAG_CHANNEL.sarForward, call, false);
      if (!got) continue;
      this.gpu.encoder.copy(got.rows.buffer, 0, halo!.buffer, offset * F * 4, got.rows.byteLength);
      offset += got.rows.rows;
      got.rows.discard();
    }
    await sending;
    if (haloBlock) spmmInto(haloBlock, halo!, out, { accumulate: true });
    return record('haloAggregate', [x], out, async (g) => {
      const dx = empty(this.gpu, [this.numNodes, F], 'f32', 'halo_aggregate_grad');
      spmmInto(ops.local.transpose(), g, dx);
      halo?.discard();
      const sending = observed((async () => {
        if (!haloBlock) return;
        const dHalo = keep(empty(this.gpu, [haloBlock.numCols, F], 'f32', 'halo_rows_grad'));
        spmmInto(haloBlock.transpose(), g, dHalo);
        let at = 0;
        for (let r = 1; r < this.size; r++) {
          const from = (this.rank - r + this.size) % this.size;
          const rows = ops.blocks.peers[from]!.halo.length;
          if (!rows) continue;
          const share = keep(empty(this.gpu, [rows, F], 'f32', 'halo_grad'));
          this.gpu.encoder.copy(dHalo.buffer, at * F * 4, share.buffer, 0, share.byteLength);
          at += rows;
          await this.sendTensor(from, makeTag(TAG_CHANNEL.sarBackward, tagId(call, r)), share);
        }
        dHalo.discard();
      })());
      for (let r = 1; r < this.size; r++) {
        const got = await this.receiveRound(ops, r, F, TAG_CHANNEL.sarBackward, call, true);
        if (!got) continue;
        scatterAddRows(dx, got.rows, ops.sendIdx[got.peer]!);
        got.rows.discard();
      }
      await sending;
      return [dx];
    });
  }

  // ---- Messages ----

  /** Round r of the forward: sends peer p+r the rows of x it reads, one round after another. */
  private async sendRows(ops: Operators, x: Tensor, call: number): Promise<void> {
    for (let r = 1; r < this.size; r++) {
      const to = (this.rank + r) % this.size;
      const idx = ops.sendIdx[to];
      if (!idx) continue;
      await this.sendTensor(to, makeTag(TAG_CHANNEL.sarForward, tagId(call, r)), keep(gatherRows(x, idx)));
    }
  }

  /** Reads `t` back, frees it, and sends its rows to `peer`. */
  async sendTensor(peer: number, tag: number, t: Tensor): Promise<void> {
    const shape = [t.rows, t.cols];
    const bytes = t.byteLength ? await this.gpu.read(t.buffer, 0, t.byteLength) : new ArrayBuffer(0);
    t.discard();
    await this.transport.send(peer, tag, new Float32Array(bytes), shape);
  }

  /**
   * Receives round r's rows on the device: in the forward from peer p−r (our halo from it), in the
   * backward from peer p+r (the gradient of the rows we sent it). Null when that peer sends nothing.
   */
  private async receiveRound(
    ops: Operators,
    r: number,
    F: number,
    channel: number,
    call: number,
    backward: boolean,
  ): Promise<ReceivedRows | null> {
    const peer = backward ? (this.rank + r) % this.size : (this.rank - r + this.size) % this.size;
    const rows = backward ? (ops.blocks.sendTo[peer]?.length ?? 0) : (ops.blocks.peers[peer]?.halo.length ?? 0);
    if (!rows) return null;
    const message = await this.transport.recv(peer, makeTag(channel, tagId(call, r)), { kind: 'f32', shape: [rows, F] });
    return { peer, rows: keep(fromArray(this.gpu, message.data as Float32Array, [rows, F], { label: backward ? 'sar_grad_rows' : 'sar_halo' })) };
  }

  private ops(kind: Aggregation): Operators {
    let ops = this.operators.get(kind);
    if (!ops) {
      const { numNodes, src, dst } = this.edges;
      // Exactly the matrix GraphInput builds on one device, so the weights (global degrees) agree.
      const csr = normalizedAdjacency(buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: kind === 'gcn' ? 'add' : 'remove' }), kind);
      ops = this.upload(kind, partitionBlocks(csr, this.placement, this.rank));
      this.operators.set(kind, ops);
    }
    return ops;
  }

  private upload(kind: Aggregation, blocks: WorkerBlocks): Operators {
    const { gpu } = this;
    const sendIdx = blocks.sendTo.map((ids) => (ids && ids.length ? keep(fromArray(gpu, new Uint32Array(ids), [ids.length], { dtype: 'u32', label: 'sar_send_ids' })) : null));
    const local = SparseMatrix.fromCsr(gpu, blocks.local, `sar:${kind}:${this.rank}`);
    if (!this.remat) {
      const stacked = stackColumns(blocks, this.roundOrder());
      const combined = stacked.numCols ? SparseMatrix.fromCsr(gpu, stacked, `halo:${kind}:${this.rank}`) : null;
      return { blocks, local, peer: blocks.peers.map(() => null), sendIdx, combined };
    }
    // A peer's block is only added into the output, and most rows read nothing from a given peer: its
    // empty rows get no work (each round costs the rows that read from that peer, not all of ours).
    const peer = blocks.peers.map((p, q) => (p && p.halo.length ? SparseMatrix.fromCsr(gpu, p.block, `sar:${kind}:${this.rank}←${q}`, { emptyRows: 'skip' }) : null));
    return { blocks, local, peer, sendIdx, combined: null };
  }

  /** Peers in the order their halos arrive: p−1, p−2, … */
  private roundOrder(): number[] {
    return Array.from({ length: this.size - 1 }, (_, i) => (this.rank - 1 - i + this.size) % this.size);
  }
}

function tagId(call: number, round: number): number {
  return (call << ROUND_BITS) | round;
}

/** [A_pq₁ | A_pq₂ …] over the columns [halo q₁; halo q₂ …]. */
function stackColumns(blocks: WorkerBlocks, order: number[]): Csr {
  const parts: Csr[] = order.map((q) => blocks.peers[q]!.block);
  const n = blocks.local.numRows;
  const rowPtr = new Int32Array(n + 1);
  for (const b of parts) for (let i = 0; i < n; i++) rowPtr[i + 1] += b.rowPtr[i + 1] - b.rowPtr[i];
  for (let i = 0; i < n; i++) rowPtr[i + 1] += rowPtr[i];
  const nnz = rowPtr[n];
  const colIdx = new Int32Array(nnz);
  const values = blocks.local.values ? new Float32Array(nnz) : null;
  const fill = rowPtr.slice(0, n);
  let offset = 0;
  for (const b of parts) {
    for (let i = 0; i < n; i++) {
      for (let k = b.rowPtr[i]; k < b.rowPtr[i + 1]; k++) {
        const at = fill[i]++;
        colIdx[at] = offset + b.colIdx[k];
        if (values) values[at] = b.values![k];
      }
    }
    offset += b.numCols;
  }
  return { numRows: n, numCols: offset, rowPtr, colIdx, values };
}
