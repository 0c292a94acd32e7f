// GCNIIConv (Chen et al. 2020, "Simple and Deep Graph Convolutional Networks"; PyG's GCN2Conv with shared
// weights): the l-th layer mixes the initial representation H0 back in (initial residual) and keeps most
// of the identity map,
//   S = (1 − α)·Â·H + α·H0,    out = θ_l·S·W + (1 − θ_l)·S = S·(θ_l·W) + (1 − θ_l)·S,
// with Â = D^-1/2 (A + I) D^-1/2 ('gcn' aggregation) and θ_l = log(λ/l + 1). No bias and no activation,
// as the official code's GraphConvolution with `variant` off (the model applies ReLU). The scalars go onto
// the small [channels, channels] weight rather than onto [nodes, channels] tensors: with
// S' = Â·H + α/(1 − α)·H0 = S/(1 − α),  out = S'·((1 − α)θ_l·W) + (1 − α)(1 − θ_l)·S'  (α < 1),
// one pass over the nodes' rows fewer than computing S itself, forward and backward.

import { add, scale } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { checkNodeInput } from './input-checks.ts';
import { Module } from './module.ts';

export interface GCNIIConvOptions {
  /** Initial-residual weight α (default 0.1, the paper's for Cora). */
  alpha?: number;
  /** λ of the identity-mapping strength θ_l = log(λ/l + 1) (default 0.5). */
  lambda?: number;
  /** l, this layer's 1-based index in the stack. */
  layer: number;
}

/** θ_l = log(λ/l + 1): the weight of the learned map in layer l (1-based); it falls with depth. */
export function gcniiTheta(lambda: number, layer: number): number {
  return Math.log(lambda / layer + 1);
}

export class GCNIIConv extends Module {
  readonly alpha: number;
  readonly theta: number;

  constructor(
    readonly channels: number,
    options: GCNIIConvOptions,
  ) {
    super();
    const { alpha = 0.1, lambda = 0.5, layer } = options;
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`GCNIIConv: channels must be an integer ≥ 1, got ${channels}`);
    if (!(alpha >= 0 && alpha < 1)) throw new RangeError(`GCNIIConv: alpha must be in [0, 1), got ${alpha}`);
    if (!(lambda > 0) || !Number.isFinite(lambda)) throw new RangeError(`GCNIIConv: lambda must be finite and > 0, got ${lambda}`);
    if (!Number.isInteger(layer) || layer < 1) throw new RangeError(`GCNIIConv: layer is the 1-based layer index, got ${layer}`);
    this.alpha = alpha;
    this.theta = gcniiTheta(lambda, layer);
    this.declareParameter('weight', [channels, channels], 'glorot');
  }

  /** h: the layer's input H, h0: the initial representation H0, both [nodes, channels]. */
  async forward(graph: NodeGraph, h: Tensor, h0: Tensor): Promise<Tensor> {
    checkNodeInput(this, graph, h, this.channels);
    checkNodeInput(this, graph, h0, this.channels);
    const a = this.alpha;
    const s = add(await graph.aggregate('gcn', h), h0, a / (1 - a));
    return add(matmul(s, scale(this.parameter('weight'), (1 - a) * this.theta)), s, (1 - a) * (1 - this.theta));
  }
}
