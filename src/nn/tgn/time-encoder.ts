// TGN/TGAT's trainable time encoding φ(Δt) = cos(ω·Δt + b), d frequencies initialised from 1 down to
// 10⁻⁹ per time unit so both seconds and months are resolved.

import { timeEncoding, timeEncodingInit } from '../../tensor/ops/time-encoding.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';

export class TimeEncoder extends Module {
  constructor(readonly dim: number) {
    super();
    const { omega, bias } = timeEncodingInit(dim);
    this.declareParameter('omega', [dim], omega);
    this.declareParameter('bias', [dim], bias);
  }

  /** dt [n] → [n, dim]. */
  forward(dt: Tensor): Tensor {
    return timeEncoding(dt, this.parameter('omega'), this.parameter('bias'));
  }
}
