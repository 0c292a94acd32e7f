// The node classifiers of the literature, in PyG's example form (two layers by default, `layers` more):
//   x → dropout → conv₁ → ReLU (ELU for GAT) → dropout → conv₂ → … → logits, built as a Sequential of
// ordinary blocks (nothing here that a user's model could not do).
// `kind` picks the convolution; the same skeleton serves GCN, GraphSAGE and GAT (Veličković et al.:
// `heads` concatenated heads in the hidden layer, one averaged head out, attention dropout = dropout).
// GCN and GraphSAGE with `residual` add each hidden convolution's input back (ResidualConvBlock). The deep
// models have skeletons of their own: 'gcnii' is GCNII's (models/gcnii.ts), 'resgcn' ResGCN+'s
// (models/resgcn.ts); NodeClassifier builds the same blocks as those classes, with the same names.

import { ELU, ReLU } from '../activation.ts';
import { Dropout } from '../dropout.ts';
import { GATConv } from '../gat-conv.ts';
import { GCNConv } from '../gcn-conv.ts';
import { GCNIIConv } from '../gcnii-conv.ts';
import type { GraphModule } from '../graph-module.ts';
import { Sequential } from '../sequential.ts';
import { SAGEConv } from '../sage-conv.ts';
import { GCNII_DEFAULTS, gcniiBlocks, gcniiWeightDecay } from './gcnii.ts';
import { resgcnBlocks } from './resgcn.ts';
import { ResidualConvBlock } from './residual-conv-block.ts';

export type NodeModelKind = 'gcn' | 'sage' | 'gat' | 'gcnii' | 'resgcn';

/** Graph convolutions when a config does not say (GCNII: 16 of the paper's 64, ResGCN+: 8). */
export const DEFAULT_LAYERS: Record<NodeModelKind, number> = { gcn: 2, sage: 2, gat: 2, gcnii: 16, resgcn: 8 };

export interface NodeModelConfig {
  kind: NodeModelKind;
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  dropout: number;
  /** GAT only: attention heads of the hidden layer (default 8). */
  heads?: number;
  /** Graph convolutions (default DEFAULT_LAYERS[kind]: 2, GCNII 16, ResGCN+ 8); hidden layers all have hiddenChannels. */
  layers?: number;
  /** GCN and GraphSAGE: each hidden→hidden convolution adds its input back (needs layers ≥ 3). */
  residual?: boolean;
  /** GCNII: initial-residual weight α (0.1). */
  alpha?: number;
  /** GCNII: λ of θ_l = log(λ/l + 1) (0.5). */
  lambda?: number;
  /** GCNII: weight decay of the convolutions (0.01); its two linear layers take the run's. */
  convWeightDecay?: number;
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

/**
 * drop1, conv1, act1, drop2, conv2, …: an ordinary Sequential whose conv blocks keep PyG's names; with
 * `residual`, each hidden→hidden convolution is one block res<i> (dropout, conv, ReLU, plus its input).
 */
function makeBlocks(c: NodeModelConfig): Record<string, GraphModule> {
  const convs = makeConvs(c);
  const blocks: Record<string, GraphModule> = {};
  convs.forEach((conv, i) => {
    const last = i === convs.length - 1;
    if (c.residual && i > 0 && !last) {
      blocks[`res${i + 1}`] = new ResidualConvBlock(conv as GCNConv | SAGEConv, c.dropout);
      return;
    }
    if (c.dropout > 0) blocks[`drop${i + 1}`] = new Dropout(c.dropout);
    blocks[`conv${i + 1}`] = conv;
    if (!last) blocks[`act${i + 1}`] = c.kind === 'gat' ? new ELU() : new ReLU();
  });
  return blocks;
}

/** Options that only some kinds take: a config giving one to another kind is refused, with the reason. */
function checkConfig(c: NodeModelConfig): void {
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.kind in DEFAULT_LAYERS)) throw new RangeError(`unknown model kind '${String(c.kind)}' (${Object.keys(DEFAULT_LAYERS).join(', ')})`);
  if (c.residual && c.kind !== 'gcn' && c.kind !== 'sage') {
    throw new RangeError(`residual applies to 'gcn' and 'sage'; '${c.kind}' ${c.kind === 'gat' ? 'has no residual variant here' : 'has residual connections of its own'}`);
  }
  if (c.residual && (c.layers ?? 2) < 3) throw new RangeError(`residual adds the input of each hidden→hidden convolution back: it needs layers ≥ 3, got ${c.layers ?? 2}`);
  for (const key of ['alpha', 'lambda', 'convWeightDecay'] as const) {
    if (c[key] !== undefined && c.kind !== 'gcnii') throw new RangeError(`${key} is a GCNII setting; model '${c.kind}' does not take it`);
  }
}

function blocksFor(c: NodeModelConfig): Record<string, GraphModule> {
  checkConfig(c);
  const layers = c.layers ?? DEFAULT_LAYERS[c.kind];
  if (c.kind === 'gcnii') return gcniiBlocks({ ...c, layers });
  if (c.kind === 'resgcn') return resgcnBlocks({ ...c, layers });
  return makeBlocks(c);
}

export class NodeClassifier extends Sequential {
  /** The graph convolutions, in order (conv1, conv2, … or res<i>.conv, conv<i>.conv for the deep models). */
  readonly convs: Array<Conv | GCNIIConv>;

  constructor(readonly config: NodeModelConfig) {
    super(blocksFor(config));
    this.convs = [...this.modules()].filter((m): m is Conv | GCNIIConv => m instanceof GCNConv || m instanceof SAGEConv || m instanceof GATConv || m instanceof GCNIIConv);
  }

  /** GCNII's two decays (convolutions: config.convWeightDecay, linear layers: the run's); the run's elsewhere. */
  override weightDecayFor(name: string, runDecay: number): number {
    return this.config.kind === 'gcnii' ? gcniiWeightDecay(name, runDecay, this.config.convWeightDecay ?? GCNII_DEFAULTS.convWeightDecay) : runDecay;
  }

  override describe(): Record<string, unknown> {
    return { ...this.config };
  }
}
