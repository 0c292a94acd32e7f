// ResGCN+ (Li et al., DeepGCNs, "DeeperGCN" 2020: the pre-activation residual block 'res+', as PyG's
// DeepGCNLayer(block='res+')) as a Sequential of one-tensor blocks:
//   input:   x → Linear(in, hidden)
//   block_l: x → x + GCNConv(dropout(ReLU(LayerNorm(x))))        (one aggregation each)
//   head:    LayerNorm → ReLU → dropout → Linear(hidden, out)
// Every block is the same res+ block (PyG's ogbn-proteins example runs the first block's conv alone; here
// all `layers` blocks have their norm and activation in front, as the paper's equations write it).

import { relu } from '../../tensor/ops/activation.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { ReLU } from '../activation.ts';
import { Dropout } from '../dropout.ts';
import { GCNConv } from '../gcn-conv.ts';
import type { NodeGraph } from '../graph-input.ts';
import type { GraphModule } from '../graph-module.ts';
import { LayerNorm } from '../layer-norm.ts';
import { Linear } from '../linear.ts';
import { Module } from '../module.ts';
import { Sequential } from '../sequential.ts';

export interface ResGCNConfig {
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  /** res+ blocks (graph convolutions). */
  layers: number;
  dropout: number;
}

/** x + GCNConv(dropout(ReLU(LayerNorm(x)))): DeepGCNs' res+ block over `channels` columns. */
export class ResGCNPlusBlock extends Module {
  readonly norm: LayerNorm;
  readonly drop: Dropout;
  readonly conv: GCNConv;

  constructor(
    readonly channels: number,
    dropout: number,
  ) {
    super();
    this.norm = new LayerNorm(channels);
    this.drop = new Dropout(dropout);
    this.conv = new GCNConv(channels, channels);
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    return add(x, await this.conv.forward(graph, this.drop.forward(graph, relu(this.norm.forward(x)))));
  }
}

/** input, block1 … block<layers>, norm, act, drop, output. */
export function resgcnBlocks(c: ResGCNConfig): Record<string, GraphModule> {
  if (!Number.isInteger(c.layers) || c.layers < 1) throw new RangeError(`ResGCN+: layers must be a positive integer, got ${c.layers}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new RangeError(`ResGCN+: dropout must be in [0, 1), got ${c.dropout}`);
  const blocks: Record<string, GraphModule> = { input: new Linear(c.inChannels, c.hiddenChannels) };
  for (let l = 1; l <= c.layers; l++) blocks[`block${l}`] = new ResGCNPlusBlock(c.hiddenChannels, c.dropout);
  blocks.norm = new LayerNorm(c.hiddenChannels);
  blocks.act = new ReLU();
  blocks.drop = new Dropout(c.dropout);
  blocks.output = new Linear(c.hiddenChannels, c.outChannels);
  return blocks;
}

export class ResGCNPlus extends Sequential {
  constructor(readonly config: ResGCNConfig) {
    super(resgcnBlocks(config));
  }

  /** The built-in 'resgcn' config: a checkpoint of this model resumes with `--model resgcn`. */
  override describe(): Record<string, unknown> {
    return { kind: 'resgcn', ...this.config };
  }
}
