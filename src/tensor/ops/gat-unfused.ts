// Unfused graph attention: the reference path for tests and the benchmark of the fused gatAttention.
// Built from simple differentiable ops that materialise the edges × heads tensors an ordinary
// implementation stores (edge scores e, coefficients α, dropped α̃: [E, H] each, E = edges in CSR
// order), each with its own forward, backward (recorded on the tape) and float64 reference. Same
// semantics and the same dropout masks (key: rngPrefix(seed, stream, step), edge id, head) as
// gatAttention. Backwards run per destination on the CSR and per source on the CSC: no float atomics.

import source from '../../../shaders/gat-unfused.wgsl?raw';
import type { Params } from '../../gpu/params.ts';
import type { Csr } from '../csr-structure.ts';
import { empty } from '../create.ts';
import type { GraphCsr } from '../graph-csr.ts';
import { RNG_STREAM, rngPrefix } from '../random.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { GAT_WG, gatKernel, gatUniforms } from './gat-params.ts';
import type { GatAttentionOptions } from './gat-attention.ts';
import { gatDropoutFactor } from './gat-attention.ts';
import { sumColumns } from './reduce.ts';

const WG = GAT_WG;

interface Shape {
  n: number;
  H: number;
  F: number;
  nnz: number;
}

interface Extra {
  prefix?: number;
  p?: number;
  slope?: number;
}

function uniforms(s: Shape, extra: Extra = {}): Params {
  return gatUniforms({ n: s.n, heads: s.H, F: s.F, nnz: s.nnz, ...extra });
}

function run(gpu: Tensor['gpu'], entryPoint: string, p: Params, buffers: GPUBuffer[], items: number): void {
  if (items === 0) return;
  const kernel = gatKernel(gpu, 'gat-unfused', source, entryPoint);
  gpu.dispatch(kernel, p, buffers, Math.ceil(items / WG));
}

function checkF32(what: string, ...ts: Array<[string, Tensor]>): void {
  for (const [name, t] of ts) if (t.dtype !== 'f32') throw new TypeError(`${what}: ${name} ${t} must be f32`);
}

/** Per-head dot products: out[n, h] = Σ_c z[n, h·F + c]·a[h·F + c]. z: [N, H·F], a: [H, F] or [H·F] → [N, H]. */
export function gatHeadDot(z: Tensor, a: Tensor, heads: number): Tensor {
  const what = 'gatHeadDot';
  checkF32(what, ['z', z], ['a', a]);
  if (z.shape.length !== 2 || z.cols % heads !== 0 || a.size !== z.cols) {
    throw new RangeError(`${what}: z ${z} must be [N, H·F] and a ${a} have H·F elements, with H = ${heads}`);
  }
  const s: Shape = { n: z.rows, H: heads, F: z.cols / heads, nnz: 0 };
  const out = empty(z.gpu, [s.n, heads], 'f32', 'gat head dot');
  run(z.gpu, 'head_dot', uniforms(s), [z.buffer, a.buffer, out.buffer], s.n * heads);
  return record(what, [z, a], out, (g, needs) => {
    const p = uniforms(s);
    let dz: Tensor | null = null;
    let da: Tensor | null = null;
    if (needs[0]) {
      dz = empty(z.gpu, z.shape, 'f32', 'gat head dot dz');
      run(z.gpu, 'head_dot_grad_z', p, [g.buffer, a.buffer, dz.buffer], s.n * z.cols);
    }
    if (needs[1]) {
      const prod = empty(z.gpu, z.shape, 'f32', 'gat head dot products');
      run(z.gpu, 'head_dot_products', p, [g.buffer, z.buffer, prod.buffer], s.n * z.cols);
      const sums = sumColumns(prod);
      prod.dispose();
      da = empty(z.gpu, a.shape, 'f32', 'gat head dot da');
      if (da.size > 0) z.gpu.encoder.copy(sums.buffer, 0, da.buffer, 0, da.size * 4);
      sums.dispose();
    }
    return [dz, da];
  });
}

function graphShape(what: string, graph: GraphCsr, nodeTensors: Array<[string, Tensor]>, edgeTensors: Array<[string, Tensor]>, heads: number): void {
  for (const [name, t] of nodeTensors) {
    if (t.shape.length !== 2 || t.rows !== graph.numNodes || t.cols !== heads) {
      throw new RangeError(`${what}: ${name} ${t} must be [${graph.numNodes}, ${heads}] for ${graph}`);
    }
  }
  for (const [name, t] of edgeTensors) {
    if (t.shape.length !== 2 || t.rows !== graph.numEdges || t.cols !== heads) {
      throw new RangeError(`${what}: ${name} ${t} must be [${graph.numEdges}, ${heads}] (edges × heads) for ${graph}`);
    }
  }
}

/** Edge scores e[k, h] = LeakyReLU(s[src(k), h] + d[dst(k), h]) in CSR order. s, d: [N, H] → [E, H]. */
export function gatEdgeScores(graph: GraphCsr, s: Tensor, d: Tensor, negativeSlope = 0.2): Tensor {
  const what = 'gatEdgeScores';
  checkF32(what, ['s', s], ['d', d]);
  const H = s.cols;
  graphShape(what, graph, [['s', s], ['d', d]], [], H);
  const sh: Shape = { n: graph.numNodes, H, F: 1, nnz: graph.numEdges };
  const p = uniforms(sh, { slope: negativeSlope });
  const e = empty(s.gpu, [graph.numEdges, H], 'f32', 'gat edge scores');
  run(s.gpu, 'edge_scores', p, [graph.topology, s.buffer, d.buffer, e.buffer], sh.n * H);
  return record(what, [s, d], e, (g, needs) => {
    const grad = (entry: string): Tensor => {
      const out = empty(s.gpu, s.shape, 'f32', `gat ${entry}`);
      run(s.gpu, entry, p, [graph.topology, s.buffer, d.buffer, g.buffer, out.buffer], sh.n * H);
      return out;
    };
    return [needs[0] ? grad('edge_scores_grad_src') : null, needs[1] ? grad('edge_scores_grad_dst') : null];
  });
}

/** Softmax of [E, H] edge values over each destination's in-edges (per head) → α [E, H]. */
export function gatSegmentSoftmax(graph: GraphCsr, e: Tensor): Tensor {
  const what = 'gatSegmentSoftmax';
  checkF32(what, ['e', e]);
  const H = e.cols;
  graphShape(what, graph, [], [['e', e]], H);
  const sh: Shape = { n: graph.numNodes, H, F: 1, nnz: graph.numEdges };
  const p = uniforms(sh);
  const alpha = empty(e.gpu, e.shape, 'f32', 'gat alpha');
  run(e.gpu, 'softmax', p, [graph.topology, e.buffer, alpha.buffer], sh.n * H);
  return record(what, [e], alpha, (g, needs) => {
    if (!needs[0]) return [null];
    const de = empty(e.gpu, e.shape, 'f32', 'gat alpha grad');
    run(e.gpu, 'softmax_grad', p, [graph.topology, alpha.buffer, g.buffer, de.buffer], sh.n * H);
    return [de];
  });
}

export interface GatEdgeDropoutOptions {
  p: number;
  seed: number;
  stream: number;
  step: number;
}

/** Attention dropout of an [E, H] tensor with gatAttention's masks (edge id k in CSR order, head h). */
export function gatEdgeDropout(x: Tensor, options: GatEdgeDropoutOptions): Tensor {
  const what = 'gatEdgeDropout';
  checkF32(what, ['x', x]);
  if (x.shape.length !== 2) throw new RangeError(`${what}: x ${x} must be [E, H]`);
  if (!(options.p >= 0 && options.p <= 1)) throw new RangeError(`${what}: p must be in [0, 1], got ${options.p}`);
  const sh: Shape = { n: 0, H: x.cols, F: 1, nnz: x.rows };
  const p = uniforms(sh, { p: options.p, prefix: rngPrefix(options.seed, options.stream, options.step) });
  const apply = (from: Tensor): Tensor => {
    const to = empty(x.gpu, x.shape, 'f32', 'gat edge dropout');
    run(x.gpu, 'edge_dropout', p, [from.buffer, to.buffer], x.size);
    return to;
  };
  const y = apply(x);
  return record(what, [x], y, (g, needs) => [needs[0] ? apply(g) : null]);
}

/** out[i, h·F + c] = Σ_{k in row i} w[k, h]·z[src(k), h·F + c]. w: [E, H], z: [N, H·F] → [N, H·F]. */
export function gatAggregate(graph: GraphCsr, w: Tensor, z: Tensor): Tensor {
  const what = 'gatAggregate';
  checkF32(what, ['w', w], ['z', z]);
  const H = w.cols;
  graphShape(what, graph, [], [['w', w]], H);
  if (z.shape.length !== 2 || z.rows !== graph.numNodes || z.cols % H !== 0) {
    throw new RangeError(`${what}: z ${z} must be [${graph.numNodes}, H·F] with H = ${H} for ${graph}`);
  }
  const sh: Shape = { n: graph.numNodes, H, F: z.cols / H, nnz: graph.numEdges };
  const p = uniforms(sh);
  const out = empty(z.gpu, z.shape, 'f32', 'gat aggregate');
  run(z.gpu, 'aggregate', p, [graph.topology, w.buffer, z.buffer, out.buffer], sh.n * z.cols);
  return record(what, [w, z], out, (g, needs) => {
    let dw: Tensor | null = null;
    let dz: Tensor | null = null;
    if (needs[0]) {
      dw = empty(z.gpu, w.shape, 'f32', 'gat aggregate dw');
      run(z.gpu, 'aggregate_grad_w', p, [graph.topology, z.buffer, g.buffer, dw.buffer], sh.n * H);
    }
    if (needs[1]) {
      dz = empty(z.gpu, z.shape, 'f32', 'gat aggregate dz');
      run(z.gpu, 'aggregate_grad_z', p, [graph.topology, w.buffer, g.buffer, dz.buffer], sh.n * z.cols);
    }
    return [dw, dz];
  });
}

/**
 * gatAttention built from the ops above (same signature, semantics and dropout masks), storing
 * s, d: [N, H] and e, α, α̃: [E, H] for its backward. For tests and for the fused op's benchmark.
 */
export function gatAttentionUnfused(graph: GraphCsr, z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Tensor {
  const what = 'gatAttentionUnfused';
  const H = options.heads;
  if (!Number.isInteger(H) || H < 1) throw new RangeError(`${what}: heads must be a positive integer, got ${H}`);
  if (z.shape.length !== 2 || z.rows !== graph.numNodes || z.cols % H !== 0) {
    throw new RangeError(`${what}: z ${z} must be [${graph.numNodes}, H·F] with H = ${H} heads for ${graph}`);
  }
  for (const [name, t] of [['aSrc', aSrc], ['aDst', aDst]] as const) {
    if (t.size !== z.cols) throw new RangeError(`${what}: ${name} ${t} must be [${H}, ${z.cols / H}] or [${z.cols}] for z ${z}`);
  }
  const p = options.dropout ?? 0;
  const s = gatHeadDot(z, aSrc, H);
  const d = gatHeadDot(z, aDst, H);
  const e = gatEdgeScores(graph, s, d, options.negativeSlope ?? 0.2);
  const alpha = gatSegmentSoftmax(graph, e);
  const dropped =
    p > 0
      ? gatEdgeDropout(alpha, { p, seed: options.seed ?? 0, stream: options.stream ?? RNG_STREAM.attentionDropout, step: options.step ?? 0 })
      : alpha;
  return gatAggregate(graph, dropped, z);
}

// ---- float64 references (forward) ----

export const gatUnfusedReference = {
  /** z: N × H·F, a: H·F → N × H. */
  headDot(z: ArrayLike<number>, a: ArrayLike<number>, n: number, heads: number): Float64Array {
    const HF = a.length;
    const F = HF / heads;
    const out = new Float64Array(n * heads);
    for (let i = 0; i < n; i++) for (let h = 0; h < heads; h++) for (let c = 0; c < F; c++) out[i * heads + h] += z[i * HF + h * F + c] * a[h * F + c];
    return out;
  },
  /** s, d: N × H → E × H (CSR order). */
  edgeScores(csr: Csr, s: ArrayLike<number>, d: ArrayLike<number>, heads: number, slope = 0.2): Float64Array {
    const e = new Float64Array(csr.rowPtr[csr.numRows] * heads);
    for (let i = 0; i < csr.numRows; i++) {
      for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
        for (let h = 0; h < heads; h++) {
          const t = s[csr.colIdx[k] * heads + h] + d[i * heads + h];
          e[k * heads + h] = t > 0 ? t : slope * t;
        }
      }
    }
    return e;
  },
  segmentSoftmax(csr: Csr, e: ArrayLike<number>, heads: number): Float64Array {
    const alpha = new Float64Array(e.length);
    for (let i = 0; i < csr.numRows; i++) {
      const lo = csr.rowPtr[i];
      const hi = csr.rowPtr[i + 1];
      for (let h = 0; h < heads; h++) {
        let m = -Infinity;
        for (let k = lo; k < hi; k++) m = Math.max(m, e[k * heads + h]);
        let den = 0;
        for (let k = lo; k < hi; k++) den += Math.exp(e[k * heads + h] - m);
        for (let k = lo; k < hi; k++) alpha[k * heads + h] = Math.exp(e[k * heads + h] - m) / den;
      }
    }
    return alpha;
  },
  edgeDropout(x: ArrayLike<number>, heads: number, options: GatEdgeDropoutOptions): Float64Array {
    const out = new Float64Array(x.length);
    const ref = { heads, dropout: options.p, seed: options.seed, stream: options.stream, step: options.step };
    for (let t = 0; t < x.length; t++) out[t] = x[t] * gatDropoutFactor(ref, Math.floor(t / heads), t % heads);
    return out;
  },
  /** w: E × H, z: N × H·F → N × H·F. */
  aggregate(csr: Csr, w: ArrayLike<number>, z: ArrayLike<number>, heads: number): Float64Array {
    const n = csr.numRows;
    const HF = n > 0 ? z.length / n : 0;
    const F = HF / heads;
    const out = new Float64Array(n * HF);
    for (let i = 0; i < n; i++) {
      for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
        const j = csr.colIdx[k];
        for (let h = 0; h < heads; h++) for (let c = 0; c < F; c++) out[i * HF + h * F + c] += w[k * heads + h] * z[j * HF + h * F + c];
      }
    }
    return out;
  },
};
