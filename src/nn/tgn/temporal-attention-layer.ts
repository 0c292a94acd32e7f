// TGN's embedding module: one layer of temporal graph attention (TGAT). A target node's query is its
// memory with φ(0); each of its k most recent neighbours contributes a key and value from its memory,
// the event's features and φ(Δt) (time since that interaction); the heads' output is combined with the
// target's own memory by a linear layer, ReLU and LayerNorm (TGL's TransfomerAttentionLayer; DyGLib's
// TGN also normalises there) — it keeps the embedding's scale steady while memory grows over an epoch.

import { relu } from '../../tensor/ops/activation.ts';
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
   * target [B, memoryDim] with its φ(0) [B, timeDim]; neighbours [B·k, memoryDim + edgeDim + timeDim]
   * (memory ‖ event features ‖ φ(Δt), k rows per target) with mask [B, k] → embeddings [B, outDim].
   */
  forward(target: Tensor, timeZero: Tensor, neighbours: Tensor, mask: Tensor): Tensor {
    const q = this.query.forward(concatColumns([target, timeZero]));
    const attended = temporalAttention(q, this.key.forward(neighbours), this.value.forward(neighbours), mask, this.config.heads);
    return this.norm.forward(relu(this.output.forward(concatColumns([attended, target]))));
  }
}
