// GATConv (Veličković et al. 2018), as PyG's GATConv:
//   z = x·W (heads concatenated), e_ij = LeakyReLU(a_src·z_j + a_dst·z_i), α = softmax over the
//   in-neighbours of i (self loop included), out_i = Σ_j dropout(α_ij) z_j per head, then heads are
//   concatenated or averaged, plus a bias.
// The attention runs fused (gatAttention, through NodeGraph.attend): no per-edge tensor is stored; the backward recomputes α.

import type { Gpu } from '../gpu/gpu.ts';
import { fromArray } from '../tensor/create.ts';
import { addBias } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { RNG_STREAM } from '../tensor/random.ts';
import { keep } from '../tensor/scope.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Linear } from './linear.ts';
import { checkNodeInput } from './input-checks.ts';
import { Module, nameHash } from './module.ts';

export interface GATConvOptions {
  heads?: number;
  /** Concatenate the heads (hidden layers) or average them (output layer). */
  concat?: boolean;
  /** Dropout on the attention coefficients. */
  dropout?: number;
  negativeSlope?: number;
}

export class GATConv extends Module {
  readonly lin: Linear;
  readonly heads: number;
  readonly concat: boolean;
  readonly dropout: number;
  readonly negativeSlope: number;
  private averaging: Tensor | null = null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    options: GATConvOptions = {},
  ) {
    super();
    this.heads = options.heads ?? 1;
    this.concat = options.concat ?? true;
    this.dropout = options.dropout ?? 0;
    this.negativeSlope = options.negativeSlope ?? 0.2;
    this.lin = this.declareModule('lin', new Linear(inChannels, this.heads * outChannels, false));
    this.declareParameter('att_src', [this.heads, outChannels], 'glorot');
    this.declareParameter('att_dst', [this.heads, outChannels], 'glorot');
    this.declareParameter('bias', [this.concat ? this.heads * outChannels : outChannels], 'zeros');
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    checkNodeInput(this, graph, x, this.inChannels);
    const z = this.lin.project(x);
    const out = await graph.attend(z, this.parameter('att_src'), this.parameter('att_dst'), {
      heads: this.heads,
      negativeSlope: this.negativeSlope,
      dropout: this.training ? this.dropout : 0,
      seed: graph.random.seed,
      // Masks of different layers are independent: the stream is named by the layer's path.
      stream: (RNG_STREAM.attentionDropout ^ nameHash(this.path)) >>> 0,
      step: graph.random.step,
    });
    const merged = this.concat || this.heads === 1 ? out : matmul(out, this.headAverager(x.gpu));
    return addBias(merged, this.parameter('bias'));
  }

  /** [H·F, F] with 1/H where column f meets each head's f: out·M averages the heads. */
  private headAverager(gpu: Gpu): Tensor {
    if (!this.averaging) {
      const F = this.outChannels;
      const m = new Float32Array(this.heads * F * F);
      for (let h = 0; h < this.heads; h++) for (let f = 0; f < F; f++) m[(h * F + f) * F + f] = 1 / this.heads;
      this.averaging = keep(fromArray(gpu, m, [this.heads * F, F], { label: 'gat:head_mean' }));
    }
    return this.averaging;
  }

  override dispose(): void {
    this.averaging?.dispose();
    this.averaging = null;
    super.dispose();
  }
}
