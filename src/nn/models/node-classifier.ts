// The node classifiers of the literature, in PyG's example form (two layers by default, `layers` more):
//   x → dropout → conv₁ → ReLU (ELU for GAT) → dropout → conv₂ → … → logits, built as a Sequential of
// ordinary blocks (nothing here that a user's model could not do).
// `kind` picks the convolution; the same skeleton serves GCN, GraphSAGE and GAT (Veličković et al.:
// `heads` concatenated heads in the hidden layer, one averaged head out, attention dropout = dropout).

import { ELU, ReLU } from '../activation.ts';
import { Dropout } from '../dropout.ts';
import { GATConv } from '../gat-conv.ts';
import { GCNConv } from '../gcn-conv.ts';
import type { GraphModule } from '../graph-module.ts';
import { Sequential } from '../sequential.ts';
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
    return last ? new GATConv(inChannels, out, { heads: 1, concat: false, dropout: c.dropout }) : new GATConv(inChannels, out, { heads, concat: true, dropout: c.dropout });
  });
}

/** drop1, conv1, act1, drop2, conv2, …: an ordinary Sequential whose conv blocks keep PyG's names. */
function makeBlocks(c: NodeModelConfig): Record<string, GraphModule> {
  const convs = makeConvs(c);
  const blocks: Record<string, GraphModule> = {};
  convs.forEach((conv, i) => {
    if (c.dropout > 0) blocks[`drop${i + 1}`] = new Dropout(c.dropout);
    blocks[`conv${i + 1}`] = conv;
    if (i < convs.length - 1) blocks[`act${i + 1}`] = c.kind === 'gat' ? new ELU() : new ReLU();
  });
  return blocks;
}

export class NodeClassifier extends Sequential {
  /** conv1, conv2, …: the parameter names PyG's two-layer examples use. */
  readonly convs: Conv[];

  constructor(readonly config: NodeModelConfig) {
    if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${config.dropout}`);
    const blocks = makeBlocks(config);
    super(blocks);
    this.convs = Object.values(blocks).filter((b): b is Conv => b instanceof GCNConv || b instanceof SAGEConv || b instanceof GATConv);
  }

  override describe(): Record<string, unknown> {
    return { ...this.config };
  }
}
