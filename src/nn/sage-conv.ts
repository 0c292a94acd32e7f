// SAGEConv with the mean aggregator and a root weight (Hamilton et al. 2017), as PyG's SAGEConv:
//   x'_i = W_l · mean_{j ∈ N(i)} x_j + b + W_r · x_i.
// mean(x)·W_l = mean(x·W_l): the product runs first when it narrows the rows to aggregate.

import { add } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Linear } from './linear.ts';
import { checkNodeInput } from './input-checks.ts';
import { Module } from './module.ts';

export class SAGEConv extends Module {
  readonly linL: Linear;
  readonly linR: Linear;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
  ) {
    super();
    this.linL = this.declareModule('lin_l', new Linear(inChannels, outChannels, true));
    this.linR = this.declareModule('lin_r', new Linear(inChannels, outChannels, false));
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    checkNodeInput(this, graph, x, this.inChannels);
    const neighbours =
      this.outChannels < this.inChannels
        ? this.linL.withBias(await graph.aggregate('mean', this.linL.project(x)))
        : this.linL.forward(await graph.aggregate('mean', x));
    return add(neighbours, this.linR.forward(x));
  }
}
