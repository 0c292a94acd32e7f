// The cost of one full-batch epoch (train + evaluation) on each SAR worker — and on one device, which
// is SAR with one worker. Mirrors what engines/sar/partitioned-graph.ts and node-epoch.ts do, term by
// term, without running them: the test in test/node/plan.test.ts holds these figures against the
// engine's measured peak bytes and bytes sent.

import { attentionWork, elementwiseWork, kernelSeconds, linkSeconds, spmmWork, type DeviceSpec, type LinkSpec } from './device-profile.ts';
import type { PartitionShape, WorkerShape } from './edge-cut.ts';
import { lossFloats, type AggregationCost, type ModelCost } from './model-cost.ts';
import { emptyMemory, totalMemory, type WorkerPlan } from './plan-types.ts';

export interface SarCostOptions {
  /** false: the graph-parallel baseline that keeps every fetched halo until the backward. */
  remat: boolean;
  /** Evaluation forward every epoch (node-epoch.ts does). */
  evaluate: boolean;
}

/** The SpMM kernel's segments: every row at least one, long rows one per 32 non-zeros (sparse-matrix.ts). */
function segments(rows: number, nnz: number): number {
  return rows + nnz / 32;
}

/** Device bytes of one SparseMatrix (A and Aᵀ: interleaved entries, segments, long-row tables); `activeRows`
 * are A's rows with work (all of them, unless its empty rows are skipped). */
export function sparseMatrixBytes(rows: number, cols: number, nnz: number, activeRows = rows): number {
  const direction = (r: number) => 8 * nnz + 8 * (segments(r, nnz) + 1) + 8 * (1 + Math.min(r, nnz / 32));
  return direction(activeRows) + direction(cols);
}

/** Non-zeros of one aggregation kind's local block: GCN's and attention's structures add a self loop per row. */
function localNnz(kind: AggregationCost['kind'], s: WorkerShape): number {
  return s.localNnz + (kind === 'mean' ? 0 : s.rows);
}

export function sarWorkerCost(
  worker: number,
  s: WorkerShape,
  workers: number,
  features: number,
  classes: number,
  model: ModelCost,
  device: DeviceSpec,
  link: LinkSpec,
  options: SarCostOptions,
): WorkerPlan {
  const n = s.rows;
  const memory = emptyMemory();
  const aggregations = model.blocks.flatMap((b) => b.aggregations);
  const peers = s.sendPeers;

  // Graph: one operator per aggregation kind (built once, kept), plus the send lists.
  for (const kind of new Set(aggregations.map((a) => a.kind))) {
    memory.graph += sparseMatrixBytes(n, n, localNnz(kind, s));
    if (workers > 1 && peers > 0) {
      const haloPerPeer = s.haloRows / peers;
      // Peer blocks skip their empty rows (partitioned-graph.ts): A's segments cover the rows that read from that peer.
      memory.graph += peers * sparseMatrixBytes(n, haloPerPeer, s.remoteNnz / peers, s.peerActiveRows / peers);
      memory.graph += 4 * s.sendRows;
    }
  }
  memory.features = 4 * n * features;
  // Labels, the three split index lists, global row ids.
  memory.other = 4 * n * 3;
  memory.optimizer = 16 * model.params; // weights, gradients, Adam's two moments

  const train = model.blocks.reduce((t, b) => t + b.trainFloats, 0) + lossFloats(classes);
  const evaluation = model.blocks.reduce((t, b) => t + b.evalFloats, 0) + lossFloats(classes);
  const backward = Math.max(...model.blocks.map((b) => b.backwardFloats));
  // Training (its forward kept through the backward) and the evaluation run in scopes of their own
  // (node-epoch.ts): the larger of the two is the peak.
  memory.activations = 4 * n * Math.max(train + backward, options.evaluate ? evaluation : 0);

  const widest = Math.max(0, ...aggregations.map((a) => a.width));
  if (workers > 1) {
    if (options.remat) {
      // Two peers' halos on the device at once (round r aggregating, round r + 1 arriving), plus the rows being sent.
      memory.remote_rows = 4 * widest * (2 * s.maxPeerHaloRows + s.sendRows / Math.max(1, peers));
    } else {
      memory.remote_rows = aggregations.reduce((t, a) => t + 4 * a.width * s.haloRows, 0);
    }
    if (aggregations.some((a) => a.kind === 'attention')) memory.attention = 4 * widest * s.maxPeerHaloRows;
  }

  // ---- Time ----
  const passes = options.evaluate ? 2 : 1; // forward passes per epoch
  let compute = 0;
  let haloCompute = 0;
  for (const b of model.blocks) {
    if (b.flopsPerRow) {
      const f = b.flopsPerRow * n;
      const backwardProducts = b === model.blocks.find((x) => x.flopsPerRow) ? 1 : 2; // the first layer needs no input gradient
      compute += (passes + backwardProducts) * kernelSeconds(device, 'matmul', f);
    }
    if (b.elementwiseFloats) {
      const perKernel = elementwiseWork((b.elementwiseFloats * n) / b.dispatches);
      // Training forward; evaluation when the block allocates there (dropout does not); backward when gradients flow through it.
      const times = 1 + (options.evaluate && b.evalFloats > 0 ? 1 : 0) + (b.backwardFloats > 0 ? 1 : 0);
      compute += times * b.dispatches * kernelSeconds(device, 'elementwise', perKernel);
    }
    for (const a of b.aggregations) {
      const kernel = a.kind === 'attention' ? 'attention' : 'spmm';
      const work = (rows: number, nnz: number) => (a.kind === 'attention' ? attentionWork(rows, nnz, a.heads ?? 1, a.width / (a.heads ?? 1)) : spmmWork(rows, nnz, a.width));
      const backwardPasses = !a.needsGradient ? 0 : a.kind === 'attention' ? 2 : 1; // attention's backward recomputes its scores
      compute += (passes + backwardPasses) * kernelSeconds(device, kernel, work(n, localNnz(a.kind, s)));
      if (workers > 1 && peers > 0) {
        // Forward products touch only the rows that read from the peer; backward ones (Aᵀ) the halo rows.
        const perPeer = (rows: number) => peers * kernelSeconds(device, kernel, work(rows, s.remoteNnz / peers));
        const remote = passes * perPeer(a.kind === 'attention' ? n : s.peerActiveRows / peers) + backwardPasses * perPeer(s.haloRows / peers); // attention's blocks keep every row
        compute += remote;
        haloCompute += remote;
      }
    }
  }
  const lossWork = elementwiseWork(n * classes, 3);
  compute += (passes + 1) * 3 * kernelSeconds(device, 'elementwise', lossWork);
  // Adam: a few elementwise passes over every parameter.
  compute += model.blocks.filter((b) => b.params).length * 2 * kernelSeconds(device, 'elementwise', elementwiseWork(model.params / Math.max(1, model.blocks.filter((b) => b.params).length), 6));

  // ---- Communication ----
  let sent = 0;
  let received = 0;
  let messages = 0;
  let allReduceBytes = 0;
  if (workers > 1) {
    for (const a of aggregations) {
      const rowBytes = 4 * a.width;
      // Forward (train, evaluation; attention's backward refetches once more): our rows to each peer that reads them.
      const forwardSends = passes + (a.kind === 'attention' && a.needsGradient ? 1 : 0);
      const back = a.needsGradient ? 1 : 0;
      sent += forwardSends * s.sendRows * rowBytes + back * s.haloRows * rowBytes; // + the halo gradients we return
      received += forwardSends * s.haloRows * rowBytes + back * s.sendRows * rowBytes;
      messages += (forwardSends + back) * peers;
    }
    // Ring all-reduce of the gradients (2(N−1)/N of them), and of the five metric values.
    allReduceBytes = ((2 * (workers - 1)) / workers) * 4 * (model.params + 5);
    sent += allReduceBytes;
    received += allReduceBytes;
    messages += 4 * (workers - 1);
  }
  // Sent rows are gathered and read back from the device, received ones uploaded and scattered or
  // aggregated: one copy each way, a gather kernel and a read-back wait per message sent, an upload per message received.
  compute += kernelSeconds(device, 'elementwise', sent + received) + messages * (device.readback_s + 2 * device.dispatch_s);
  const communication = workers > 1 ? linkSeconds(link, Math.max(sent, received), messages) : 0;
  // The halo rows travel while other rounds aggregate; the all-reduce waits for the backward.
  const haloShare = sent > 0 ? (sent - allReduceBytes) / sent : 0;
  const overlap = Math.min(communication * haloShare, haloCompute);
  const peak = totalMemory(memory);
  return {
    worker,
    memory,
    peak_bytes: peak,
    bytes_sent_per_epoch: sent,
    bytes_received_per_epoch: received,
    messages_per_epoch: messages,
    compute_s: compute,
    communication_s: communication,
    overlap_s: overlap,
    epoch_s: compute + communication - overlap,
  };
}

export function sarCost(shape: PartitionShape, features: number, classes: number, model: ModelCost, device: DeviceSpec, link: LinkSpec, options: SarCostOptions): WorkerPlan[] {
  return shape.workers.map((s, w) => sarWorkerCost(w, s, shape.workers.length, features, classes, model, device, link, options));
}
