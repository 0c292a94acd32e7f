// Layer normalization over the last dim in PyTorch's nn.LayerNorm convention (biased variance, eps inside
// the square root), as TGN's temporal attention layer ends with it. One kernel each way
// (shaders/layer-norm.wgsl); dγ and dβ are column sums from reduce.ts (fixed order, no float atomics).
// The forward saves each row's (shifted mean, 1/σ) — 8 bytes a row against 4·d of x — so the backward
// needs one row reduction instead of three, and sees bitwise the statistics the forward used.

import source from '../../../shaders/layer-norm.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { teamWidth } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { sumColumns } from './reduce.ts';

const WG = 256;
/** Widest team of threads on one row: d = 100 is then 2 columns per thread. */
const MAX_TEAM = 64;

function run(x: Tensor, entryPoint: string, eps: number, buffers: GPUBuffer[]): void {
  const [n, d] = x.shape;
  if (n === 0) return;
  const team = teamWidth(d, MAX_TEAM);
  const kernel = x.gpu.kernel({ name: 'layer-norm', source, entryPoint });
  x.gpu.dispatch(kernel, params().u32(n).u32(d).u32(team).f32(eps), buffers, Math.ceil(n / (WG / team)));
}

/** [d] or [1, d]. */
function isRowVector(t: Tensor, d: number): boolean {
  return (t.shape.length === 1 && t.shape[0] === d) || (t.shape.length === 2 && t.shape[0] === 1 && t.shape[1] === d);
}

function check(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): void {
  for (const [name, t] of [['x', x], ['gamma', gamma], ['beta', beta]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`layerNorm: ${name} must be f32, got ${t}`);
  }
  if (x.shape.length !== 2 || x.shape[1] < 1) throw new RangeError(`layerNorm: x must be [n, d] with d ≥ 1, got ${x}`);
  const d = x.shape[1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (!isRowVector(t, d)) throw new RangeError(`layerNorm: ${name} ${t} must be [${d}] (one value per column of x ${x})`);
  }
  // eps travels as f32: one that rounds to 0 there would divide constant rows by 0.
  if (!Number.isFinite(eps) || !(Math.fround(eps) > 0)) throw new RangeError(`layerNorm: eps must be finite and > 0 (as f32), got ${eps}`);
}

/** The column sums of `t` [n, d], shaped like `like` ([d] or [1, d]). */
function columnSums(t: Tensor, like: Tensor): Tensor {
  const sums = sumColumns(t);
  if (like.shape.length === 1) return sums;
  const out = empty(like.gpu, like.shape, 'f32', 'layer norm param grad');
  like.gpu.encoder.copy(sums.buffer, 0, out.buffer, 0, like.size * 4);
  sums.dispose();
  return out;
}

/**
 * y[i, c] = (x[i, c] − μᵢ)/√(σᵢ² + eps)·γ[c] + β[c] with μᵢ and σᵢ² (biased) the mean and variance of row
 * i: x [n, d], gamma and beta [d] (f32) → [n, d]. Differentiable in all three.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  check(x, gamma, beta, eps);
  const [n, d] = x.shape;
  const y = empty(x.gpu, [n, d], 'f32', 'layer norm');
  const stats = empty(x.gpu, [n, 2], 'f32', 'layer norm stats');
  run(x, 'forward', eps, [x.buffer, gamma.buffer, beta.buffer, y.buffer, stats.buffer]);
  record('layerNorm', [x, gamma, beta], y, (g, needs) => {
    let dx: Tensor | null = null;
    let dgamma: Tensor | null = null;
    let dbeta: Tensor | null = null;
    if (needs[0] || needs[1]) {
      // One kernel writes dx and the terms g·x̂ of dγ; what is not wanted goes back to the pool.
      const gradX = empty(x.gpu, [n, d], 'f32', 'layer norm dx');
      const gxhat = empty(x.gpu, [n, d], 'f32', 'layer norm g·x̂');
      run(x, 'backward', eps, [x.buffer, gamma.buffer, stats.buffer, g.buffer, gradX.buffer, gxhat.buffer]);
      if (needs[0]) dx = gradX;
      else gradX.dispose();
      if (needs[1]) dgamma = columnSums(gxhat, gamma);
      gxhat.dispose();
    }
    if (needs[2]) dbeta = columnSums(g, beta);
    // A tape entry runs once: the saved statistics are not needed after it.
    stats.dispose();
    return [dx, dgamma, dbeta];
  });
  if (!y.hasCreator) stats.dispose();
  return y;
}

/** Per-row mean and 1/√(biased variance + eps), float64, two-pass. */
function rowStats(x: ArrayLike<number>, i: number, d: number, eps: number): { mu: number; rstd: number } {
  let mu = 0;
  for (let c = 0; c < d; c++) mu += x[i * d + c];
  mu /= d;
  let v = 0;
  for (let c = 0; c < d; c++) v += (x[i * d + c] - mu) ** 2;
  return { mu, rstd: 1 / Math.sqrt(v / d + eps) };
}

/** float64 references (row-major arrays; x is [n, d] with d = gamma.length). */
export const layerNormReference = {
  forward(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps = 1e-5): Float64Array {
    const d = gamma.length;
    const n = x.length / d;
    const y = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const { mu, rstd } = rowStats(x, i, d, eps);
      for (let c = 0; c < d; c++) y[i * d + c] = (x[i * d + c] - mu) * rstd * gamma[c] + beta[c];
    }
    return y;
  },

  /** Gradients of Σ g·y for upstream g [n, d]: dx [n, d], dγ and dβ [d]. */
  backward(x: ArrayLike<number>, gamma: ArrayLike<number>, g: ArrayLike<number>, eps = 1e-5): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
    const d = gamma.length;
    const n = x.length / d;
    const dx = new Float64Array(n * d);
    const dgamma = new Float64Array(d);
    const dbeta = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const { mu, rstd } = rowStats(x, i, d, eps);
      let meanGy = 0;
      let meanGyXhat = 0;
      for (let c = 0; c < d; c++) {
        const e = i * d + c;
        const xhat = (x[e] - mu) * rstd;
        meanGy += g[e] * gamma[c];
        meanGyXhat += g[e] * gamma[c] * xhat;
        dgamma[c] += g[e] * xhat;
        dbeta[c] += g[e];
      }
      meanGy /= d;
      meanGyXhat /= d;
      for (let c = 0; c < d; c++) {
        const e = i * d + c;
        dx[e] = rstd * (g[e] * gamma[c] - meanGy - (x[e] - mu) * rstd * meanGyXhat);
      }
    }
    return { dx, dgamma, dbeta };
  },
};
