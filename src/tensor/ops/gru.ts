// GRU cell in PyTorch's GRUCell convention (TGN's memory updater): the two input projections are
// ordinary matmuls, and everything after them (gates, candidate, blend) is one fused kernel, with one
// fused backward kernel. The backward recomputes the gates from gi, gh and h (see shaders/gru.wgsl).

import source from '../../../shaders/gru.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { addBias } from './elementwise.ts';
import { matmul } from './matmul.ts';

function run(h: Tensor, entryPoint: string, buffers: GPUBuffer[]): void {
  const items = h.size;
  if (items === 0) return;
  const kernel = h.gpu.kernel({ name: 'gru', source: [grid, source], entryPoint });
  h.gpu.dispatch(kernel, params().u32(h.rows).u32(h.cols).u32(0).u32(0), buffers, Math.ceil(items / GRID_BLOCK));
}

function checkGates(gi: Tensor, gh: Tensor, h: Tensor): void {
  for (const [name, t] of [['gi', gi], ['gh', gh], ['h', h]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`gruGates: ${name} must be f32, got ${t}`);
    if (t.shape.length !== 2) throw new RangeError(`gruGates: ${name} must be 2-D, got ${t}`);
  }
  const [n, d] = h.shape;
  for (const [name, t] of [['gi', gi], ['gh', gh]] as const) {
    if (t.rows !== n || t.cols !== 3 * d) throw new RangeError(`gruGates: ${name} ${t} must be [${n}, ${3 * d}] (gates r | z | n) for h ${h}`);
  }
}

/**
 * h' = (1 − z)·n + z·h with r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), where
 * gi = x·W_ihᵀ + b_ih and gh = h·W_hhᵀ + b_hh are [n, 3d] (gate blocks r | z | n, as PyTorch) and
 * h is [n, d]. Differentiable in gi, gh and h.
 */
export function gruGates(gi: Tensor, gh: Tensor, h: Tensor): Tensor {
  checkGates(gi, gh, h);
  const out = empty(h.gpu, h.shape, 'f32', 'gru h');
  run(h, 'forward', [gi.buffer, gh.buffer, h.buffer, out.buffer]);
  return record('gruGates', [gi, gh, h], out, (g, needs) => {
    const dgi = empty(h.gpu, gi.shape, 'f32', 'gru dgi');
    const dgh = empty(h.gpu, gh.shape, 'f32', 'gru dgh');
    const dh = empty(h.gpu, h.shape, 'f32', 'gru dh');
    run(h, 'backward', [gi.buffer, gh.buffer, h.buffer, g.buffer, dgi.buffer, dgh.buffer, dh.buffer]);
    // One kernel writes all three; those not wanted go back to the pool.
    const grads = [dgi, dgh, dh];
    return grads.map((t, k) => {
      if (needs[k]) return t;
      t.dispose();
      return null;
    });
  });
}

/**
 * PyTorch GRUCell: x [n, in], h [n, d], wIh [3d, in], wHh [3d, d], optional biases bIh, bHh [3d]
 * (gate rows r | z | n) → h' [n, d]. Differentiable in every argument.
 */
export function gruCell(x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): Tensor {
  if (h.shape.length !== 2 || x.shape.length !== 2 || x.rows !== h.rows) {
    throw new RangeError(`gruCell: x ${x} and h ${h} must be [n, in] and [n, d] with the same n`);
  }
  const d = h.cols;
  if (wIh.shape.length !== 2 || wIh.rows !== 3 * d || wIh.cols !== x.cols) throw new RangeError(`gruCell: wIh ${wIh} must be [${3 * d}, ${x.cols}]`);
  if (wHh.shape.length !== 2 || wHh.rows !== 3 * d || wHh.cols !== d) throw new RangeError(`gruCell: wHh ${wHh} must be [${3 * d}, ${d}]`);
  for (const [name, b] of [['bIh', bIh], ['bHh', bHh]] as const) {
    if (b && b.size !== 3 * d) throw new RangeError(`gruCell: ${name} ${b} must have ${3 * d} elements`);
  }
  const project = (input: Tensor, w: Tensor, b: Tensor | null | undefined): Tensor => {
    const y = matmul(input, w, { transB: true });
    return b ? addBias(y, b) : y;
  };
  return gruGates(project(x, wIh, bIh), project(h, wHh, bHh), h);
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** float64 references (row-major arrays). */
export const gruReference = {
  /** The fused gates: gi, gh [n, 3d], h [n, d] → h' [n, d]. */
  gates(gi: ArrayLike<number>, gh: ArrayLike<number>, h: ArrayLike<number>, n: number, d: number): Float64Array {
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const b = i * 3 * d + c;
        const r = sigmoid(gi[b] + gh[b]);
        const z = sigmoid(gi[b + d] + gh[b + d]);
        const cand = Math.tanh(gi[b + 2 * d] + r * gh[b + 2 * d]);
        out[i * d + c] = (1 - z) * cand + z * h[i * d + c];
      }
    }
    return out;
  },

  /** Gradients of Σ g·h' w.r.t. gi, gh, h. */
  gatesBackward(gi: ArrayLike<number>, gh: ArrayLike<number>, h: ArrayLike<number>, g: ArrayLike<number>, n: number, d: number): { dgi: Float64Array; dgh: Float64Array; dh: Float64Array } {
    const dgi = new Float64Array(n * 3 * d);
    const dgh = new Float64Array(n * 3 * d);
    const dh = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const b = i * 3 * d + c;
        const e = i * d + c;
        const r = sigmoid(gi[b] + gh[b]);
        const z = sigmoid(gi[b + d] + gh[b + d]);
        const cand = Math.tanh(gi[b + 2 * d] + r * gh[b + 2 * d]);
        const dCand = g[e] * (1 - z);
        const a = dCand * (1 - cand * cand);
        const dzPre = g[e] * (h[e] - cand) * z * (1 - z);
        const drPre = a * gh[b + 2 * d] * r * (1 - r);
        dgi[b] = dgh[b] = drPre;
        dgi[b + d] = dgh[b + d] = dzPre;
        dgi[b + 2 * d] = a;
        dgh[b + 2 * d] = a * r;
        dh[e] = g[e] * z;
      }
    }
    return { dgi, dgh, dh };
  },

  /**
   * torch.nn.GRUCell written out from its documented equations: x [n, in], h [n, d], wIh [3d, in],
   * wHh [3d, d], bIh, bHh [3d] (null: no bias).
   */
  cell(
    x: ArrayLike<number>,
    h: ArrayLike<number>,
    wIh: ArrayLike<number>,
    wHh: ArrayLike<number>,
    bIh: ArrayLike<number> | null,
    bHh: ArrayLike<number> | null,
    n: number,
    inputs: number,
    d: number,
  ): Float64Array {
    const out = new Float64Array(n * d);
    // Row q of W·v + b for one sample.
    const lin = (w: ArrayLike<number>, b: ArrayLike<number> | null, v: ArrayLike<number>, offset: number, width: number, q: number): number => {
      let s = b ? b[q] : 0;
      for (let k = 0; k < width; k++) s += w[q * width + k] * v[offset + k];
      return s;
    };
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const xi = (q: number) => lin(wIh, bIh, x, i * inputs, inputs, q);
        const hi = (q: number) => lin(wHh, bHh, h, i * d, d, q);
        const r = sigmoid(xi(c) + hi(c));
        const z = sigmoid(xi(d + c) + hi(d + c));
        const cand = Math.tanh(xi(2 * d + c) + r * hi(2 * d + c));
        out[i * d + c] = (1 - z) * cand + z * h[i * d + c];
      }
    }
    return out;
  },
};
