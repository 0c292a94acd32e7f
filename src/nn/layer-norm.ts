// torch.nn.LayerNorm(d) over the last dim: y = (x − mean)/√(var + eps)·weight + bias, weight starting
// at ones and bias at zeros (so a fresh layer only normalises). TGN's attention layer ends with one.

import { layerNorm } from '../tensor/ops/layer-norm.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Module } from './module.ts';

export class LayerNorm extends Module {
  constructor(
    readonly features: number,
    readonly eps = 1e-5,
  ) {
    super();
    if (!Number.isInteger(features) || features < 1) throw new RangeError(`LayerNorm: features must be an integer ≥ 1, got ${features}`);
    if (!Number.isFinite(eps) || !(Math.fround(eps) > 0)) throw new RangeError(`LayerNorm(${features}): eps must be finite and > 0 (as f32), got ${eps}`);
    this.declareParameter('weight', [features], 'ones');
    this.declareParameter('bias', [features], 'zeros');
  }

  /** x [n, features] → [n, features]. */
  /** Also callable as a block, `forward(graph, x)` (the graph is not used). */
  forward(x: Tensor): Tensor;
  forward(graph: NodeGraph, x: Tensor): Tensor;
  forward(a: Tensor | NodeGraph, b?: Tensor): Tensor {
    const x = b ?? (a as Tensor);
    if (x.shape.length !== 2 || x.cols !== this.features) throw new RangeError(`LayerNorm(${this.features}): input ${x} must be [n, ${this.features}]`);
    return layerNorm(x, this.parameter('weight'), this.parameter('bias'), this.eps);
  }
}
