// GRU memory updater in PyTorch's GRUCell layout (weight_ih [3d, in], weight_hh [3d, d], gates r | z | n),
// so TGN checkpoints map one to one onto PyTorch's.

import { gruCell } from '../../tensor/ops/gru.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';

export class GRUCell extends Module {
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
  ) {
    super();
    this.declareParameter('weight_ih', [3 * hiddenSize, inputSize], 'glorot');
    this.declareParameter('weight_hh', [3 * hiddenSize, hiddenSize], 'glorot');
    this.declareParameter('bias_ih', [3 * hiddenSize], 'zeros');
    this.declareParameter('bias_hh', [3 * hiddenSize], 'zeros');
  }

  /** x [n, inputSize], h [n, hiddenSize] → h' [n, hiddenSize]. */
  forward(x: Tensor, h: Tensor): Tensor {
    return gruCell(x, h, this.parameter('weight_ih'), this.parameter('weight_hh'), this.parameter('bias_ih'), this.parameter('bias_hh'));
  }
}
