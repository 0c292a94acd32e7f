// Binary cross-entropy with logits, the link-prediction loss (positives 1, negatives 0): the mean of
// per-element losses summed in a fixed order, and its backward (σ(x) − y)/n recomputed from the logits.

import source from '../../../shaders/binary-cross-entropy.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { total } from './reduce.ts';

function run(entryPoint: string, n: number, scale: number, buffers: GPUBuffer[], logits: Tensor): void {
  if (n === 0) return;
  const kernel = logits.gpu.kernel({ name: 'binary-cross-entropy', source: [grid, source], entryPoint });
  logits.gpu.dispatch(kernel, params().u32(n).f32(scale).u32(0).u32(0), buffers, Math.ceil(n / GRID_BLOCK));
}

/** mean_i BCE(σ(logits_i), targets_i) → [1]; logits [n] or [n, 1], targets f32 [n] in [0, 1]. Differentiable w.r.t. the logits. */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor): Tensor {
  if (logits.dtype !== 'f32' || targets.dtype !== 'f32') throw new TypeError(`binaryCrossEntropyWithLogits: f32 logits and targets expected, got ${logits} and ${targets}`);
  if (logits.size !== targets.size || (logits.shape.length === 2 && logits.shape[1] !== 1) || logits.shape.length > 2) {
    throw new RangeError(`binaryCrossEntropyWithLogits: logits ${logits} must be [n] or [n, 1] with targets [n], got targets ${targets}`);
  }
  const n = logits.size;
  const scale = n === 0 ? 0 : 1 / n;
  const perElement = empty(logits.gpu, [n], 'f32', 'bce_losses');
  run('losses', n, scale, [logits.buffer, targets.buffer, perElement.buffer], logits);
  const loss = total(perElement);
  perElement.dispose();
  return record('binaryCrossEntropyWithLogits', [logits], loss, (g) => {
    const gx = empty(logits.gpu, logits.shape, 'f32', 'bce_grad');
    run('grad', n, scale, [logits.buffer, targets.buffer, g.buffer, gx.buffer], logits);
    return [gx];
  });
}

export const binaryCrossEntropyReference = {
  loss(x: ArrayLike<number>, y: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += Math.max(x[i], 0) - x[i] * y[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
    return x.length ? sum / x.length : 0;
  },
  grad(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
    return Float64Array.from(x, (v, i) => (1 / (1 + Math.exp(-v)) - y[i]) / x.length);
  },
};
