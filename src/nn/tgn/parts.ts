// TGN's replaceable parts, each a Module with the one method TGN calls (the defaults are TGL's TGN):
//   MemoryUpdater     s' = f([mail ‖ φ(Δt)], s)                   GRUCell (gru-cell.ts)
//   MessageFunction   mail = f(s_own, s_other, e)                  IdentityMessage: [s_own ‖ s_other ‖ e]
//   MessageAggregator which of a batch's messages reach a mailbox  LastMessageAggregator: the last per node
//   TemporalEmbedding h = f(memory, neighbours, φ)                 TemporalAttentionLayer (temporal-attention-layer.ts)
//   LinkScorer        logit = f(h_src, h_dst)                      LinkPredictor (link-predictor.ts)
// Give another Module with the same method to `new Tgn(config, { predictor: … })` to replace one.

import { concatColumns } from '../../tensor/ops/layout.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import type { NeighbourInputs } from './temporal-attention-layer.ts';

export interface MemoryUpdater extends Module {
  /** input [n, mailDim + timeDim] (the mail and φ of its age), memory [n, memoryDim] → new memory [n, memoryDim]. */
  forward(input: Tensor, memory: Tensor): Tensor;
}

export interface MessageFunction extends Module {
  /** Width of a message (the mailbox's row). */
  readonly dim: number;
  /**
   * A node's message from an event: its own updated memory [n, memoryDim], the other endpoint's
   * [n, memoryDim] and the event's features [n, edgeDim] (null without features) → [n, dim].
   */
  forward(own: Tensor, other: Tensor, edges: Tensor | null): Tensor;
}

export interface MessageAggregator extends Module {
  /**
   * The messages of a batch's endpoints ([2B, mailDim], in event order, for `nodes`) → the rows that
   * go to the mailboxes, with the endpoint entry each row is for (ascending; null: every entry in order,
   * and the store keeps the last write per node).
   */
  forward(nodes: Uint32Array, messages: Tensor): { entries: Int32Array | null; messages: Tensor };
}

export interface TemporalEmbedding extends Module {
  /**
   * Embeddings of the targets: their memory [n, memoryDim] with φ(0) [n, timeDim], the inputs of their
   * k neighbour slots each, and the slots' mask [n, k] → [n, embeddingDim].
   */
  forward(target: Tensor, timeZero: Tensor, neighbours: NeighbourInputs, mask: Tensor): Tensor;
}

export interface LinkScorer extends Module {
  /** hSrc, hDst [n, embeddingDim] → logits [n, 1]. */
  forward(hSrc: Tensor, hDst: Tensor): Tensor;
}

/** TGN's identity message [s_own ‖ s_other ‖ e] (the time encoding is added when the mail is absorbed). */
export class IdentityMessage extends Module implements MessageFunction {
  readonly dim: number;

  constructor(
    readonly memoryDim: number,
    readonly edgeDim: number,
  ) {
    super();
    this.dim = 2 * memoryDim + edgeDim;
  }

  forward(own: Tensor, other: Tensor, edges: Tensor | null): Tensor {
    return concatColumns(edges ? [own, other, edges] : [own, other]);
  }
}

/** TGN's "last" aggregation: one mailbox slot per node, the batch's last message wins (the store writes in event order). */
export class LastMessageAggregator extends Module implements MessageAggregator {
  forward(_nodes: Uint32Array, messages: Tensor): { entries: Int32Array | null; messages: Tensor } {
    return { entries: null, messages };
  }
}
