// Graph attention (GATConv) over a partitioned graph, SAR style (sequential aggregation and
// rematerialization): the attention of this worker's rows over in-neighbours held by every worker,
// equal (to f32 rounding) to gatAttention on the whole graph for these rows, forward and backward,
// attention dropout included (masks keyed by global edge id).
//
// Forward: the softmax runs online over blocks (src/tensor/ops/gat-block.ts): the local block, then in
// round r the halo rows of z received from peer p−r (while peer p+r is sent the rows it reads, and
// round r+1's rows already travel), their scores computed here, folded into the running max,
// denominator and output, and freed. Saved for the backward: s, d, max and denominator per (row, head).
// Backward (rematerialization): c_i = g_i·out_i needs no edge pass; the local block, then in round r
// the halo from p−r fetched AGAIN (peers resend their rows), α recomputed from the saved max and
// denominator, and the gradient of those rows (through α̃ and their scores) sent back to p−r, which adds
// it into its dz. Parameter gradients are this worker's share: daSrc = Σ over its blocks' source rows
// of ds_j·z_j, daDst = Σ over its rows of dd_i·z_i; the worker all-reduce sums the shares.
//
// Messages: forward rows on tag(sarForward, call, r), refetched rows on tag(sarForward, call, 128 + r),
// returned gradients on tag(sarBackward, call, r): rounds fit the tag's 8 bits for up to 128 workers.
// There is no keep-every-halo baseline for attention: with `remat: false` attention still refetches.

import { TAG_CHANNEL } from '../../dist/transport.ts';
import { fromArray } from '../../tensor/create.ts';
import type { GatAttentionOptions } from '../../tensor/ops/gat-attention.ts';
import { GatBlockBackward, gatBlockConfig, GatBlockForward, gatBlockScores, GatBlockTopology, type GatBlockConfig } from '../../tensor/ops/gat-block.ts';
import { gatherRows, scatterAddRows } from '../../tensor/ops/rows.ts';
import { keep } from '../../tensor/scope.ts';
import { record } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import type { WorkerBlocks } from '../../graph/partition-blocks.ts';
import type { Transport } from '../../dist/transport.ts';

/** What the attention needs of a partitioned graph (PartitionedGraph in ./partitioned-graph.ts, which
 * imports this module: the arrow points one way). */
export interface SarAttentionGraph {
  readonly gpu: Gpu;
  readonly transport: Transport;
  readonly rank: number;
  readonly size: number;
  readonly numNodes: number;
  attentionBlocks(): WorkerBlocks;
  nextCall(): number;
  tag(channel: number, call: number, round: number): number;
  sendTensor(peer: number, tag: number, t: Tensor): Promise<void>;
}

/**
 * Marks a promise as handled (it is still awaited later): when a round fails, the sends and prefetches
 * in flight must not turn into unhandled rejections that kill the process; the first error is reported.
 */
export function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Round offset of the backward's refetch messages (forward rounds are 1..N−1 < 128). */
const REFETCH_ROUND = 128;

/** The attention blocks of one worker on its device, uploaded once per graph. */
interface AttentionOperators {
  local: GatBlockTopology;
  /** Per peer: the block over its halo (null when this worker reads nothing from it). */
  peer: (GatBlockTopology | null)[];
  /** Per peer: our local ids that peer reads (u32), null when none. */
  sendIdx: (Tensor | null)[];
}

// Built on the first attend and kept with the graph until disposePartitionedAttention (or the device's end).
const operators = new WeakMap<SarAttentionGraph, AttentionOperators>();

/** Releases the attention blocks uploaded for `graph` (for PartitionedGraph.dispose). */
export function disposePartitionedAttention(graph: SarAttentionGraph): void {
  const ops = operators.get(graph);
  if (!ops) return;
  ops.local.dispose();
  for (const b of ops.peer) b?.dispose();
  for (const t of ops.sendIdx) t?.dispose();
  operators.delete(graph);
}

function operatorsOf(graph: SarAttentionGraph): AttentionOperators {
  let ops = operators.get(graph);
  if (!ops) {
    const blocks = graph.attentionBlocks();
    const { gpu, rank } = graph;
    ops = {
      local: GatBlockTopology.fromCsr(gpu, blocks.local, blocks.localEntryIds, `sar:attention:${rank}`),
      peer: blocks.peers.map((p, q) => (p && p.halo.length ? GatBlockTopology.fromCsr(gpu, p.block, p.entryIds, `sar:attention:${rank}←${q}`) : null)),
      sendIdx: blocks.sendTo.map((ids) => (ids && ids.length ? keep(fromArray(gpu, new Uint32Array(ids), [ids.length], { dtype: 'u32', label: 'sar_attention_send_ids' })) : null)),
    };
    operators.set(graph, ops);
  }
  return ops;
}

interface Halo {
  peer: number;
  round: number;
  z: Tensor;
}

export async function partitionedAttention(graph: SarAttentionGraph, z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Promise<Tensor> {
  // First and synchronously: every worker draws its message ids in the same order.
  const call = graph.nextCall();
  const where = `attend on SAR worker ${graph.rank}`;
  if (graph.size > REFETCH_ROUND) throw new RangeError(`${where}: at most ${REFETCH_ROUND} workers, got ${graph.size}`);
  for (const [name, t] of [['z', z], ['aSrc', aSrc], ['aDst', aDst]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`${where}: ${name} ${t} must be f32`);
  }
  if (z.shape.length !== 2 || z.rows !== graph.numNodes) throw new RangeError(`${where}: z ${z} must be [${graph.numNodes}, H·F]`);
  const cfg = gatBlockConfig(options, z.cols, where);
  for (const [name, t] of [['aSrc', aSrc], ['aDst', aDst]] as const) {
    if (t.size !== z.cols) throw new RangeError(`${where}: ${name} ${t} must be [${cfg.heads}, ${cfg.F}] for z ${z}`);
  }
  const ops = operatorsOf(graph);

  const forward = new GatBlockForward(z, aSrc, aDst, cfg);
  forward.add(ops.local, z, forward.sd);
  await eachHalo(graph, ops, z, call, 0, (halo) => {
    const sd = gatBlockScores(halo.z, aSrc, aDst, cfg);
    forward.add(ops.peer[halo.peer]!, halo.z, sd);
    sd.dispose();
  });
  const { out, saved } = forward.finish();
  record('sarAttention', [z, aSrc, aDst], out, async (g, needs) => {
    const backward = new GatBlockBackward(z, g, out, saved, aSrc, aDst, cfg);
    const dz = backward.block(ops.local, z, saved.sd);
    const returning: Promise<void>[] = [];
    await eachHalo(graph, ops, z, call, REFETCH_ROUND, (halo) => {
      const sd = gatBlockScores(halo.z, aSrc, aDst, cfg);
      const dHalo = keep(backward.block(ops.peer[halo.peer]!, halo.z, sd));
      sd.dispose();
      returning.push(observed(graph.sendTensor(halo.peer, graph.tag(TAG_CHANNEL.sarBackward, call, halo.round), dHalo)));
    });
    const { daSrc, daDst } = backward.finish(dz);
    saved.sd.dispose();
    saved.stats.dispose();
    await addReturnedGradients(graph, ops, dz, call, cfg);
    await Promise.all(returning);
    // Every worker takes part in the rounds whatever is needed; unneeded results are dropped here.
    return [dz, daSrc, daDst].map((t, k) => {
      if (needs[k]) return t;
      t.dispose();
      return null;
    });
  });
  if (!out.hasCreator) {
    saved.sd.dispose();
    saved.stats.dispose();
  }
  return out;
}

/**
 * The SAR rounds over z's halos: in round r sends peer p+r the rows of z it reads and hands `use` the
 * halo from peer p−r (prefetching the next round's), then frees it. `offset` separates the forward's
 * messages from the backward's refetch.
 */
async function eachHalo(graph: SarAttentionGraph, ops: AttentionOperators, z: Tensor, call: number, offset: number, use: (halo: Halo) => void): Promise<void> {
  const { size, rank } = graph;
  const sending = observed(
    (async () => {
      for (let r = 1; r < size; r++) {
        const to = (rank + r) % size;
        const idx = ops.sendIdx[to];
        if (!idx) continue;
        await graph.sendTensor(to, graph.tag(TAG_CHANNEL.sarForward, call, offset + r), keep(gatherRows(z, idx)));
      }
    })(),
  );
  const receive = (r: number): Promise<Halo | null> =>
    observed(
      (async () => {
        const peer = (rank - r + size) % size;
        const rows = ops.peer[peer]?.numCols ?? 0;
        if (!rows) return null;
        const message = await graph.transport.recv(peer, graph.tag(TAG_CHANNEL.sarForward, call, offset + r), { kind: 'f32', shape: [rows, z.cols] });
        return { peer, round: r, z: keep(fromArray(graph.gpu, message.data as Float32Array, [rows, z.cols], { label: 'sar_attention_halo' })) };
      })(),
    );
  let next: Promise<Halo | null> | null = size > 1 ? receive(1) : null;
  for (let r = 1; r < size; r++) {
    const current = next!;
    next = r + 1 < size ? receive(r + 1) : null;
    const halo = await current;
    if (!halo) continue;
    try {
      use(halo);
    } finally {
      halo.z.dispose();
    }
    graph.gpu.submit();
  }
  await sending;
}

/** Adds into dz the gradient of our rows that each peer p+r computed in its round r and sent back. */
async function addReturnedGradients(graph: SarAttentionGraph, ops: AttentionOperators, dz: Tensor, call: number, cfg: GatBlockConfig): Promise<void> {
  const { size, rank } = graph;
  const HF = cfg.heads * cfg.F;
  for (let r = 1; r < size; r++) {
    const peer = (rank + r) % size;
    const idx = ops.sendIdx[peer];
    if (!idx) continue;
    const message = await graph.transport.recv(peer, graph.tag(TAG_CHANNEL.sarBackward, call, r), { kind: 'f32', shape: [idx.size, HF] });
    const rows = keep(fromArray(graph.gpu, message.data as Float32Array, [idx.size, HF], { label: 'sar_attention_grad' }));
    scatterAddRows(dz, rows, idx);
    rows.dispose();
  }
}
