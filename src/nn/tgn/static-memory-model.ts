// DistTGL's static node memory, phase one: a table of one learnable row per node, trained on the same
// task (link prediction on the training events) with TGN's embedding and predictor but no dynamic memory
// — "static information only". Its table, once trained, is the static memory phase two adds to TGN's
// dynamic memory before the embedding (TemporalBatch.staticMemory). As the authors concede (their issue
// #3), the table has seen the training events' future, though never validation or test events.
//
// It is an ordinary TemporalModel, so the sequential engine trains it; the engine's node memory is kept
// but unused (this model writes back its own rows, detached, and reads none).

import { fromArray, zeros } from '../../tensor/create.ts';
import { gatherRows } from '../../tensor/ops/rows.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { TemporalModel, type BatchMemory, type TemporalBatch, type TemporalBatchOutput, type TemporalMemoryUpdate } from '../temporal-model.ts';
import { LinkPredictor } from './link-predictor.ts';
import { TemporalAttentionLayer } from './temporal-attention-layer.ts';
import { TimeEncoder } from './time-encoder.ts';
import { linkLoss, scoreBatch, type TgnConfig } from './tgn.ts';

/** Columns of the (unused) mailbox this model asks the engine for: the least a store holds. */
const MAIL_DIM = 1;

export class StaticMemoryModel extends TemporalModel {
  readonly time: TimeEncoder;
  readonly embedding: TemporalAttentionLayer;
  readonly predictor: LinkPredictor;

  constructor(readonly config: TgnConfig) {
    super();
    const { numNodes, memoryDim, edgeDim, timeDim, embeddingDim, heads } = config;
    // Small initial rows (glorot over [numNodes, memoryDim]); the names match TGN's parts.
    this.declareParameter('static_memory', [numNodes, memoryDim], 'glorot');
    this.time = this.declareModule('time_encoder', new TimeEncoder(timeDim));
    this.embedding = this.declareModule('embedding', new TemporalAttentionLayer({ memoryDim, edgeDim, timeDim, outDim: embeddingDim, heads }));
    this.predictor = this.declareModule('edge_predictor', new LinkPredictor(embeddingDim));
  }

  get memoryDim(): number {
    return this.config.memoryDim;
  }

  get mailDim(): number {
    return MAIL_DIM;
  }

  get edgeDim(): number {
    return this.config.edgeDim;
  }

  get neighbours(): number {
    return this.config.neighbors;
  }

  /** The learned table [numNodes, memoryDim]. */
  get table(): Tensor {
    return this.parameter('static_memory');
  }

  forwardBatch(batch: TemporalBatch, _fetched: BatchMemory): TemporalBatchOutput {
    const rows = batch.selectNodes(this.table);
    return { ...scoreBatch(batch, rows, this), memory: rows };
  }

  loss(positive: Tensor, negative: Tensor): Tensor {
    return linkLoss(positive, negative);
  }

  /** Its own rows for the positive endpoints (the engine's store must be written; nothing reads it). */
  memoryUpdate(batch: TemporalBatch, output: TemporalBatchOutput): TemporalMemoryUpdate {
    const n = batch.endpoints.nodes.length;
    const memory = gatherRows(output.memory, fromArray(batch.gpu, batch.endpoints.own, [n], { dtype: 'u32' }));
    return { entries: null, memory, mail: zeros(batch.gpu, [n, MAIL_DIM]) };
  }

  checkpointConfig(): Record<string, unknown> {
    return { staticMemory: { ...this.config } };
  }
}
