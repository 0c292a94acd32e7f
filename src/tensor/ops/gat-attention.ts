// Fused multi-head graph attention (the message passing of GATConv) with attention rematerialization:
// the forward saves only per-(node, head) softmax statistics (scores s, d, max, denominator: 4·N·H
// floats) and never an edge tensor; the backward recomputes α from them, on the CSR (per destination)
// and then on the CSC (per source), so it needs no float atomics and is deterministic. Attention
// dropout masks are keyed by (edge id in CSR order, head) and regenerated, never stored.

import gatSource from '../../../shaders/gat.wgsl?raw';
import type { Params } from '../../gpu/params.ts';
import type { Csr } from '../csr-structure.ts';
import { empty } from '../create.ts';
import type { GraphCsr } from '../graph-csr.ts';
import { RNG_STREAM, rngPrefix, rngUniform } from '../random.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { GAT_WG, gatKernel, gatUniforms } from './gat-params.ts';
import { sumColumns } from './reduce.ts';

/** Rows per chunk of the attention-vector gradient's first reduction (mirrors att_rows_per_chunk in gat.wgsl). */
function attRowsPerChunk(n: number): number {
  return Math.max(16, Math.ceil(n / 1024));
}

const WG = GAT_WG;

export interface GatAttentionOptions {
  heads: number;
  /** LeakyReLU slope of the attention scores (default 0.2). */
  negativeSlope?: number;
  /** Attention dropout probability on the coefficients α, in [0, 1] (default 0; inverted scaling). */
  dropout?: number;
  seed?: number;
  /** Names the use (default RNG_STREAM.attentionDropout; layers add their index). */
  stream?: number;
  /** Training step: a new mask each step. */
  step?: number;
}

interface Resolved {
  H: number;
  F: number;
  slope: number;
  p: number;
  seed: number;
  stream: number;
  step: number;
}

function resolve(graph: GraphCsr, z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Resolved {
  const H = options.heads;
  const what = 'gatAttention';
  if (!Number.isInteger(H) || H < 1) throw new RangeError(`${what}: heads must be a positive integer, got ${H}`);
  for (const [name, t] of [['z', z], ['aSrc', aSrc], ['aDst', aDst]] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`${what}: ${name} ${t} must be f32`);
  }
  if (z.shape.length !== 2 || z.rows !== graph.numNodes || z.cols % H !== 0) {
    throw new RangeError(`${what}: z ${z} must be [${graph.numNodes}, H·F] with H = ${H} heads for ${graph}`);
  }
  const F = z.cols / H;
  for (const [name, t] of [['aSrc', aSrc], ['aDst', aDst]] as const) {
    const ok = (t.shape.length === 2 && t.shape[0] === H && t.shape[1] === F) || (t.shape.length === 1 && t.shape[0] === H * F);
    if (!ok) throw new RangeError(`${what}: ${name} ${t} must be [${H}, ${F}] or [${H * F}] for z ${z} with ${H} heads`);
  }
  return { H, F, ...attentionSettings(options, what) };
}

/** The options' dropout, slope and mask key with their defaults, checked; `what` prefixes the error. */
export function attentionSettings(options: GatAttentionOptions, what: string): Omit<Resolved, 'H' | 'F'> {
  const p = options.dropout ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what}: dropout must be in [0, 1], got ${p}`);
  const slope = options.negativeSlope ?? 0.2;
  if (!Number.isFinite(slope)) throw new RangeError(`${what}: negativeSlope must be finite, got ${slope}`);
  const seed = options.seed ?? 0;
  const stream = options.stream ?? RNG_STREAM.attentionDropout;
  const step = options.step ?? 0;
  for (const [name, v] of [['seed', seed], ['stream', stream], ['step', step]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${name} must be a u32, got ${v}`);
  }
  return { slope, p, seed, stream, step };
}

function uniforms(graph: GraphCsr, r: Resolved): Params {
  return gatUniforms({ n: graph.numNodes, heads: r.H, F: r.F, nnz: graph.numEdges, prefix: rngPrefix(r.seed, r.stream, r.step), p: r.p, slope: r.slope });
}

function kernel(gpu: Tensor['gpu'], entryPoint: string): GPUComputePipeline {
  return gatKernel(gpu, 'gat', gatSource, entryPoint);
}

/**
 * Multi-head attention aggregation over `graph` (rows = destinations, self loops included by the caller):
 * out_i,h = Σ_j α̃_ij,h z_j,h with α = softmax_j(LeakyReLU(aSrc_h·z_j,h + aDst_h·z_i,h)) and α̃ = α after
 * attention dropout. z: [N, H·F] (head h in columns h·F..h·F+F−1), aSrc, aDst: [H, F] or [H·F].
 * Returns [N, H·F] (heads concatenated). Differentiable w.r.t. z, aSrc and aDst. A node with no
 * in-edges gets 0.
 */
export function gatAttention(graph: GraphCsr, z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Tensor {
  const r = resolve(graph, z, aSrc, aDst, options);
  const gpu = z.gpu;
  const N = graph.numNodes;
  const HF = r.H * r.F;
  const topology = graph.topology;
  const out = empty(gpu, [N, HF], 'f32', 'gat attention');
  // s | d | max | denominator, N·H each (at least one element: bindings cannot be empty).
  const stats = empty(gpu, [Math.max(1, 4 * N * r.H)], 'f32', 'gat attention stats');
  if (N > 0 && HF > 0) {
    const p = uniforms(graph, r);
    gpu.dispatch(kernel(gpu, 'scores'), p, [z.buffer, aSrc.buffer, aDst.buffer, stats.buffer], Math.ceil((N * r.H) / WG));
    gpu.dispatch(kernel(gpu, 'forward'), p, [topology, z.buffer, stats.buffer, out.buffer], Math.ceil((N * HF) / WG));
  }
  record('gatAttention', [z, aSrc, aDst], out, (g, needs) => gatBackward(graph, z, aSrc, aDst, stats, g, needs, r));
  if (!out.hasCreator) stats.dispose();
  return out;
}

function gatBackward(
  graph: GraphCsr,
  z: Tensor,
  aSrc: Tensor,
  aDst: Tensor,
  stats: Tensor,
  g: Tensor,
  needs: boolean[],
  r: Resolved,
): Array<Tensor | null> {
  const gpu = z.gpu;
  const N = graph.numNodes;
  const HF = r.H * r.F;
  const topology = graph.topology;
  const dz = needs[0] ? empty(gpu, z.shape, 'f32', 'gat attention dz') : null;
  const needA = needs[1] || needs[2];
  if (N === 0 || HF === 0) {
    // Nothing to sum: zero gradients (aSrc, aDst have H·F = 0 elements or every sum is empty).
    const zeroA = (a: Tensor): Tensor => {
      const t = empty(gpu, a.shape, 'f32', 'gat attention da');
      if (t.size > 0) gpu.encoder.clear(t.buffer, 0, t.byteLength);
      return t;
    };
    stats.dispose();
    return [dz, needs[1] ? zeroA(aSrc) : null, needs[2] ? zeroA(aDst) : null];
  }
  const p = uniforms(graph, r);
  // c | dd | ds, N·H each.
  const bstats = empty(gpu, [3 * N * r.H], 'f32', 'gat attention bstats');
  const items = Math.ceil((N * r.H) / WG);
  gpu.dispatch(kernel(gpu, 'grad_dst'), p, [topology, z.buffer, g.buffer, stats.buffer, bstats.buffer], items);
  gpu.dispatch(kernel(gpu, 'grad_src'), p, [topology, z.buffer, g.buffer, stats.buffer, bstats.buffer], items);
  if (dz) {
    gpu.dispatch(
      kernel(gpu, 'grad_z'),
      p,
      [topology, g.buffer, stats.buffer, bstats.buffer, aSrc.buffer, aDst.buffer, dz.buffer],
      Math.ceil((N * HF) / WG),
    );
  }
  let daSrc: Tensor | null = null;
  let daDst: Tensor | null = null;
  if (needA) {
    // Σ_j [ds_j·z_j | dd_j·z_j] = [daSrc | daDst], summed per chunk of rows and then over chunks
    // (fixed order), without storing the N × 2HF products.
    const chunks = Math.ceil(N / attRowsPerChunk(N));
    const partial = empty(gpu, [chunks, 2 * HF], 'f32', 'gat attention partial sums');
    gpu.dispatch(kernel(gpu, 'att_partials'), p, [z.buffer, bstats.buffer, partial.buffer], Math.ceil((chunks * 2 * HF) / WG));
    const sums = sumColumns(partial);
    partial.dispose();
    if (needs[1]) {
      daSrc = empty(gpu, aSrc.shape, 'f32', 'gat attention daSrc');
      gpu.encoder.copy(sums.buffer, 0, daSrc.buffer, 0, HF * 4);
    }
    if (needs[2]) {
      daDst = empty(gpu, aDst.shape, 'f32', 'gat attention daDst');
      gpu.encoder.copy(sums.buffer, HF * 4, daDst.buffer, 0, HF * 4);
    }
    sums.dispose();
  }
  bstats.dispose();
  // A tape entry runs once: the saved statistics are not needed after it.
  stats.dispose();
  return [dz, daSrc, daDst];
}

// ---- float64 reference ----

/** The reference takes exactly the op's options. */
export type GatReferenceOptions = GatAttentionOptions;

export interface GatReferenceResult {
  out: Float64Array;
  /** Gradients for upstream gradient g (present when g is given). */
  dz?: Float64Array;
  daSrc?: Float64Array;
  daDst?: Float64Array;
  /** Per element, the sum of the absolute values of the terms that make it up (with g): the scale of
   * f32 rounding error, for test tolerances (dα − c and Σ ds·z cancel, so |result| is no scale). */
  magnitude?: { out: Float64Array; dz: Float64Array; daSrc: Float64Array; daDst: Float64Array };
}

/** The factor the GPU applies to α of edge k, head h: 0 when dropped, 1/(1 − p) when kept (f64). */
export function gatDropoutFactor(options: GatReferenceOptions, k: number, h: number): number {
  const p = options.dropout ?? 0;
  if (p <= 0) return 1;
  const u = rngUniform(options.seed ?? 0, options.stream ?? RNG_STREAM.attentionDropout, options.step ?? 0, k, h);
  return u < Math.fround(p) ? 0 : 1 / (1 - p);
}

/**
 * float64 forward (and backward for upstream gradient g) of gatAttention on `csr` (rows = destinations);
 * z row-major N × H·F, aSrc and aDst H·F, g N × H·F. Same dropout masks as the GPU.
 */
export function gatAttentionReference(
  csr: Csr,
  z: ArrayLike<number>,
  aSrc: ArrayLike<number>,
  aDst: ArrayLike<number>,
  options: GatReferenceOptions,
  g?: ArrayLike<number>,
): GatReferenceResult {
  const H = options.heads;
  const N = csr.numRows;
  const HF = N > 0 ? z.length / N : aSrc.length;
  const F = HF / H;
  const slope = options.negativeSlope ?? 0.2;
  const lrelu = (t: number): number => (t > 0 ? t : slope * t);
  const dlrelu = (t: number): number => (t > 0 ? 1 : slope);
  const s = new Float64Array(N * H);
  const d = new Float64Array(N * H);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let c = 0; c < F; c++) {
        s[n * H + h] += aSrc[h * F + c] * z[n * HF + h * F + c];
        d[n * H + h] += aDst[h * F + c] * z[n * HF + h * F + c];
      }
    }
  }
  const nnz = csr.rowPtr[N];
  // Per-edge values are fine here: the reference is for small test graphs.
  const alpha = new Float64Array(nnz * H);
  const factor = new Float64Array(nnz * H);
  const out = new Float64Array(N * HF);
  for (let i = 0; i < N; i++) {
    const lo = csr.rowPtr[i];
    const hi = csr.rowPtr[i + 1];
    for (let h = 0; h < H; h++) {
      let m = -Infinity;
      for (let k = lo; k < hi; k++) m = Math.max(m, lrelu(s[csr.colIdx[k] * H + h] + d[i * H + h]));
      let den = 0;
      for (let k = lo; k < hi; k++) den += Math.exp(lrelu(s[csr.colIdx[k] * H + h] + d[i * H + h]) - m);
      for (let k = lo; k < hi; k++) {
        const j = csr.colIdx[k];
        const a = Math.exp(lrelu(s[j * H + h] + d[i * H + h]) - m) / den;
        alpha[k * H + h] = a;
        factor[k * H + h] = gatDropoutFactor(options, k, h);
        for (let c = 0; c < F; c++) out[i * HF + h * F + c] += a * factor[k * H + h] * z[j * HF + h * F + c];
      }
    }
  }
  if (!g) return { out };
  const dz = new Float64Array(N * HF);
  const daSrc = new Float64Array(HF);
  const daDst = new Float64Array(HF);
  const daSrcMag = new Float64Array(HF);
  const daDstMag = new Float64Array(HF);
  const ds = new Float64Array(N * H);
  const dd = new Float64Array(N * H);
  const outMag = new Float64Array(N * HF);
  const dzMag = new Float64Array(N * HF);
  const dsMag = new Float64Array(N * H);
  const ddMag = new Float64Array(N * H);
  for (let i = 0; i < N; i++) {
    for (let h = 0; h < H; h++) {
      const lo = csr.rowPtr[i];
      const hi = csr.rowPtr[i + 1];
      const dAlpha = new Float64Array(hi - lo);
      let ci = 0;
      for (let k = lo; k < hi; k++) {
        const j = csr.colIdx[k];
        let dot = 0;
        for (let c = 0; c < F; c++) {
          dot += g[i * HF + h * F + c] * z[j * HF + h * F + c];
          // dz_j += α̃_ij g_i
          dz[j * HF + h * F + c] += alpha[k * H + h] * factor[k * H + h] * g[i * HF + h * F + c];
          dzMag[j * HF + h * F + c] += Math.abs(alpha[k * H + h] * factor[k * H + h] * g[i * HF + h * F + c]);
          outMag[i * HF + h * F + c] += Math.abs(alpha[k * H + h] * factor[k * H + h] * z[j * HF + h * F + c]);
        }
        dAlpha[k - lo] = dot * factor[k * H + h];
        ci += alpha[k * H + h] * dAlpha[k - lo];
      }
      let ciMag = 0;
      for (let k = lo; k < hi; k++) ciMag += Math.abs(alpha[k * H + h] * dAlpha[k - lo]);
      for (let k = lo; k < hi; k++) {
        const j = csr.colIdx[k];
        const lr = dlrelu(s[j * H + h] + d[i * H + h]);
        const dt = alpha[k * H + h] * (dAlpha[k - lo] - ci) * lr;
        const dtMag = alpha[k * H + h] * (Math.abs(dAlpha[k - lo]) + ciMag) * lr;
        dd[i * H + h] += dt;
        ds[j * H + h] += dt;
        ddMag[i * H + h] += dtMag;
        dsMag[j * H + h] += dtMag;
      }
    }
  }
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let c = 0; c < F; c++) {
        const col = h * F + c;
        dz[n * HF + col] += ds[n * H + h] * aSrc[col] + dd[n * H + h] * aDst[col];
        daSrc[col] += ds[n * H + h] * z[n * HF + col];
        daDst[col] += dd[n * H + h] * z[n * HF + col];
        dzMag[n * HF + col] += dsMag[n * H + h] * Math.abs(aSrc[col]) + ddMag[n * H + h] * Math.abs(aDst[col]);
        daSrcMag[col] += dsMag[n * H + h] * Math.abs(z[n * HF + col]);
        daDstMag[col] += ddMag[n * H + h] * Math.abs(z[n * HF + col]);
      }
    }
  }
  return { out, dz, daSrc, daDst, magnitude: { out: outMag, dz: dzMag, daSrc: daSrcMag, daDst: daDstMag } };
}
