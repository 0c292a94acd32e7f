// Elementwise arithmetic: add, scale, bias broadcast, in-place accumulation (used by autograd).

import source from '../../../shaders/elementwise.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { GRID_BLOCK } from '../grid.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { record } from '../tape.ts';
import { sumColumns } from './reduce.ts';
import type { Tensor } from '../tensor.ts';

function run(gpu: Gpu, entryPoint: string, n: number, cols: number, alpha: number, buffers: GPUBuffer[]): void {
  const kernel = gpu.kernel({ name: 'elementwise', source: [grid, source], entryPoint });
  gpu.dispatch(kernel, params().u32(n).u32(cols).f32(alpha).u32(0), buffers, Math.ceil(n / GRID_BLOCK));
}

function sameSize(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size) throw new RangeError(`${op}: sizes differ: ${a} and ${b}`);
}

/** into += alpha·x, in place, not recorded. */
export function axpyInPlace(into: Tensor, x: Tensor, alpha = 1): void {
  sameSize('axpy', into, x);
  run(into.gpu, 'axpy', into.size, 1, alpha, [x.buffer, into.buffer]);
}

/** Autograd's accumulator: gradient contributions add up. */
export function accumulateGrad(into: Tensor, add: Tensor): void {
  axpyInPlace(into, add, 1);
}

export function fill(t: Tensor, value: number): Tensor {
  run(t.gpu, 'fill', t.size, 1, value, [t.buffer]);
  return t;
}

export function ones(gpu: Gpu, shape: readonly number[]): Tensor {
  return fill(empty(gpu, shape, 'f32', 'ones'), 1);
}

/** a + alpha·b (same shapes). */
export function add(a: Tensor, b: Tensor, alpha = 1): Tensor {
  sameSize('add', a, b);
  const out = empty(a.gpu, a.shape, 'f32', 'add');
  run(a.gpu, 'add', a.size, 1, alpha, [a.buffer, b.buffer, out.buffer]);
  return record('add', [a, b], out, (g, needs) => [needs[0] ? scale(g, 1) : null, needs[1] ? scale(g, alpha) : null]);
}

export function scale(x: Tensor, alpha: number): Tensor {
  const out = empty(x.gpu, x.shape, 'f32', 'scale');
  run(x.gpu, 'scale', x.size, 1, alpha, [x.buffer, out.buffer]);
  return record('scale', [x], out, (g) => [scale(g, alpha)]);
}

/** x[r, c] + bias[c]; the bias gradient is the column sum of the upstream gradient. */
export function addBias(x: Tensor, bias: Tensor): Tensor {
  if (bias.size !== x.cols) throw new RangeError(`addBias: bias ${bias} does not match the ${x.cols} columns of ${x}`);
  const out = empty(x.gpu, x.shape, 'f32', 'bias_add');
  run(x.gpu, 'bias_add', x.size, x.cols, 0, [x.buffer, bias.buffer, out.buffer]);
  return record('addBias', [x, bias], out, (g, needs) => [needs[0] ? scale(g, 1) : null, needs[1] ? sumColumns(g) : null]);
}

export const elementwiseReference = {
  add: (a: ArrayLike<number>, b: ArrayLike<number>, alpha = 1) => Float64Array.from(a, (v, i) => v + alpha * b[i]),
  scale: (x: ArrayLike<number>, alpha: number) => Float64Array.from(x, (v) => alpha * v),
  addBias: (x: ArrayLike<number>, bias: ArrayLike<number>, cols: number) => Float64Array.from(x, (v, i) => v + bias[i % cols]),
};
