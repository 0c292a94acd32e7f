// A GPU tensor: a pooled buffer with a shape and dtype. Row-major; shapes are [rows, cols] or [n].

import type { Gpu } from '../gpu/gpu.ts';
import { track } from './scope.ts';

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

export class Tensor {
  requiresGrad = false;
  /** Gradient accumulated by `backward()` for leaf tensors (parameters). */
  grad: Tensor | null = null;
  /** True when produced by a recorded op (a non-leaf of the autograd graph). */
  hasCreator = false;
  private _buffer: GPUBuffer | null;

  constructor(
    readonly gpu: Gpu,
    buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    readonly label = '',
  ) {
    this._buffer = buffer;
    track(this);
  }

  get buffer(): GPUBuffer {
    if (!this._buffer) throw new Error(`tensor '${this.label}' ${JSON.stringify(this.shape)} used after dispose`);
    return this._buffer;
  }

  get disposed(): boolean {
    return this._buffer === null;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get rows(): number {
    return this.shape[0] ?? 1;
  }

  /** Columns of a 2-D tensor; 1 for a vector. */
  get cols(): number {
    return this.shape.length > 1 ? this.shape[this.shape.length - 1] : 1;
  }

  get byteLength(): number {
    return this.size * 4;
  }

  dispose(): void {
    if (!this._buffer) return;
    this.gpu.release(this._buffer);
    this._buffer = null;
    this.grad?.dispose();
    this.grad = null;
  }

  /** As dispose, but gives the memory back to the device rather than to the pool (odd-sized transients). */
  discard(): void {
    if (!this._buffer) return;
    this.gpu.discard(this._buffer);
    this._buffer = null;
    this.grad?.dispose();
    this.grad = null;
  }

  /** Reads the tensor back (submits pending work). For tests, metrics and checkpoints, not inside a step. */
  async toArray(): Promise<Float32Array | Int32Array | Uint32Array> {
    const bytes = await this.gpu.read(this.buffer, 0, this.byteLength);
    if (this.dtype === 'f32') return new Float32Array(bytes);
    if (this.dtype === 'i32') return new Int32Array(bytes);
    return new Uint32Array(bytes);
  }

  toString(): string {
    return `Tensor(${this.label || 'unnamed'}, ${this.dtype}[${this.shape.join('×')}])`;
  }
}
