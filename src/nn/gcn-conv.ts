// GCNConv (Kipf & Welling 2017): X' = D^-1/2 (A + I) D^-1/2 · X · W + b, as PyG's GCNConv (whose
// parameters are likewise `lin.weight` and `bias`). The feature transform runs first: aggregating
// the narrower X·W moves less data.

import { addBias } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Linear } from './linear.ts';
import { checkNodeInput } from './input-checks.ts';
import { Module } from './module.ts';

export class GCNConv extends Module {
  readonly lin: Linear;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly bias = true,
  ) {
    super();
    this.lin = this.declareModule('lin', new Linear(inChannels, outChannels, false));
    if (bias) this.declareParameter('bias', [outChannels], 'zeros');
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    checkNodeInput(this, graph, x, this.inChannels);
    const h = await graph.aggregate('gcn', this.lin.project(x));
    return this.bias ? addBias(h, this.parameter('bias')) : h;
  }
}
