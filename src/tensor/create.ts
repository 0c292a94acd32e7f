// Making tensors: from CPU data (uploaded once), empty (for kernel outputs), or zero-filled.

import type { Gpu } from '../gpu/gpu.ts';
import { Tensor, type DType } from './tensor.ts';

export interface TensorOptions {
  dtype?: DType;
  label?: string;
  requiresGrad?: boolean;
}

function checkShape(shape: readonly number[], label: string): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`tensor '${label}': bad shape ${JSON.stringify(shape)}`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

export function fromArray(
  gpu: Gpu,
  data: ArrayLike<number> | Float32Array | Int32Array | Uint32Array,
  shape: readonly number[],
  options: TensorOptions = {},
): Tensor {
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32');
  const label = options.label ?? '';
  const size = checkShape(shape, label);
  if (data.length !== size) {
    throw new RangeError(`tensor '${label}': ${data.length} values do not fill shape ${JSON.stringify(shape)} (${size})`);
  }
  const typed =
    dtype === 'f32'
      ? data instanceof Float32Array ? data : Float32Array.from(data)
      : dtype === 'i32'
        ? data instanceof Int32Array ? data : Int32Array.from(data)
        : data instanceof Uint32Array ? data : Uint32Array.from(data);
  const buffer = gpu.allocate(size * 4, label, true);
  if (size > 0) gpu.upload(buffer, typed);
  const t = new Tensor(gpu, buffer, shape, dtype, label);
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** Uninitialised contents: only for outputs a kernel fully writes. */
export function empty(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label = ''): Tensor {
  const size = checkShape(shape, label);
  return new Tensor(gpu, gpu.allocate(size * 4, label), shape, dtype, label);
}

export function zeros(gpu: Gpu, shape: readonly number[], dtype: DType = 'f32', label = ''): Tensor {
  const t = empty(gpu, shape, dtype, label);
  gpu.encoder.clear(t.buffer, 0, gpu.pool.sizeOf(t.buffer));
  return t;
}
