// TGN/TGAT's trainable time encoding φ(Δt) = cos(Δt·ω + b) (Xu et al. 2020; Rossi et al. 2020):
// Δt [n] → [n, d], with its backward and a float64 reference. The backward forms the per-element
// products on the GPU and sums their columns with reduce.ts (fixed order, no float atomics).
// Nothing is saved beyond the inputs: the backward recomputes the angle.

import source from '../../../shaders/time-encoding.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { sumColumns } from './reduce.ts';

function run(x: Tensor, entryPoint: string, n: number, d: number, items: number, buffers: GPUBuffer[]): void {
  if (items === 0) return;
  const kernel = x.gpu.kernel({ name: 'time-encoding', source: [grid, source], entryPoint });
  x.gpu.dispatch(kernel, params().u32(n).u32(d).u32(0).u32(0), buffers, Math.ceil(items / GRID_BLOCK));
}

/** A vector: [n], or [n, 1] / [1, n]. */
function isVector(t: Tensor): boolean {
  return t.shape.length === 1 || (t.shape.length === 2 && (t.shape[0] === 1 || t.shape[1] === 1));
}

function check(dt: Tensor, omega: Tensor, bias: Tensor): void {
  for (const [name, t] of [['dt', dt], ['omega', omega], ['bias', bias]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`timeEncoding: ${name} must be f32, got ${t}`);
    if (!isVector(t)) throw new RangeError(`timeEncoding: ${name} must be a vector ([n] or [n, 1]), got ${t}`);
  }
  if (omega.size !== bias.size) throw new RangeError(`timeEncoding: omega ${omega} and bias ${bias} must have the same length d`);
  if (omega.size === 0) throw new RangeError(`timeEncoding: the encoding needs d ≥ 1 columns, got omega ${omega}`);
}

/** The sum of each column of `products` [n, d], as a new tensor shaped like `like`. */
function columnSums(products: Tensor, like: Tensor): Tensor {
  const sums = sumColumns(products);
  const out = empty(like.gpu, like.shape, 'f32', 'time encoding grad');
  like.gpu.encoder.copy(sums.buffer, 0, out.buffer, 0, like.size * 4);
  sums.dispose();
  return out;
}

/**
 * φ(Δt)[i, c] = cos(Δt[i]·ω[c] + b[c]): dt [n], omega and bias [d] (f32) → [n, d]. Differentiable in
 * all three (dΔt only when Δt requires grad; in TGN it usually does not).
 */
export function timeEncoding(dt: Tensor, omega: Tensor, bias: Tensor): Tensor {
  check(dt, omega, bias);
  const n = dt.size;
  const d = omega.size;
  const out = empty(dt.gpu, [n, d], 'f32', 'time encoding');
  run(dt, 'encode', n, d, n * d, [dt.buffer, omega.buffer, bias.buffer, out.buffer]);
  return record('timeEncoding', [dt, omega, bias], out, (g, needs) => {
    let ddt: Tensor | null = null;
    let domega: Tensor | null = null;
    let dbias: Tensor | null = null;
    if (needs[0]) {
      ddt = empty(dt.gpu, dt.shape, 'f32', 'time encoding ddt');
      run(dt, 'grad_dt', n, d, n, [dt.buffer, omega.buffer, bias.buffer, g.buffer, ddt.buffer]);
    }
    if (needs[1] || needs[2]) {
      const pw = empty(dt.gpu, [n, d], 'f32', 'time encoding dω products');
      const pb = empty(dt.gpu, [n, d], 'f32', 'time encoding db products');
      run(dt, 'grad_products', n, d, n * d, [dt.buffer, omega.buffer, bias.buffer, g.buffer, pw.buffer, pb.buffer]);
      if (needs[1]) domega = columnSums(pw, omega);
      if (needs[2]) dbias = columnSums(pb, bias);
      pw.dispose();
      pb.dispose();
    }
    return [ddt, domega, dbias];
  });
}

/**
 * TGN's initial frequencies ω[c] = 10^(−9c/(d − 1)) (periods from 1 to 10⁹ time units) with b = 0,
 * as plain arrays for the caller to upload as parameters.
 */
export function timeEncodingInit(d: number): { omega: Float32Array; bias: Float32Array } {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`timeEncodingInit: d must be an integer ≥ 1, got ${d}`);
  const omega = Float32Array.from({ length: d }, (_, c) => 10 ** (d === 1 ? 0 : (-9 * c) / (d - 1)));
  return { omega, bias: new Float32Array(d) };
}

/** float64 references. */
export const timeEncodingReference = {
  forward(dt: ArrayLike<number>, omega: ArrayLike<number>, bias: ArrayLike<number>): Float64Array {
    const d = omega.length;
    const out = new Float64Array(dt.length * d);
    for (let i = 0; i < dt.length; i++) for (let c = 0; c < d; c++) out[i * d + c] = Math.cos(dt[i] * omega[c] + bias[c]);
    return out;
  },
  /** Gradients for upstream g [n, d]: dΔt [n], dω [d], db [d]. */
  backward(dt: ArrayLike<number>, omega: ArrayLike<number>, bias: ArrayLike<number>, g: ArrayLike<number>): { ddt: Float64Array; domega: Float64Array; dbias: Float64Array } {
    const d = omega.length;
    const ddt = new Float64Array(dt.length);
    const domega = new Float64Array(d);
    const dbias = new Float64Array(d);
    for (let i = 0; i < dt.length; i++) {
      for (let c = 0; c < d; c++) {
        const s = -Math.sin(dt[i] * omega[c] + bias[c]) * g[i * d + c];
        ddt[i] += s * omega[c];
        domega[c] += s * dt[i];
        dbias[c] += s;
      }
    }
    return { ddt, domega, dbias };
  },
};
