// The two-layer node classifiers of the literature, in PyG's example form:
//   x → dropout → conv₁ → ReLU (ELU for GAT) → dropout → conv₂ → logits.
// `kind` picks the convolution; the same skeleton serves GCN, GraphSAGE and GAT (Veličković et al.:
// `heads` concatenated heads in the hidden layer, one averaged head out, attention dropout = dropout).

import { elu, relu } from '../../tensor/ops/activation.ts';
import { dropout } from '../../tensor/ops/dropout.ts';
import { RNG_STREAM } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { GATConv } from '../gat-conv.ts';
import { GCNConv } from '../gcn-conv.ts';
import type { NodeGraph } from '../graph-input.ts';
import { Module, type ForwardContext } from '../module.ts';
import { SAGEConv } from '../sage-conv.ts';

export type NodeModelKind = 'gcn' | 'sage' | 'gat';

export interface NodeModelConfig {
  kind: NodeModelKind;
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  dropout: number;
  /** GAT only: attention heads of the hidden layer (default 8). */
  heads?: number;
}

type Conv = GCNConv | SAGEConv | GATConv;

function makeConvs(c: NodeModelConfig): [Conv, Conv] {
  if (c.kind === 'gcn') return [new GCNConv(c.inChannels, c.hiddenChannels), new GCNConv(c.hiddenChannels, c.outChannels)];
  if (c.kind === 'sage') return [new SAGEConv(c.inChannels, c.hiddenChannels), new SAGEConv(c.hiddenChannels, c.outChannels)];
  const heads = c.heads ?? 8;
  return [
    new GATConv(c.inChannels, c.hiddenChannels, { heads, concat: true, dropout: c.dropout, layerIndex: 0 }),
    new GATConv(c.hiddenChannels * heads, c.outChannels, { heads: 1, concat: false, dropout: c.dropout, layerIndex: 1 }),
  ];
}

export class NodeClassifier extends Module {
  readonly conv1: Conv;
  readonly conv2: Conv;

  constructor(readonly config: NodeModelConfig) {
    super();
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${config.dropout}`);
    const [conv1, conv2] = makeConvs(config);
    this.conv1 = this.declareModule('conv1', conv1);
    this.conv2 = this.declareModule('conv2', conv2);
  }

  /** Asynchronous because a partitioned graph (SAR) waits for peers; on one device nothing waits. */
  async forward(x: Tensor, graph: NodeGraph, ctx: ForwardContext): Promise<Tensor> {
    const drop = (t: Tensor, layer: number) =>
      ctx.training && this.config.dropout > 0
        ? dropout(t, { p: this.config.dropout, seed: ctx.seed, stream: RNG_STREAM.dropout + layer, step: ctx.step, rowOffset: ctx.rowOffset ?? 0, rowIds: ctx.rowIds })
        : t;
    const activation = this.config.kind === 'gat' ? elu : relu;
    const h = activation(await this.conv1.forward(drop(x, 0), graph, ctx));
    return this.conv2.forward(drop(h, 1), graph, ctx);
  }

  /** Parameters of the first layer: Kipf & Welling apply weight decay to these only. */
  firstLayerParameters(): Tensor[] {
    return this.conv1.parameters();
  }
}
