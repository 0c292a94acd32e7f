// The contract between a memory-based temporal model (TGN and its variants) and the engine that
// schedules it (src/engines/temporal.ts). The engine owns everything that is not the model's
// arithmetic: batches in time order, negative and neighbour sampling, the node memory store (on the
// device or in host RAM), MSPipe's staleness and its mitigation, the optimizer, readbacks, metrics and
// checkpoints. The model owns its parameters and two steps of each batch:
//
//   forwardBatch(batch, memory) → logits of (src, dst) and (src, negative), the loss, and the updated
//       memory of the batch's distinct nodes (from the memory and mailbox rows the engine fetched);
//   memoryUpdate(batch, output) → what the batch's positive endpoints write back: their new memory
//       rows and their new mailbox messages (detached by the engine: memory is not a parameter).
//
// The engine records the backward pass and the optimizer step between the two. A model of one's own
// implements this class (any Module tree); TGN (src/nn/tgn/tgn.ts) implements it from replaceable parts.

import type { Gpu } from '../gpu/gpu.ts';
import type { TemporalNeighbors } from '../graph/temporal-csr.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';

/**
 * One batch of B events as the engine prepared it (CPU work done; nothing recorded yet). Rows of the
 * batch's node tensors are the distinct nodes it touches (`nodes`, padded); roots are the B sources,
 * the B destinations and the B negatives, in that order (3B), each with k neighbour slots.
 */
export interface TemporalBatch {
  readonly gpu: Gpu;
  /** Events (ids into the stream), in time order. */
  readonly events: Int32Array;
  /** B. */
  readonly size: number;
  /** Whether this batch trains (false: evaluation, recorded without autograd). */
  readonly training: boolean;
  /** 3B roots: sources, destinations, negatives; with their query time (the event's time). */
  readonly roots: Int32Array;
  readonly rootTimes: Float64Array;
  /** The k sampled neighbours of every root (3B × k slots, row-major), strictly before its time. */
  readonly neighbours: TemporalNeighbors;
  /** Per neighbour slot: root time − the neighbour event's time (0 where the slot is empty). */
  readonly neighbourDt: Float32Array;
  /** Distinct nodes the batch touches (roots, then neighbours; padded with node 0), and how many are real. */
  readonly nodes: Int32Array;
  readonly distinct: number;
  /** Per root, then per neighbour slot: its row among `nodes`. */
  readonly index: Int32Array;
  /**
   * Rows of a per-node tensor [nodes.length, c] for the 3B roots → [3B, c], and for the 3B·k neighbour
   * slots → [3B·k, c]; differentiable (0/1 selection SpMMs: a row used many times sums its gradient
   * in a fixed order, without atomics).
   */
  selectRoots(rows: Tensor): Tensor;
  selectNeighbours(rows: Tensor): Tensor;
  /**
   * Rows of a per-node table [numNodes, c] (a parameter, say) for the batch's `nodes` → [nodes.length, c];
   * differentiable (a selection SpMM: the table's gradient sums over the rows picked).
   */
  selectNodes(table: Tensor): Tensor;
  /** The stream's event features [numEvents, edgeDim] on the device, or null when it has none. */
  readonly edgeFeatures: Tensor | null;
  /**
   * Static node memory for the batch's `nodes` [nodes.length, memoryDim], when the run has a table of it
   * (DistTGL's --static-memory): fixed, added to the dynamic memory before the embedding; never stored.
   */
  readonly staticMemory: Tensor | null;
  /**
   * The batch's 2B positive endpoints in event order (source then destination of each event): the node,
   * its own row among `nodes`, the other endpoint's row, and the event. Later entries win a node's write.
   */
  readonly endpoints: { nodes: Uint32Array; own: Uint32Array; other: Uint32Array; events: Uint32Array };
}

/** What the engine fetched for the batch's distinct nodes (rows as `batch.nodes`). */
export interface BatchMemory {
  /** Node memory [nodes.length, memoryDim] (stale rows already blended by the engine's mitigation). */
  memory: Tensor;
  /** Mailbox [nodes.length, mailDim]: each node's last message not yet absorbed. */
  mail: Tensor;
  /** Per row: the message's time minus the memory's time (what a time encoding of the mail sees). */
  sinceMemory: Float32Array;
}

export interface TemporalBatchOutput {
  /** Logits of the B events [B, 1] and of their B negatives [B, 1]. */
  positive: Tensor;
  negative: Tensor;
  /** The scalar the engine differentiates when training [1]. */
  loss: Tensor;
  /** Memory of the batch's distinct nodes after absorbing their mail [nodes.length, memoryDim]. */
  memory: Tensor;
}

/** A batch's writes: rows for some of `batch.endpoints` (all of them in order when `entries` is null). */
export interface TemporalMemoryUpdate {
  /** Which endpoint entries the rows are for (ascending: later entries win); null: all 2B in order. */
  entries: Int32Array | null;
  /** New memory rows [n, memoryDim] and new mailbox messages [n, mailDim]. */
  memory: Tensor;
  mail: Tensor;
}

export abstract class TemporalModel extends Module {
  /** Width of a node's memory row. */
  abstract readonly memoryDim: number;
  /** Width of a mailbox message. */
  abstract readonly mailDim: number;
  /** Event features per event the model expects (the stream's edgeDim; 0 for none). */
  abstract readonly edgeDim: number;
  /** Neighbour slots the engine samples per root (0: none). */
  abstract readonly neighbours: number;

  /** Memory update, embeddings, logits and loss of one batch (recorded on the device). */
  abstract forwardBatch(batch: TemporalBatch, memory: BatchMemory): TemporalBatchOutput;

  /** What the batch's positive endpoints write back, after the optimizer step. */
  abstract memoryUpdate(batch: TemporalBatch, output: TemporalBatchOutput): TemporalMemoryUpdate;

  /** The model's configuration as a checkpoint keeps it (under `config`), e.g. `{ tgn: {...} }`. */
  abstract checkpointConfig(): Record<string, unknown>;
}
