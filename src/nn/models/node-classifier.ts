// The node classifiers of the literature, in PyG's example form (two layers by default, `layers` more):
//   x → dropout → conv₁ → ReLU (ELU for GAT) → dropout → conv₂ → … → logits.
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
  /** Graph convolutions (default 2); hidden layers all have hiddenChannels. */
  layers?: number;
}

type Conv = GCNConv | SAGEConv | GATConv;

function makeConvs(c: NodeModelConfig): Conv[] {
  const layers = c.layers ?? 2;
  if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`layers must be a positive integer, got ${layers}`);
  const heads = c.heads ?? 8;
  return Array.from({ length: layers }, (_, i): Conv => {
    const last = i === layers - 1;
    const out = last ? c.outChannels : c.hiddenChannels;
    if (c.kind === 'gcn') return new GCNConv(i === 0 ? c.inChannels : c.hiddenChannels, out);
    if (c.kind === 'sage') return new SAGEConv(i === 0 ? c.inChannels : c.hiddenChannels, out);
    const inChannels = i === 0 ? c.inChannels : c.hiddenChannels * heads;
    return last
      ? new GATConv(inChannels, out, { heads: 1, concat: false, dropout: c.dropout, layerIndex: i })
      : new GATConv(inChannels, out, { heads, concat: true, dropout: c.dropout, layerIndex: i });
  });
}

export class NodeClassifier extends Module {
  /** conv1, conv2, …: the parameter names PyG's two-layer examples use. */
  readonly convs: Conv[];

  constructor(readonly config: NodeModelConfig) {
    super();
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${config.dropout}`);
    this.convs = makeConvs(config).map((conv, i) => this.declareModule(`conv${i + 1}`, conv));
  }

  /** Asynchronous because a partitioned graph (SAR) waits for peers; on one device nothing waits. */
  async forward(x: Tensor, graph: NodeGraph, ctx: ForwardContext): Promise<Tensor> {
    const drop = (t: Tensor, layer: number) =>
      ctx.training && this.config.dropout > 0
        ? dropout(t, { p: this.config.dropout, seed: ctx.seed, stream: RNG_STREAM.dropout + layer, step: ctx.step, rowOffset: ctx.rowOffset ?? 0, rowIds: ctx.rowIds })
        : t;
    const activation = this.config.kind === 'gat' ? elu : relu;
    let h = x;
    for (let i = 0; i < this.convs.length; i++) {
      const out = await this.convs[i].forward(drop(h, i), graph, ctx);
      h = i < this.convs.length - 1 ? activation(out) : out;
    }
    return h;
  }

  /** Parameters of the first layer: Kipf & Welling apply weight decay to these only. */
  firstLayerParameters(): Tensor[] {
    return this.convs[0].parameters();
  }
}
