// The cost of one GNNPipe epoch on each stage (engines/pipe/: fill and drain over C chunks, the
// forward recomputed before each chunk's backward, whole-graph historical buffers per aggregation,
// an exact whole-graph evaluation every E epochs). No partition: a stage holds the whole graph's
// structure and historical rows for its layers, and sends only the boundary between its layers.

import { attentionWork, elementwiseWork, kernelSeconds, linkSeconds, spmmWork, type DeviceSpec, type LinkSpec } from './device-profile.ts';
import type { BlockCost, ModelCost } from './model-cost.ts';
import { lossFloats } from './model-cost.ts';
import { emptyMemory, totalMemory, type WorkerPlan } from './plan-types.ts';
import { sparseMatrixBytes } from './sar-cost.ts';
import type { GraphWorkload } from './workload.ts';

export interface PipeCostOptions {
  /** Chunks per epoch (default 4 per stage, as GNNPipe). */
  chunks: number;
  recompute: boolean;
  /** Historical embeddings restored from a snapshot every K epochs (K > 1 keeps one more copy). */
  snapshotPeriod: number;
  /** Exact evaluation every E epochs: its traffic and time are spread over the E epochs. */
  evalEvery: number;
  /** Blocks [first, end) of each stage, as a run reports them; by default sized by estimated time. */
  stages?: Array<[number, number]>;
}

export const PIPE_DEFAULTS = { snapshotPeriod: 23, evalEvery: 1, recompute: true } as const;

/** Contiguous stages over the blocks with parameters (parameter-free blocks go with the layer after them),
 * sized so that the slowest stage's estimated time is as small as it can be (as stage-plan.ts does). */
export function stageRanges(blocks: BlockCost[], stages: number, cost: (b: BlockCost) => number): Array<[number, number]> {
  // Units: runs of blocks ending at a block with parameters.
  const units: Array<[number, number]> = [];
  let start = 0;
  blocks.forEach((b, i) => {
    if (b.params > 0) {
      units.push([start, i + 1]);
      start = i + 1;
    }
  });
  if (start < blocks.length) units[units.length - 1][1] = blocks.length;
  if (stages > units.length) throw new RangeError(`plan --mode pipe: ${stages} stages but the model has ${units.length} layers (blocks with parameters)`);
  const unitCost = units.map(([a, b]) => blocks.slice(a, b).reduce((s, x) => s + cost(x), 0));
  // Linear partition by dynamic programming.
  const U = units.length;
  const prefix = [0];
  for (const c of unitCost) prefix.push(prefix[prefix.length - 1] + c);
  const best: number[][] = Array.from({ length: stages + 1 }, () => new Array(U + 1).fill(Infinity));
  const cut: number[][] = Array.from({ length: stages + 1 }, () => new Array(U + 1).fill(0));
  best[0][0] = 0;
  for (let s = 1; s <= stages; s++) {
    for (let u = s; u <= U; u++) {
      for (let v = s - 1; v < u; v++) {
        const c = Math.max(best[s - 1][v], prefix[u] - prefix[v]);
        if (c < best[s][u]) {
          best[s][u] = c;
          cut[s][u] = v;
        }
      }
    }
  }
  const ranges: Array<[number, number]> = [];
  let u = U;
  for (let s = stages; s >= 1; s--) {
    const v = cut[s][u];
    ranges.unshift([units[v][0], units[u - 1][1]]);
    u = v;
  }
  return ranges;
}

function blockSeconds(b: BlockCost, rows: number, nnzPerRow: number, device: DeviceSpec): { forward: number; backward: number } {
  let forward = 0;
  let backward = 0;
  if (b.flopsPerRow) {
    const t = kernelSeconds(device, 'matmul', b.flopsPerRow * rows);
    forward += t;
    backward += 2 * t;
  }
  if (b.elementwiseFloats) {
    const t = b.dispatches * kernelSeconds(device, 'elementwise', elementwiseWork((b.elementwiseFloats * rows) / b.dispatches));
    forward += t;
    if (b.backwardFloats > 0) backward += t;
  }
  for (const a of b.aggregations) {
    const nnz = rows * nnzPerRow;
    // Inner block and the rest (historical rows): two products per pass.
    const t =
      a.kind === 'attention'
        ? kernelSeconds(device, 'attention', attentionWork(rows, nnz, a.heads ?? 1, a.width / (a.heads ?? 1)))
        : kernelSeconds(device, 'spmm', spmmWork(rows, nnz, a.width)) + kernelSeconds(device, 'spmm', spmmWork(rows, 0, a.width));
    forward += t;
    backward += t;
  }
  return { forward, backward };
}

export function pipeCost(graph: GraphWorkload, model: ModelCost, stages: number, device: DeviceSpec, link: LinkSpec, given: Partial<PipeCostOptions>, colocated = false): { plans: WorkerPlan[]; source: string } {
  const options: PipeCostOptions = { chunks: given.chunks ?? 4 * stages, recompute: given.recompute ?? PIPE_DEFAULTS.recompute, snapshotPeriod: given.snapshotPeriod ?? PIPE_DEFAULTS.snapshotPeriod, evalEvery: given.evalEvery ?? PIPE_DEFAULTS.evalEvery };
  const n = graph.nodes;
  const nnzPerRow = (graph.nnz + n) / n;
  const C = options.chunks;
  const chunkRows = n / C;
  const ranges = given.stages ?? stageRanges(model.blocks, stages, (b) => {
    const t = blockSeconds(b, n, nnzPerRow, device);
    return t.forward + t.backward;
  });
  const evalShare = 1 / options.evalEvery;
  const perStage = ranges.map(([first, end], stage): { plan: Omit<WorkerPlan, 'compute_s' | 'overlap_s' | 'epoch_s'>; chunkForward: number; chunkBackward: number; evaluation: number } => {
    const blocks = model.blocks.slice(first, end);
    const params = blocks.reduce((s, b) => s + b.params, 0);
    const inWidth = stage === 0 ? graph.features : model.blocks[first - 1].outWidth;
    const outWidth = blocks[blocks.length - 1].outWidth;
    const last = stage === stages - 1;
    const memory = emptyMemory();
    const aggregations = blocks.flatMap((b) => b.aggregations);
    if (aggregations.length) {
      // Every chunk's inner and rest blocks (together the whole graph once), and the whole graph for exact passes.
      memory.graph = 2 * sparseMatrixBytes(n, n, graph.nnz + n);
    }
    if (stage === 0) memory.features = 4 * n * graph.features;
    memory.other = 4 * n * (last ? 3 : 0); // labels and split lists on the last stage
    memory.optimizer = 16 * params;
    // Historical embeddings and gradients per aggregation (whole graph), and the snapshot when K > 1.
    const historyRows = aggregations.reduce((s, a) => s + a.width, 0);
    if (stages > 1) memory.remote_rows = 4 * n * historyRows * (2 + (options.snapshotPeriod > 1 ? 1 : 0));
    const train = blocks.reduce((s, b) => s + b.trainFloats + b.backwardFloats, 0) + (last ? lossFloats(graph.classes) : 0);
    // Training: every chunk's input kept for its backward; with recompute also each chunk's historical
    // aggregation parts (its recomputed forward must read the same rows: the whole graph's, once) and one
    // chunk's tape at a time; without, every chunk's tape.
    const keptParts = stages > 1 && options.recompute ? 4 * n * historyRows : 0;
    const trainPhase = 4 * n * inWidth + (options.recompute ? keptParts + 4 * chunkRows * train : 4 * n * train);
    // The exact evaluation: the whole graph's input, one block's tensors at a time, and the readback
    // buffer its output is sent from (the device's staging buffers come from the same pool).
    const evalPhase = 4 * n * inWidth + 4 * n * Math.max(...blocks.map((b) => b.evalFloats)) + 4 * n * (last ? lossFloats(graph.classes) : outWidth);
    if (trainPhase >= evalPhase) {
      memory.remote_rows += keptParts;
      memory.activations = trainPhase - keptParts;
    } else {
      memory.activations = evalPhase;
    }

    const times = blocks.map((b) => blockSeconds(b, chunkRows, nnzPerRow, device));
    const chunkForward = times.reduce((s, t) => s + t.forward, 0);
    const chunkBackward = times.reduce((s, t) => s + t.backward, 0) + (options.recompute ? chunkForward : 0);
    const evalTime = blocks.map((b) => blockSeconds(b, n, nnzPerRow, device).forward).reduce((s, t) => s + t, 0);

    // Forward: every chunk's output to the next stage; backward: the input gradient to the previous one.
    const sent = (last ? 0 : 4 * n * outWidth * (1 + evalShare)) + (stage > 0 ? 4 * n * inWidth : 0);
    const received = (stage > 0 ? 4 * n * inWidth * (1 + evalShare) : 0) + (last ? 0 : 4 * n * outWidth);
    const messages = (last ? 0 : C + evalShare) + (stage > 0 ? C : 0);
    // Every tensor sent is read back first; every one received is uploaded.
    const messageCost = messages * (device.readback_s + device.dispatch_s) + (stage > 0 ? C : 0) * device.dispatch_s;
    const communication = stages > 1 ? linkSeconds(link, Math.max(sent, received), messages) : 0;
    return {
      plan: { worker: stage, memory, peak_bytes: totalMemory(memory), bytes_sent_per_epoch: sent, bytes_received_per_epoch: received, messages_per_epoch: messages, communication_s: communication },
      // The messages' read-backs and uploads are spread over the chunks' passes.
      chunkForward: chunkForward + messageCost / (2 * C),
      chunkBackward: chunkBackward + messageCost / (2 * C),
      evaluation: evalShare * evalTime,
    };
  });
  // Fill and drain: each phase takes (C + P − 1) steps of its slowest stage; transfers overlap other chunks' compute.
  const slowForward = Math.max(...perStage.map((s) => s.chunkForward));
  const slowBackward = Math.max(...perStage.map((s) => s.chunkBackward));
  // On one shared processor the stages cannot overlap: every stage's chunks one after another.
  const pipelined = colocated ? perStage.reduce((s, x) => s + C * (x.chunkForward + x.chunkBackward), 0) : (C + stages - 1) * (slowForward + slowBackward);
  // The exact evaluation runs stage after stage: its time adds up over the stages.
  const evaluation = perStage.reduce((s, x) => s + x.evaluation, 0);
  const plans = perStage.map(({ plan }): WorkerPlan => {
    const overlap = Math.min((plan.communication_s * (C - 1)) / C, pipelined); // all but one chunk's transfer hides behind another chunk's compute
    return { ...plan, compute_s: pipelined + evaluation, overlap_s: overlap, epoch_s: pipelined + evaluation + plan.communication_s - overlap };
  });
  return { plans, source: `pipeline: ${stages} stages over ${C} chunks (no partition; whole-graph structure on every stage)` };
}
