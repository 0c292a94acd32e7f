// The two-layer node classifiers of the literature, in PyG's example form:
//   x → dropout → conv₁ → ReLU → dropout → conv₂ → logits.
// `kind` picks the convolution; the same skeleton serves GCN and GraphSAGE.

import { relu } from '../../tensor/ops/activation.ts';
import { dropout } from '../../tensor/ops/dropout.ts';
import { RNG_STREAM } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { GCNConv } from '../gcn-conv.ts';
import type { GraphInput } from '../graph-input.ts';
import { Module, type ForwardContext } from '../module.ts';
import { SAGEConv } from '../sage-conv.ts';

export type NodeModelKind = 'gcn' | 'sage';

export interface NodeModelConfig {
  kind: NodeModelKind;
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  dropout: number;
}

type Conv = GCNConv | SAGEConv;

function makeConv(kind: NodeModelKind, inChannels: number, outChannels: number): Conv {
  return kind === 'gcn' ? new GCNConv(inChannels, outChannels) : new SAGEConv(inChannels, outChannels);
}

export class NodeClassifier extends Module {
  readonly conv1: Conv;
  readonly conv2: Conv;

  constructor(readonly config: NodeModelConfig) {
    super();
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${config.dropout}`);
    this.conv1 = this.declareModule('conv1', makeConv(config.kind, config.inChannels, config.hiddenChannels));
    this.conv2 = this.declareModule('conv2', makeConv(config.kind, config.hiddenChannels, config.outChannels));
  }

  forward(x: Tensor, graph: GraphInput, ctx: ForwardContext): Tensor {
    const drop = (t: Tensor, layer: number) =>
      ctx.training && this.config.dropout > 0
        ? dropout(t, { p: this.config.dropout, seed: ctx.seed, stream: RNG_STREAM.dropout + layer, step: ctx.step, rowOffset: ctx.rowOffset ?? 0 })
        : t;
    const h = relu(this.conv1.forward(drop(x, 0), graph));
    return this.conv2.forward(drop(h, 1), graph);
  }

  /** Parameters of the first layer: Kipf & Welling apply weight decay to these only. */
  firstLayerParameters(): Tensor[] {
    return this.conv1.parameters();
  }
}
