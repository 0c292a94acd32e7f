// y = x·W + b, with W stored [in, out] so the forward needs no transpose.

import { addBias } from '../tensor/ops/elementwise.ts';
import { sliceRows } from '../tensor/ops/layout.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Module } from './module.ts';

export class Linear extends Module {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly bias = true,
  ) {
    super();
    this.declareParameter('weight', [inChannels, outChannels], 'glorot');
    if (bias) this.declareParameter('bias', [outChannels], 'zeros');
  }

  /** x·W + b; also callable as a block, `forward(graph, x)` (the graph is not used). */
  forward(x: Tensor): Tensor;
  forward(graph: NodeGraph, x: Tensor): Tensor;
  forward(a: Tensor | NodeGraph, b?: Tensor): Tensor {
    return this.withBias(this.project(b ?? (a as Tensor)));
  }

  /** x·W alone. */
  project(x: Tensor): Tensor {
    if (x.cols !== this.inChannels) throw new RangeError(`Linear(${this.inChannels}, ${this.outChannels}) ${this.describePath()}: input ${x} has ${x.cols} columns, expected ${this.inChannels}`);
    return matmul(x, this.parameter('weight'));
  }

  /**
   * x·W[start, start + count): the projection of one part of a concatenated input, whose parts' projections
   * sum to project(concat). Lets a caller project a part before gathering its rows (fewer rows to multiply).
   */
  projectPart(x: Tensor, start: number, count: number): Tensor {
    if (!Number.isInteger(start) || start < 0 || start + count > this.inChannels || x.cols !== count) {
      throw new RangeError(`Linear(${this.inChannels}, ${this.outChannels}).projectPart: input ${x} for input columns [${start}, ${start + count})`);
    }
    return matmul(x, sliceRows(this.parameter('weight'), start, count));
  }

  /** h + b (h itself when the layer has no bias). */
  withBias(h: Tensor): Tensor {
    return this.bias ? addBias(h, this.parameter('bias')) : h;
  }
}
