// TGN (Rossi et al. 2020) as configured in TGL, as a TemporalModel (src/nn/temporal-model.ts) made of
// replaceable parts (parts.ts): node memory updated by a GRU from the message in each node's mailbox
// ([s_src ‖ s_dst ‖ e], absorbed with φ(Δt)) with "last" aggregation (one slot per node); one layer of
// temporal graph attention over the 10 most recent neighbours (2 heads); an MLP link predictor; BCE.
// The module holds the parameters and a batch's arithmetic; the state (the memory store), the batching,
// staleness and the optimizer live in the engine (src/engines/temporal.ts), which knows no TGN layer.

import { fromArray, zeros } from '../../tensor/create.ts';
import { binaryCrossEntropyWithLogits } from '../../tensor/ops/binary-cross-entropy.ts';
import { add, ones } from '../../tensor/ops/elementwise.ts';
import { concatColumns, sliceRows } from '../../tensor/ops/layout.ts';
import { gatherRows } from '../../tensor/ops/rows.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { TemporalModel, type BatchMemory, type TemporalBatch, type TemporalBatchOutput, type TemporalMemoryUpdate } from '../temporal-model.ts';
import { GRUCell } from './gru-cell.ts';
import { LinkPredictor } from './link-predictor.ts';
import { IdentityMessage, LastMessageAggregator, type LinkScorer, type MemoryUpdater, type MessageAggregator, type MessageFunction, type TemporalEmbedding } from './parts.ts';
import { TemporalAttentionLayer } from './temporal-attention-layer.ts';
import { TimeEncoder } from './time-encoder.ts';

export interface TgnConfig {
  numNodes: number;
  edgeDim: number;
  memoryDim: number;
  timeDim: number;
  embeddingDim: number;
  heads: number;
  /** Neighbours attended per node. */
  neighbors: number;
}

export const TGN_DEFAULTS = { memoryDim: 100, timeDim: 100, embeddingDim: 100, heads: 2, neighbors: 10 } as const;

/** Parts that replace TGN's defaults (each built from the config when not given). */
export interface TgnParts {
  /** φ(Δt), shared by the memory updater's input and the embedding's. */
  time: TimeEncoder;
  /** Built for input [mail ‖ φ] of mailDim + timeDim columns (mailDim from the message function). */
  updater: MemoryUpdater;
  message: MessageFunction;
  aggregator: MessageAggregator;
  embedding: TemporalEmbedding;
  predictor: LinkScorer;
}

export class Tgn extends TemporalModel {
  readonly time: TimeEncoder;
  readonly message: MessageFunction;
  readonly aggregator: MessageAggregator;
  readonly updater: MemoryUpdater;
  readonly embedding: TemporalEmbedding;
  readonly predictor: LinkScorer;

  constructor(
    readonly config: TgnConfig,
    parts: Partial<TgnParts> = {},
  ) {
    super();
    const { edgeDim, memoryDim, timeDim, embeddingDim, heads } = config;
    // Names as TGL's (and earlier webgnn checkpoints'): parameters keep their dotted names.
    this.time = this.declareModule('time_encoder', parts.time ?? new TimeEncoder(timeDim));
    this.message = this.declareModule('message_function', parts.message ?? new IdentityMessage(memoryDim, edgeDim));
    this.aggregator = this.declareModule('message_aggregator', parts.aggregator ?? new LastMessageAggregator());
    this.updater = this.declareModule('memory_updater', parts.updater ?? new GRUCell(this.message.dim + timeDim, memoryDim));
    this.embedding = this.declareModule('embedding', parts.embedding ?? new TemporalAttentionLayer({ memoryDim, edgeDim, timeDim, outDim: embeddingDim, heads }));
    this.predictor = this.declareModule('edge_predictor', parts.predictor ?? new LinkPredictor(embeddingDim));
  }

  get memoryDim(): number {
    return this.config.memoryDim;
  }

  /** A message's width (both endpoints' memories and the event's features for TGN's identity message). */
  get mailDim(): number {
    return this.message.dim;
  }

  get edgeDim(): number {
    return this.config.edgeDim;
  }

  get neighbours(): number {
    return this.config.neighbors;
  }

  /** The old name of `embedding`. */
  get attention(): TemporalEmbedding {
    return this.embedding;
  }

  forwardBatch(batch: TemporalBatch, fetched: BatchMemory): TemporalBatchOutput {
    const { gpu } = batch;
    // The memory of every touched node after absorbing its mailbox (φ of the time since its memory).
    const mailInput = concatColumns([fetched.mail, this.time.forward(fromArray(gpu, fetched.sinceMemory, [batch.nodes.length]))]);
    const updated = this.updater.forward(mailInput, fetched.memory);
    // DistTGL's static memory joins the dynamic memory for the embedding only: what is stored is `updated`.
    const nodeMemory = batch.staticMemory ? add(updated, batch.staticMemory) : updated;
    return { ...scoreBatch(batch, nodeMemory, this), memory: updated };
  }

  /** BCE of the events as positives and their negatives as negatives (summed, as TGL). */
  loss(positive: Tensor, negative: Tensor): Tensor {
    return linkLoss(positive, negative);
  }

  /** Each positive endpoint's updated memory, and its message (own memory, the other's, the event's features) through the aggregator. */
  memoryUpdate(batch: TemporalBatch, output: TemporalBatchOutput): TemporalMemoryUpdate {
    const { gpu, endpoints } = batch;
    const n = endpoints.nodes.length;
    const own = gatherRows(output.memory, fromArray(gpu, endpoints.own, [n], { dtype: 'u32' }));
    const other = gatherRows(output.memory, fromArray(gpu, endpoints.other, [n], { dtype: 'u32' }));
    const edges = batch.edgeFeatures ? gatherRows(batch.edgeFeatures, fromArray(gpu, endpoints.events, [n], { dtype: 'u32' })) : null;
    const { entries, messages } = this.aggregator.forward(endpoints.nodes, this.message.forward(own, other, edges));
    const memory = entries ? gatherRows(own, fromArray(gpu, Uint32Array.from(entries), [entries.length], { dtype: 'u32' })) : own;
    return { entries, memory, mail: messages };
  }

  checkpointConfig(): Record<string, unknown> {
    return { tgn: { ...this.config } };
  }
}

/** BCE of the events as positives and their negatives as negatives (summed, as TGL). */
export function linkLoss(positive: Tensor, negative: Tensor): Tensor {
  const B = positive.rows;
  return add(binaryCrossEntropyWithLogits(positive, ones(positive.gpu, [B])), binaryCrossEntropyWithLogits(negative, zeros(positive.gpu, [B])));
}

/**
 * TGN's scoring of a batch from a memory row per touched node [nodes.length, memoryDim]: temporal
 * attention of the 3B roots over their neighbours (time-encoded, with event features), then the link
 * predictor on (source, destination) and (source, negative), and the parts' loss.
 */
export function scoreBatch(
  batch: TemporalBatch,
  nodeMemory: Tensor,
  parts: { time: TimeEncoder; embedding: TemporalEmbedding; predictor: LinkScorer; loss(positive: Tensor, negative: Tensor): Tensor },
): { positive: Tensor; negative: Tensor; loss: Tensor } {
  const { gpu, size: B, neighbours: nb } = batch;
  const K = nb.k;
  const rootMemory = batch.selectRoots(nodeMemory);
  const edges = batch.edgeFeatures ? gatherRows(batch.edgeFeatures, fromArray(gpu, Uint32Array.from(nb.eventIds), [nb.eventIds.length], { dtype: 'u32' })) : null;
  const time = parts.time.forward(fromArray(gpu, batch.neighbourDt, [batch.neighbourDt.length]));
  const h = parts.embedding.forward(
    rootMemory,
    parts.time.forward(zeros(gpu, [3 * B])),
    { memory: nodeMemory, select: (rows) => batch.selectNeighbours(rows), edges, time },
    fromArray(gpu, nb.mask, [3 * B, K]),
  );
  const hSrc = sliceRows(h, 0, B);
  const positive = parts.predictor.forward(hSrc, sliceRows(h, B, B));
  const negative = parts.predictor.forward(hSrc, sliceRows(h, 2 * B, B));
  return { positive, negative, loss: parts.loss(positive, negative) };
}
