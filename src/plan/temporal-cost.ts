// The cost of one pass over an event stream with TGN (nn/tgn/): node memory and mailbox on the device,
// per batch the memory update of its endpoints, temporal attention over their recent neighbours and the
// link predictor; DistTGL's trainers all-reduce their gradients every step.

import { elementwiseWork, kernelSeconds, linkSeconds, matmulWork, memoryUpdateWork, type DeviceSpec, type LinkSpec } from './device-profile.ts';
import { emptyMemory, totalMemory, type WorkerPlan } from './plan-types.ts';
import type { EventWorkload } from './workload.ts';

export interface TemporalCostOptions {
  batchSize: number;
  memoryDim: number;
  timeDim: number;
  embeddingDim: number;
  neighbors: number;
  /** Share of the stream trained on (the chronological split's train part: 0.7). */
  trainFraction: number;
  /** MSPipe: batches whose memory may be k stale (more batches in flight at once). */
  staleness: number;
}

export const TEMPORAL_DEFAULTS: TemporalCostOptions = { batchSize: 200, memoryDim: 100, timeDim: 100, embeddingDim: 100, neighbors: 10, trainFraction: 0.7, staleness: 0 };

/** TGN's parameters (tgn.ts): time encoder, GRU updater, one temporal attention layer, the MLP predictor. */
export function tgnParams(o: TemporalCostOptions, edgeDim: number): number {
  const { memoryDim: m, timeDim: t, embeddingDim: e } = o;
  const mail = 2 * m + edgeDim;
  const gru = 3 * ((mail + t) * m + m * m + 2 * m);
  const query = m + t;
  const key = m + edgeDim + t;
  const attention = query * e + 2 * key * e + 4 * e + (e + m) * e + e * e + 2 * e;
  const predictor = 2 * e * e + 2 * e + 1;
  return 2 * t + gru + attention + predictor;
}

/**
 * Neighbour-row-wide tensors a TGN batch holds at its peak, pool caching included: measured as the
 * engine's peak bytes less node state and optimizer, over 3·B·K·(memory + time + edge + embedding)
 * floats, on CollegeMsg (first 2,000 events, batch 200: 61.4 MB → 8.5). The plan test checks it at
 * other batch sizes and stream lengths.
 */
export const BATCH_TENSORS = 8.5;

/** Kernel dispatches of one training batch (forward and backward, memory update, optimizer), from tgn.ts's ops. */
const DISPATCHES_PER_BATCH = 220;

export function temporalCost(stream: EventWorkload, workers: number, device: DeviceSpec, link: LinkSpec, options: TemporalCostOptions): WorkerPlan[] {
  const o = options;
  const edgeDim = stream.edgeFeatures;
  const params = tgnParams(o, edgeDim);
  const mail = 2 * o.memoryDim + edgeDim;
  const B = o.batchSize;
  const rows = 3 * B; // sources, destinations, negatives
  const memory = emptyMemory();
  memory.node_memory = 4 * stream.nodes * (o.memoryDim + mail) + 8 * stream.nodes; // memory, mailbox, their times
  memory.optimizer = 16 * params;
  memory.features = 4 * stream.events * edgeDim; // event features, resident
  // A batch's tensors: mostly one row per (endpoint or negative, neighbour) of the attention's widths, in
  // buffers of sizes that vary from batch to batch (the pool keeps one set per size). Their number is
  // the one figure here not derived from the code: measured on the engine, see BATCH_TENSORS.
  const keyWidth = o.memoryDim + edgeDim + o.timeDim;
  const batch = 4 * BATCH_TENSORS * rows * o.neighbors * (o.memoryDim + o.timeDim + edgeDim + o.embeddingDim);
  memory.activations = batch * (1 + o.staleness);
  const trainEvents = stream.events * o.trainFraction;
  const steps = Math.ceil(trainEvents / B / workers);
  const update = kernelSeconds(device, 'memory_update', memoryUpdateWork(2 * B, o.memoryDim, mail + o.timeDim));
  const attention = kernelSeconds(device, 'matmul', matmulWork(rows * o.neighbors, keyWidth, 2 * o.embeddingDim)) + kernelSeconds(device, 'matmul', matmulWork(rows, o.memoryDim + o.timeDim, o.embeddingDim));
  const dispatch = DISPATCHES_PER_BATCH * kernelSeconds(device, 'elementwise', elementwiseWork((rows * o.embeddingDim) / 4));
  const perBatch = 3 * (update + attention) + dispatch;
  const compute = steps * perBatch + (stream.events * (1 - o.trainFraction) * perBatch) / (3 * B);
  const ring = workers > 1 ? (2 * (workers - 1)) / workers : 0;
  const sent = steps * ring * 4 * params;
  const messages = steps * 2 * Math.max(0, workers - 1);
  const communication = workers > 1 ? linkSeconds(link, sent, messages) : 0;
  const plan = (w: number): WorkerPlan => ({
    worker: w,
    memory,
    peak_bytes: totalMemory(memory),
    bytes_sent_per_epoch: sent,
    bytes_received_per_epoch: sent,
    messages_per_epoch: messages,
    compute_s: compute,
    communication_s: communication,
    overlap_s: 0,
    epoch_s: compute + communication,
  });
  return Array.from({ length: workers }, (_, w) => plan(w));
}
