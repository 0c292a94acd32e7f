// TGN's embedding module: one layer of temporal graph attention (TGAT). A target node's query is its
// memory with φ(0); each of its k most recent neighbours contributes a key and value from its memory,
// the event's features and φ(Δt) (time since that interaction); the heads' output is combined with the
// target's own memory by a linear layer, ReLU and LayerNorm (TGL's TransfomerAttentionLayer; DyGLib's
// TGN also normalises there) — it keeps the embedding's scale steady while memory grows over an epoch.

import { relu } from '../../tensor/ops/activation.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import { concatColumns } from '../../tensor/ops/layout.ts';
import { temporalAttention } from '../../tensor/ops/temporal-attention.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { LayerNorm } from '../layer-norm.ts';
import { Linear } from '../linear.ts';
import { Module } from '../module.ts';

export interface TemporalAttentionConfig {
  memoryDim: number;
  edgeDim: number;
  timeDim: number;
  /** Output (embedding) size, split over the heads. */
  outDim: number;
  heads: number;
}

/** What the neighbour slots (k per target) attend over, given by parts. */
export interface NeighbourInputs {
  /** Memory of the batch's distinct nodes [U, memoryDim]. */
  memory: Tensor;
  /** Picks each slot's row: [U, c] → [B·k, c] (a selection SpMM, so gradients sum back in a fixed order). */
  select: (rows: Tensor) => Tensor;
  /** Per slot: the event's features [B·k, edgeDim] (null when edgeDim is 0) and φ(Δt) [B·k, timeDim]. */
  edges: Tensor | null;
  time: Tensor;
}

export class TemporalAttentionLayer extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  readonly norm: LayerNorm;

  constructor(readonly config: TemporalAttentionConfig) {
    super();
    const { memoryDim, edgeDim, timeDim, outDim, heads } = config;
    if (outDim % heads !== 0) throw new RangeError(`TemporalAttentionLayer: outDim ${outDim} must be a multiple of heads ${heads}`);
    this.query = this.declareModule('w_q', new Linear(memoryDim + timeDim, outDim, false));
    this.key = this.declareModule('w_k', new Linear(memoryDim + edgeDim + timeDim, outDim, false));
    this.value = this.declareModule('w_v', new Linear(memoryDim + edgeDim + timeDim, outDim, false));
    this.output = this.declareModule('w_out', new Linear(outDim + memoryDim, outDim, true));
    this.norm = this.declareModule('layer_norm', new LayerNorm(outDim));
  }

  /**
   * target [B, memoryDim] with its φ(0) [B, timeDim]; the neighbours' inputs, k slots per target, and
   * mask [B, k] → embeddings [B, outDim].
   */
  forward(target: Tensor, timeZero: Tensor, neighbours: NeighbourInputs, mask: Tensor): Tensor {
    const q = this.query.forward(concatColumns([target, timeZero]));
    const attended = temporalAttention(q, this.projectNeighbours(this.key, neighbours), this.projectNeighbours(this.value, neighbours), mask, this.config.heads);
    return this.norm.forward(relu(this.output.forward(concatColumns([attended, target]))));
  }

  /**
   * [memory ‖ event features ‖ φ(Δt)]·W per slot, part by part: the memory part is projected on the batch's
   * distinct nodes and then selected, so B·k slots (6000 in a CollegeMsg batch) cost U rows (about 500).
   */
  private projectNeighbours(linear: Linear, n: NeighbourInputs): Tensor {
    const { memoryDim: m, edgeDim: e, timeDim: t } = this.config;
    let sum = add(n.select(linear.projectPart(n.memory, 0, m)), linear.projectPart(n.time, m + e, t));
    if (e) {
      if (!n.edges) throw new RangeError(`TemporalAttentionLayer: edgeDim ${e} but no event features given`);
      sum = add(sum, linear.projectPart(n.edges, m, e));
    }
    return sum;
  }
}
