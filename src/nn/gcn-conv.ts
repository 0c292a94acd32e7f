// GCNConv (Kipf & Welling 2017): X' = D^-1/2 (A + I) D^-1/2 · X · W + b, as PyG's GCNConv.
// The feature transform runs first: aggregating the narrower X·W moves less data.

import { addBias } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { spmm } from '../tensor/ops/spmm.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { GraphInput } from './graph-input.ts';
import { Module } from './module.ts';

export class GCNConv extends Module {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly bias = true,
  ) {
    super();
    this.declareParameter('weight', [inChannels, outChannels], 'glorot');
    if (bias) this.declareParameter('bias', [outChannels], 'zeros');
  }

  forward(x: Tensor, graph: GraphInput): Tensor {
    if (x.cols !== this.inChannels) throw new RangeError(`GCNConv(${this.inChannels}, ${this.outChannels}): input ${x} has ${x.cols} columns`);
    const h = spmm(graph.adjacency('gcn'), matmul(x, this.parameter('weight')));
    return this.bias ? addBias(h, this.parameter('bias')) : h;
  }
}
