// TGN (Rossi et al. 2020) as configured in TGL: node memory updated by a GRU from the message in each
// node's mailbox, [s_src ‖ s_dst ‖ φ(Δt) ‖ e] with "last" aggregation (one slot per node); one layer of
// temporal graph attention over the 10 most recent neighbours (2 heads); an MLP link predictor.
// The module holds the parameters; the state (NodeMemory) and the batch logic live in the engine.

import { Module } from '../module.ts';
import { GRUCell } from './gru-cell.ts';
import { LinkPredictor } from './link-predictor.ts';
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

export class Tgn extends Module {
  readonly time: TimeEncoder;
  readonly updater: GRUCell;
  readonly attention: TemporalAttentionLayer;
  readonly predictor: LinkPredictor;

  constructor(readonly config: TgnConfig) {
    super();
    const { edgeDim, memoryDim, timeDim, embeddingDim, heads } = config;
    this.time = this.declareModule('time_encoder', new TimeEncoder(timeDim));
    this.updater = this.declareModule('memory_updater', new GRUCell(this.mailDim + timeDim, memoryDim));
    this.attention = this.declareModule('embedding', new TemporalAttentionLayer({ memoryDim, edgeDim, timeDim, outDim: embeddingDim, heads }));
    this.predictor = this.declareModule('edge_predictor', new LinkPredictor(embeddingDim));
  }

  /** A message: both endpoints' memories and the event's features (φ(Δt) is added when it is absorbed). */
  get mailDim(): number {
    return 2 * this.config.memoryDim + this.config.edgeDim;
  }
}
