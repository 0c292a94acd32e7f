// TGN/TGL's edge predictor: score(u, v) = w·ReLU(W_src·h_u + W_dst·h_v + b) + c, one logit per pair.

import { relu } from '../../tensor/ops/activation.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Linear } from '../linear.ts';
import { Module } from '../module.ts';

export class LinkPredictor extends Module {
  readonly src: Linear;
  readonly dst: Linear;
  readonly out: Linear;

  constructor(readonly dim: number) {
    super();
    this.src = this.declareModule('src_fc', new Linear(dim, dim, true));
    this.dst = this.declareModule('dst_fc', new Linear(dim, dim, false));
    this.out = this.declareModule('out_fc', new Linear(dim, 1, true));
  }

  /** hSrc, hDst [n, dim] → logits [n, 1]. */
  forward(hSrc: Tensor, hDst: Tensor): Tensor {
    return this.out.forward(relu(add(this.src.forward(hSrc), this.dst.forward(hDst))));
  }
}
