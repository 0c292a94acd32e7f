// Activations as blocks of a Sequential (the functions themselves are `ops.relu`, `ops.elu`, …).

import { elu, leakyRelu, relu } from '../tensor/ops/activation.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Module } from './module.ts';

export class ReLU extends Module {
  forward(_graph: NodeGraph, x: Tensor): Tensor {
    return relu(x);
  }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(_graph: NodeGraph, x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly slope = 0.01) {
    super();
  }

  forward(_graph: NodeGraph, x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
}
