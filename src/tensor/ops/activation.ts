// Activations (ReLU, ELU, leaky ReLU) with their backward kernels and float64 references.
// Saved for the backward (as PyTorch does): ReLU and ELU keep their output y (the sign of x is the
// sign of y, and ELU's slope for x ≤ 0 is y + α); leaky ReLU keeps its input x.

import source from '../../../shaders/activation.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { GRID_BLOCK } from '../grid.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

function run(gpu: Gpu, entryPoint: string, n: number, alpha: number, buffers: GPUBuffer[]): void {
  const kernel = gpu.kernel({ name: 'activation', source: [grid, source], entryPoint });
  gpu.dispatch(kernel, params().u32(n).f32(alpha).u32(0).u32(0), buffers, Math.ceil(n / GRID_BLOCK));
}

function checkF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new TypeError(`${op}: expects f32 tensors, got ${t}`);
}

function forward(op: string, entryPoint: string, x: Tensor, alpha: number): Tensor {
  checkF32(op, x);
  const out = empty(x.gpu, x.shape, 'f32', op);
  run(x.gpu, entryPoint, x.size, alpha, [x.buffer, out.buffer]);
  return out;
}

function backwardKernel(op: string, entryPoint: string, saved: Tensor, g: Tensor, alpha: number): Tensor {
  checkF32(op, saved, g);
  if (saved.size !== g.size) throw new RangeError(`${op}: gradient ${g} does not match ${saved}`);
  const gx = empty(g.gpu, saved.shape, 'f32', op);
  run(g.gpu, entryPoint, g.size, alpha, [saved.buffer, g.buffer, gx.buffer]);
  return gx;
}

/** g·[y > 0], from the forward output y. */
export function reluBackward(y: Tensor, g: Tensor): Tensor {
  return backwardKernel('reluBackward', 'relu_backward', y, g, 0);
}

/** g·(y > 0 ? 1 : y + α), from the forward output y. */
export function eluBackward(y: Tensor, g: Tensor, alpha = 1): Tensor {
  return backwardKernel('eluBackward', 'elu_backward', y, g, alpha);
}

/** g·(x > 0 ? 1 : slope), from the forward input x. */
export function leakyReluBackward(x: Tensor, g: Tensor, slope = 0.01): Tensor {
  return backwardKernel('leakyReluBackward', 'leaky_relu_backward', x, g, slope);
}

/** max(x, 0). The derivative at 0 is taken as 0 (as PyTorch). */
export function relu(x: Tensor): Tensor {
  const y = forward('relu', 'relu', x, 0);
  return record('relu', [x], y, (g) => [reluBackward(y, g)]);
}

/** x for x > 0, α(eˣ − 1) otherwise. α ≥ 0, so that the backward can read the sign of x from y. */
export function elu(x: Tensor, alpha = 1): Tensor {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new RangeError(`elu: alpha must be finite and ≥ 0, got ${alpha}`);
  const y = forward('elu', 'elu', x, alpha);
  return record('elu', [x], y, (g) => [eluBackward(y, g, alpha)]);
}

/** x for x > 0, slope·x otherwise (0.2 in GAT's attention). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  if (!Number.isFinite(slope)) throw new RangeError(`leakyRelu: slope must be finite, got ${slope}`);
  const y = forward('leakyRelu', 'leaky_relu', x, slope);
  return record('leakyRelu', [x], y, (g) => [leakyReluBackward(x, g, slope)]);
}

/** float64 references; backward ones take the forward input x and the upstream gradient g. */
export const activationReference = {
  relu: (x: ArrayLike<number>) => Float64Array.from(x, (v) => Math.max(v, 0)),
  elu: (x: ArrayLike<number>, alpha = 1) => Float64Array.from(x, (v) => (v > 0 ? v : alpha * Math.expm1(v))),
  leakyRelu: (x: ArrayLike<number>, slope = 0.01) => Float64Array.from(x, (v) => (v > 0 ? v : slope * v)),
  reluBackward: (x: ArrayLike<number>, g: ArrayLike<number>) => Float64Array.from(x, (v, i) => (v > 0 ? g[i] : 0)),
  eluBackward: (x: ArrayLike<number>, g: ArrayLike<number>, alpha = 1) =>
    Float64Array.from(x, (v, i) => g[i] * (v > 0 ? 1 : alpha * Math.exp(v))),
  leakyReluBackward: (x: ArrayLike<number>, g: ArrayLike<number>, slope = 0.01) =>
    Float64Array.from(x, (v, i) => g[i] * (v > 0 ? 1 : slope)),
};
