// The cost of one pass over an event stream with TGN (nn/tgn/) on each DistTGL trainer: node memory
// and mailbox on the device, per batch the memory update of its endpoints, temporal attention over
// their recent neighbours and the link predictor. With i×j×k = mini-batch × epoch × memory parallelism
// (engines/temporal/): every trainer all-reduces its gradients each step; a logical batch is i trainers'
// batches, so an epoch has 1/i as many steps; with i or j above 1 the memory owner and the trainers
// exchange the rows of each batch's nodes (memory and mail).

import { checkLayout, type ParallelLayout } from '../engines/temporal/parallel-layout.ts';
import { Tgn, TGN_DEFAULTS } from '../nn/tgn/tgn.ts';
import { elementwiseWork, kernelSeconds, linkSeconds, matmulWork, memoryUpdateWork, type DeviceSpec, type LinkSpec } from './device-profile.ts';
import { emptyMemory, totalMemory, type WorkerPlan } from './plan-types.ts';
import type { EventWorkload } from './workload.ts';

export interface TemporalCostOptions {
  batchSize: number;
  memoryDim: number;
  timeDim: number;
  embeddingDim: number;
  neighbors: number;
  /** Share of the stream trained on when the stream is not at hand (the chronological split: 0.7). */
  trainFraction: number;
  /** MSPipe: batches whose memory may be k stale (more batches in flight at once). */
  staleness: number;
  /** DistTGL's i×j×k (default: memory parallelism over all trainers). */
  layout?: ParallelLayout;
}

export const TEMPORAL_DEFAULTS: TemporalCostOptions = { batchSize: 200, memoryDim: TGN_DEFAULTS.memoryDim, timeDim: TGN_DEFAULTS.timeDim, embeddingDim: TGN_DEFAULTS.embeddingDim, neighbors: TGN_DEFAULTS.neighbors, trainFraction: 0.7, staleness: 0 };

/** TGN's parameters, counted from the module itself (its declared shapes; nothing is allocated). */
export function tgnParams(o: TemporalCostOptions, nodes: number, edgeDim: number): number {
  const model = new Tgn({ ...TGN_DEFAULTS, memoryDim: o.memoryDim, timeDim: o.timeDim, embeddingDim: o.embeddingDim, neighbors: o.neighbors, numNodes: nodes, edgeDim });
  return model.parameterShapes().reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Neighbour-row-wide tensors a TGN batch holds at its peak, pool caching included: measured as the
 * engine's peak bytes less node state and optimizer, over 3·B·K·(memory + time + edge + embedding)
 * floats, on CollegeMsg (first 2,000 events, batch 200: 61.4 MB → 8.5). The plan test checks it at
 * another stream length; bench --only plan at other batch sizes.
 */
export const BATCH_TENSORS = 8.5;

/**
 * Kernel dispatches of one TGN batch: counted on the engine (every StepEncoder dispatch of an epoch on
 * CollegeMsg's first 2,000 and 6,000 events, batch 200, solved for the two kinds of batch): 255 per
 * training batch (forward, backward, memory update, Adam), 76 per evaluation batch. Their number does
 * not depend on the batch's size, only on the model's ops.
 */
const DISPATCHES_PER_BATCH = 255;
const DISPATCHES_PER_EVALUATION = 76;

/** One trainer's epoch: its training steps, then the evaluation of the rest of the stream, batch by batch. */
export function tgnEpochSeconds(stream: EventWorkload, device: DeviceSpec, o: TemporalCostOptions, layout: ParallelLayout): { steps: number; training: number; evaluation: number } {
  const edgeDim = stream.edgeFeatures;
  const mail = 2 * o.memoryDim + edgeDim;
  const B = o.batchSize;
  const rows = 3 * B; // sources, destinations, negatives
  const trainEvents = stream.trainEvents ?? stream.events * o.trainFraction;
  const steps = Math.ceil(trainEvents / (B * layout.batch));
  const update = kernelSeconds(device, 'memory_update', memoryUpdateWork(2 * B, o.memoryDim, mail + o.timeDim));
  const keyWidth = o.memoryDim + edgeDim + o.timeDim;
  const attention = kernelSeconds(device, 'matmul', matmulWork(rows * o.neighbors, keyWidth, 2 * o.embeddingDim)) + kernelSeconds(device, 'matmul', matmulWork(rows, o.memoryDim + o.timeDim, o.embeddingDim));
  const small = kernelSeconds(device, 'elementwise', elementwiseWork((rows * o.embeddingDim) / 4));
  const perBatch = 3 * (update + attention) + DISPATCHES_PER_BATCH * small;
  const perEvaluation = update + attention + DISPATCHES_PER_EVALUATION * small;
  return { steps, training: steps * perBatch, evaluation: Math.ceil(Math.max(0, stream.events - trainEvents) / B) * perEvaluation };
}

export function temporalCost(stream: EventWorkload, workers: number, device: DeviceSpec, link: LinkSpec, options: TemporalCostOptions): WorkerPlan[] {
  const o = options;
  const layout = checkLayout(o.layout ?? { batch: 1, epoch: 1, memory: workers }, workers);
  const edgeDim = stream.edgeFeatures;
  const params = tgnParams(o, stream.nodes, edgeDim);
  const mail = 2 * o.memoryDim + edgeDim;
  const B = o.batchSize;
  const rows = 3 * B; // sources, destinations, negatives
  const memory = emptyMemory();
  memory.node_memory = 4 * stream.nodes * (o.memoryDim + mail) + 8 * stream.nodes; // memory, mailbox, their times
  memory.optimizer = 16 * params;
  memory.features = 4 * stream.events * edgeDim; // event features, resident
  memory.activations = 4 * BATCH_TENSORS * rows * o.neighbors * (o.memoryDim + o.timeDim + edgeDim + o.embeddingDim) * (1 + o.staleness);

  const { steps, training, evaluation } = tgnEpochSeconds(stream, device, o, layout);
  const compute = training + evaluation;
  const logicalBatch = B * layout.batch;

  const ring = workers > 1 ? (2 * (workers - 1)) / workers : 0;
  let sent = steps * ring * 4 * params;
  let messages = steps * 2 * Math.max(0, workers - 1);
  if (layout.batch > 1 || layout.epoch > 1) {
    // Each step's memory and mail rows of the logical batch's nodes: read from their owner before the
    // step and written back after it.
    const unique = stream.uniqueNodesPerBatch?.(logicalBatch) ?? Math.min(stream.nodes, 2 * logicalBatch);
    sent += 2 * steps * unique * (o.memoryDim + mail) * 4;
    messages += steps * 2;
  }
  const communication = workers > 1 ? linkSeconds(link, sent, messages) + messages * device.readback_s : 0;
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
