// x + ReLU(conv(dropout(x))): a hidden graph convolution with its input added back (DeepGCNs' post-
// activation 'res' block, without a norm). The hidden blocks of a deep GCN or GraphSAGE with
// `residual: true`; one block of the Sequential, aggregating once.

import { relu } from '../../tensor/ops/activation.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Dropout } from '../dropout.ts';
import type { GCNConv } from '../gcn-conv.ts';
import type { NodeGraph } from '../graph-input.ts';
import { Module } from '../module.ts';
import type { SAGEConv } from '../sage-conv.ts';

export class ResidualConvBlock extends Module {
  readonly drop: Dropout;

  constructor(
    readonly conv: GCNConv | SAGEConv,
    dropout: number,
  ) {
    super();
    if (conv.inChannels !== conv.outChannels) throw new RangeError(`ResidualConvBlock: the convolution must keep the width (${conv.inChannels} → ${conv.outChannels})`);
    this.drop = new Dropout(dropout);
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    return add(x, relu(await this.conv.forward(graph, this.drop.forward(graph, x))));
  }
}
