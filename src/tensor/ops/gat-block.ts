// Graph attention one adjacency block at a time (shaders/gat-block.wgsl): the building blocks of GAT over
// a partitioned graph (SAR), where a worker's rows read in-neighbours held by several workers and sees
// them one block (its own rows, then one peer's halo) at a time. The softmax runs online across blocks,
// the forward saves only per-(row, head) statistics (s, d, max, denominator), and the backward recomputes
// α block by block, per destination (CSR) and per source (CSC), so nothing is atomic and every sum has
// a fixed order. Dropout masks are keyed by each entry's GLOBAL edge id, so they equal gatAttention's on
// the whole graph.
//
// Not recorded on the tape, except gatBlockAttention: the composition of the steps over blocks that are
// all on this device (one worker's view with its halos already fetched), differentiable w.r.t. the
// rows of every block, aSrc and aDst; the kernel cases check it against the whole-graph reference.

import random from '../../../shaders/random.wgsl?raw';
import functions from '../../../shaders/gat-functions.wgsl?raw';
import source from '../../../shaders/gat-block.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params, type Params } from '../../gpu/params.ts';
import type { Csr } from '../csr-structure.ts';
import { empty, zeros } from '../create.ts';
import { rngPrefix } from '../random.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { dropoutScale } from './dropout.ts';
import { axpyInPlace } from './elementwise.ts';
import { attentionSettings, gatDropoutFactor, type GatAttentionOptions } from './gat-attention.ts';
import { sumColumns } from './reduce.ts';

const WG = 64;
/** The shader's "no score yet" (the most negative finite f32; exp(LOWEST − score) underflows to 0). */
const LOWEST = -3.40282e38;

// ---- topology ----

/**
 * One block on the GPU: rows are destinations (n), columns the block's source rows (m); every entry
 * carries its global edge id. Layout: see shaders/gat-block.wgsl.
 */
export class GatBlockTopology {
  private buffer_: GPUBuffer | null;

  private constructor(
    readonly gpu: Gpu,
    readonly label: string,
    readonly numRows: number,
    readonly numCols: number,
    readonly nnz: number,
    buffer: GPUBuffer,
  ) {
    this.buffer_ = buffer;
  }

  /** `csr` (values ignored) with `entryIds[k]` the global edge id of its stored entry k. */
  static fromCsr(gpu: Gpu, csr: Csr, entryIds: ArrayLike<number>, label = 'gat block'): GatBlockTopology {
    const data = blockTopologyData(csr, entryIds, label);
    if (data.byteLength > gpu.maxStorageBinding) {
      throw new RangeError(`GatBlockTopology '${label}': ${data.byteLength} bytes, over this device's storage binding limit (${gpu.maxStorageBinding})`);
    }
    const buffer = gpu.allocate(data.byteLength, `${label} topology`, true);
    gpu.upload(buffer, data);
    return new GatBlockTopology(gpu, label, csr.numRows, csr.numCols, csr.rowPtr[csr.numRows], buffer);
  }

  get buffer(): GPUBuffer {
    if (!this.buffer_) throw new Error(`gat block '${this.label}' used after dispose`);
    return this.buffer_;
  }

  dispose(): void {
    if (!this.buffer_) return;
    this.gpu.release(this.buffer_);
    this.buffer_ = null;
  }

  toString(): string {
    return `GatBlockTopology(${this.label}, ${this.numRows}×${this.numCols}, ${this.nnz} entries)`;
  }
}

/** [rowPtr | colIdx | edge | cscPtr | cscRow | cscEdge] (u32). */
function blockTopologyData(csr: Csr, entryIds: ArrayLike<number>, label: string): Uint32Array {
  const { numRows: n, numCols: m, rowPtr, colIdx } = csr;
  const nnz = rowPtr[n];
  if (rowPtr.length !== n + 1 || colIdx.length < nnz) throw new RangeError(`GatBlockTopology '${label}': malformed CSR (${n} rows, ${rowPtr.length} offsets, ${colIdx.length} columns)`);
  if (entryIds.length !== nnz) throw new RangeError(`GatBlockTopology '${label}': ${entryIds.length} entry ids for ${nnz} entries`);
  const data = new Uint32Array(n + 1 + (m + 1) + 4 * nnz);
  // Offsets as the shader computes them.
  const colAt = n + 1;
  const edgeAt = colAt + nnz;
  const cscPtrAt = edgeAt + nnz;
  const cscRowAt = cscPtrAt + m + 1;
  const cscEdgeAt = cscRowAt + nnz;
  data.set(rowPtr, 0);
  for (let k = 0; k < nnz; k++) {
    const j = colIdx[k];
    if (!(j >= 0 && j < m)) throw new RangeError(`GatBlockTopology '${label}': entry ${k} has column ${j}, outside 0..${m - 1}`);
    const id = entryIds[k];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`GatBlockTopology '${label}': entry ${k} has edge id ${id}, not a u32`);
    data[colAt + k] = j;
    data[edgeAt + k] = id;
  }
  // CSC by counting sort: destinations visited in order, so each source lists them ascending.
  const counts = new Int32Array(m + 1);
  for (let k = 0; k < nnz; k++) counts[colIdx[k] + 1]++;
  for (let j = 0; j < m; j++) counts[j + 1] += counts[j];
  data.set(counts, cscPtrAt);
  const fill = counts.slice(0, m);
  for (let i = 0; i < n; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const slot = fill[colIdx[k]]++;
      data[cscRowAt + slot] = i;
      data[cscEdgeAt + slot] = entryIds[k];
    }
  }
  return data;
}

// ---- options ----

/** What every block kernel needs besides the tensors. */
export interface GatBlockConfig {
  heads: number;
  /** Features per head. */
  F: number;
  slope: number;
  p: number;
  /** rngPrefix(seed, stream, step) of the attention-dropout masks. */
  prefix: number;
}

/** Validates `options` (as gatAttention does) for rows of `width` = heads·F columns. */
export function gatBlockConfig(options: GatAttentionOptions, width: number, what = 'gatBlock'): GatBlockConfig {
  const H = options.heads;
  if (!Number.isInteger(H) || H < 1) throw new RangeError(`${what}: heads must be a positive integer, got ${H}`);
  if (width % H !== 0) throw new RangeError(`${what}: rows of ${width} columns do not split into ${H} heads`);
  const { slope, p, seed, stream, step } = attentionSettings(options, what);
  return { heads: H, F: width / H, slope, p, prefix: rngPrefix(seed, stream, step) };
}

function uniforms(cfg: GatBlockConfig, n: number, m: number, nnz: number, flag: boolean): Params {
  return params()
    .u32(n)
    .u32(m)
    .u32(cfg.heads)
    .u32(cfg.F)
    .u32(cfg.prefix)
    .u32(nnz)
    .u32(flag ? 1 : 0)
    .u32(0)
    .f32(cfg.p)
    .f32(dropoutScale(cfg.p))
    .f32(cfg.slope)
    .f32(0);
}

function run(gpu: Gpu, entryPoint: string, p: Params, buffers: GPUBuffer[], items: number): void {
  if (items === 0) return;
  const kernel = gpu.kernel({ name: 'gat-block', source: [random, functions, source], entryPoint, constants: { WG } });
  gpu.dispatch(kernel, p, buffers, Math.ceil(items / WG));
}

function checkRows(what: string, t: Tensor, rows: number, cols: number): void {
  if (t.dtype !== 'f32' || t.size !== rows * cols) throw new RangeError(`${what}: ${t} must be f32 [${rows}, ${cols}]`);
}

function checkBlock(what: string, block: GatBlockTopology, n: number, m: number): void {
  if (block.numRows !== n || block.numCols !== m) throw new RangeError(`${what}: ${block} must be ${n}×${m}`);
}

// ---- kernels ----

/** [s | d] of every row of z (rows·H each; s = aSrc_h·z_h, d = aDst_h·z_h). */
export function gatBlockScores(z: Tensor, aSrc: Tensor, aDst: Tensor, cfg: GatBlockConfig): Tensor {
  const HF = cfg.heads * cfg.F;
  checkRows('gatBlockScores: z', z, z.rows, HF);
  checkRows('gatBlockScores: aSrc', aSrc, 1, HF);
  checkRows('gatBlockScores: aDst', aDst, 1, HF);
  const rows = z.size / Math.max(1, HF);
  const sd = empty(z.gpu, [Math.max(1, 2 * rows * cfg.heads)], 'f32', 'gat block scores');
  run(z.gpu, 'scores', uniforms(cfg, rows, 0, 0, false), [z.buffer, aSrc.buffer, aDst.buffer, sd.buffer], rows * cfg.heads);
  return sd;
}

/** Fresh softmax statistics for n destination rows: [max | den | aux] (written by the first block). */
export function gatBlockStats(gpu: Gpu, n: number, cfg: GatBlockConfig): Tensor {
  return empty(gpu, [Math.max(1, 3 * n * cfg.heads)], 'f32', 'gat block stats');
}

/**
 * Folds one block into the running softmax: updates stats (max, den) of the n destination rows and the
 * unnormalised output acc [n, HF]. `first`: stats and acc hold nothing yet (overwritten).
 */
export function gatBlockStep(block: GatBlockTopology, zSrc: Tensor, srcSd: Tensor, dstSd: Tensor, stats: Tensor, acc: Tensor, cfg: GatBlockConfig, first: boolean): void {
  const n = block.numRows;
  const m = block.numCols;
  const HF = cfg.heads * cfg.F;
  checkRows('gatBlockStep: zSrc', zSrc, m, HF);
  checkRows('gatBlockStep: acc', acc, n, HF);
  const p = uniforms(cfg, n, m, block.nnz, first);
  run(acc.gpu, 'block_stats', p, [block.buffer, srcSd.buffer, dstSd.buffer, stats.buffer], n * cfg.heads);
  run(acc.gpu, 'block_out', p, [block.buffer, zSrc.buffer, srcSd.buffer, dstSd.buffer, stats.buffer, acc.buffer], n * HF);
}

/** acc /= den in place (rows without in-edges: 0): acc becomes the attention output. */
export function gatBlockFinish(stats: Tensor, acc: Tensor, cfg: GatBlockConfig): void {
  const HF = cfg.heads * cfg.F;
  const n = acc.size / Math.max(1, HF);
  run(acc.gpu, 'finish', uniforms(cfg, n, 0, 0, false), [stats.buffer, acc.buffer], n * HF);
}

/** Backward start: stats' aux = c_i = g_i·out_i per head; returns dd [n·H] set to 0. */
export function gatBlockRowDots(g: Tensor, out: Tensor, stats: Tensor, cfg: GatBlockConfig): Tensor {
  const HF = cfg.heads * cfg.F;
  const n = out.size / Math.max(1, HF);
  checkRows('gatBlockRowDots: g', g, n, HF);
  const dd = empty(g.gpu, [Math.max(1, n * cfg.heads)], 'f32', 'gat block dd');
  run(g.gpu, 'row_dots', uniforms(cfg, n, 0, 0, false), [g.buffer, out.buffer, stats.buffer, dd.buffer], n * cfg.heads);
  return dd;
}

/** dd += this block's share of ∂L/∂d per destination row and head. */
export function gatBlockGradDst(block: GatBlockTopology, zSrc: Tensor, g: Tensor, srcSd: Tensor, dstSd: Tensor, stats: Tensor, dd: Tensor, cfg: GatBlockConfig): void {
  const HF = cfg.heads * cfg.F;
  checkRows('gatBlockGradDst: zSrc', zSrc, block.numCols, HF);
  checkRows('gatBlockGradDst: g', g, block.numRows, HF);
  const p = uniforms(cfg, block.numRows, block.numCols, block.nnz, false);
  run(g.gpu, 'grad_dst', p, [block.buffer, zSrc.buffer, g.buffer, srcSd.buffer, dstSd.buffer, stats.buffer, dd.buffer], block.numRows * cfg.heads);
}

/** ∂L/∂s of the block's source rows through this block's entries → [m·H]. */
export function gatBlockGradSrc(block: GatBlockTopology, zSrc: Tensor, g: Tensor, srcSd: Tensor, dstSd: Tensor, stats: Tensor, cfg: GatBlockConfig): Tensor {
  const HF = cfg.heads * cfg.F;
  checkRows('gatBlockGradSrc: zSrc', zSrc, block.numCols, HF);
  checkRows('gatBlockGradSrc: g', g, block.numRows, HF);
  const ds = empty(g.gpu, [Math.max(1, block.numCols * cfg.heads)], 'f32', 'gat block ds');
  const p = uniforms(cfg, block.numRows, block.numCols, block.nnz, false);
  run(g.gpu, 'grad_src', p, [block.buffer, zSrc.buffer, g.buffer, srcSd.buffer, dstSd.buffer, stats.buffer, ds.buffer], block.numCols * cfg.heads);
  return ds;
}

/** dz [m, HF] of the block's source rows through α̃ (= Σ_i α̃_ij g_i), written, or added when `accumulate`. */
export function gatBlockGradZ(block: GatBlockTopology, g: Tensor, srcSd: Tensor, dstSd: Tensor, stats: Tensor, dz: Tensor, cfg: GatBlockConfig, accumulate = false): void {
  const HF = cfg.heads * cfg.F;
  checkRows('gatBlockGradZ: g', g, block.numRows, HF);
  checkRows('gatBlockGradZ: dz', dz, block.numCols, HF);
  const p = uniforms(cfg, block.numRows, block.numCols, block.nnz, accumulate);
  run(g.gpu, 'grad_z', p, [block.buffer, g.buffer, srcSd.buffer, dstSd.buffer, stats.buffer, dz.buffer], block.numCols * HF);
}

/** out[j, c] += w[j, head(c)]·a[c] in place (out [rows, HF], w [rows·H], a [HF]). */
export function addScaledRows(out: Tensor, w: Tensor, a: Tensor, cfg: GatBlockConfig): void {
  const HF = cfg.heads * cfg.F;
  checkRows('addScaledRows: a', a, 1, HF);
  const rows = out.size / Math.max(1, HF);
  run(out.gpu, 'add_scaled', uniforms(cfg, rows, 0, 0, false), [w.buffer, a.buffer, out.buffer], rows * HF);
}

/** Σ_j w[j, head(c)]·z[j, c] → [HF] (w [rows·H], z [rows, HF]); chunked partial sums, then a fixed-order column sum. */
export function weightedColumnSums(w: Tensor, z: Tensor, cfg: GatBlockConfig): Tensor {
  const HF = cfg.heads * cfg.F;
  const rows = z.size / Math.max(1, HF);
  if (rows === 0) return zeros(z.gpu, [HF], 'f32', 'gat block column sums');
  const perChunk = Math.max(16, Math.ceil(rows / 1024));
  const chunks = Math.ceil(rows / perChunk);
  const partial = empty(z.gpu, [chunks, HF], 'f32', 'gat block partial sums');
  run(z.gpu, 'weighted_partials', uniforms(cfg, rows, perChunk, 0, false), [w.buffer, z.buffer, partial.buffer], chunks * HF);
  const sums = sumColumns(partial);
  partial.dispose();
  return sums;
}

// ---- the steps composed ----

/** What the forward keeps for the backward: the own rows' [s | d] and [max | den | aux], 5·n·H floats. */
export interface GatBlockSaved {
  sd: Tensor;
  stats: Tensor;
}

/** The online forward for the n rows of `z`: add the blocks one by one (any order), then finish. */
export class GatBlockForward {
  readonly sd: Tensor;
  private readonly stats: Tensor;
  private readonly acc: Tensor;
  private blocks = 0;

  constructor(
    readonly z: Tensor,
    aSrc: Tensor,
    aDst: Tensor,
    readonly cfg: GatBlockConfig,
  ) {
    this.sd = gatBlockScores(z, aSrc, aDst, cfg);
    this.stats = gatBlockStats(z.gpu, z.rows, cfg);
    this.acc = empty(z.gpu, [z.rows, z.cols], 'f32', 'gat block attention');
  }

  /** One block whose destinations are z's rows and whose sources are zSrc's rows (scores srcSd). */
  add(block: GatBlockTopology, zSrc: Tensor, srcSd: Tensor): void {
    checkBlock('GatBlockForward.add', block, this.z.rows, zSrc.rows);
    gatBlockStep(block, zSrc, srcSd, this.sd, this.stats, this.acc, this.cfg, this.blocks === 0);
    this.blocks++;
  }

  /** The attention output [n, HF] and what the backward needs. */
  finish(): { out: Tensor; saved: GatBlockSaved } {
    if (this.blocks === 0) throw new Error('GatBlockForward.finish: no block was added (the local block comes first)');
    gatBlockFinish(this.stats, this.acc, this.cfg);
    return { out: this.acc, saved: { sd: this.sd, stats: this.stats } };
  }
}

/** The backward for the n rows of `z`, block by block (any order), then finish. */
export class GatBlockBackward {
  private readonly dd: Tensor;
  private readonly daSrc: Tensor;

  constructor(
    private readonly z: Tensor,
    private readonly g: Tensor,
    out: Tensor,
    private readonly saved: GatBlockSaved,
    private readonly aSrc: Tensor,
    private readonly aDst: Tensor,
    private readonly cfg: GatBlockConfig,
  ) {
    if (out.disposed) throw new Error('gat block backward: the attention output was disposed before the backward (it holds c = g·out)');
    this.dd = gatBlockRowDots(g, out, saved.stats, cfg);
    this.daSrc = zeros(z.gpu, aSrc.shape, 'f32', 'gat block daSrc');
  }

  /**
   * One block: adds its share into dd and daSrc and returns the gradient of its source rows [m, HF]
   * (through α̃ and through s_j; the owner of those rows adds it into theirs).
   */
  block(block: GatBlockTopology, zSrc: Tensor, srcSd: Tensor): Tensor {
    const { g, saved, cfg } = this;
    checkBlock('GatBlockBackward.block', block, this.z.rows, zSrc.rows);
    gatBlockGradDst(block, zSrc, g, srcSd, saved.sd, saved.stats, this.dd, cfg);
    const ds = gatBlockGradSrc(block, zSrc, g, srcSd, saved.sd, saved.stats, cfg);
    const dzSrc = empty(g.gpu, zSrc.shape, 'f32', 'gat block dz');
    gatBlockGradZ(block, g, srcSd, saved.sd, saved.stats, dzSrc, cfg);
    addScaledRows(dzSrc, ds, this.aSrc, cfg);
    const share = weightedColumnSums(ds, zSrc, cfg);
    axpyInPlace(this.daSrc, share, 1);
    share.dispose();
    ds.dispose();
    return dzSrc;
  }

  /** After every block: adds dd·aDst into dz (z's rows) and returns daSrc, daDst (this view's share). */
  finish(dz: Tensor): { daSrc: Tensor; daDst: Tensor } {
    const { cfg } = this;
    addScaledRows(dz, this.dd, this.aDst, cfg);
    const sums = weightedColumnSums(this.dd, this.z, cfg);
    const daDst = empty(this.z.gpu, this.aDst.shape, 'f32', 'gat block daDst');
    if (daDst.byteLength) this.z.gpu.encoder.copy(sums.buffer, 0, daDst.buffer, 0, daDst.byteLength);
    sums.dispose();
    this.dd.dispose();
    return { daSrc: this.daSrc, daDst };
  }
}

/**
 * Attention for the rows of z over blocks that are all on this device: `local` (sources = z's rows)
 * and one block per halo (sources = that halo's rows). Equals gatAttention on the whole graph for these
 * rows when the blocks hold their global edge ids. Differentiable w.r.t. z, every halo, aSrc and aDst;
 * the halo gradients and aSrc/aDst are this view's shares (the other rows' views add the rest).
 */
export function gatBlockAttention(
  local: GatBlockTopology,
  z: Tensor,
  halos: Array<{ block: GatBlockTopology; z: Tensor }>,
  aSrc: Tensor,
  aDst: Tensor,
  options: GatAttentionOptions,
): Tensor {
  const cfg = gatBlockConfig(options, z.cols, 'gatBlockAttention');
  const forward = new GatBlockForward(z, aSrc, aDst, cfg);
  forward.add(local, z, forward.sd);
  const haloSd = halos.map((h) => {
    const sd = gatBlockScores(h.z, aSrc, aDst, cfg);
    forward.add(h.block, h.z, sd);
    return sd;
  });
  for (const sd of haloSd) sd.dispose();
  const { out, saved } = forward.finish();
  record('gatBlockAttention', [z, ...halos.map((h) => h.z), aSrc, aDst], out, (g) => {
    const backward = new GatBlockBackward(z, g, out, saved, aSrc, aDst, cfg);
    const dz = backward.block(local, z, saved.sd);
    const dHalos = halos.map((h) => {
      const sd = gatBlockScores(h.z, aSrc, aDst, cfg);
      const d = backward.block(h.block, h.z, sd);
      sd.dispose();
      return d;
    });
    const { daSrc, daDst } = backward.finish(dz);
    saved.sd.dispose();
    saved.stats.dispose();
    return [dz, ...dHalos, daSrc, daDst];
  });
  if (!out.hasCreator) {
    saved.sd.dispose();
    saved.stats.dispose();
  }
  return out;
}

// ---- float64 references, one per kernel ----

/** A block on the CPU: rows destinations, columns source rows, global edge id per entry. */
export interface GatBlockCpu {
  numRows: number;
  numCols: number;
  rowPtr: ArrayLike<number>;
  colIdx: ArrayLike<number>;
  entryIds: ArrayLike<number>;
}

type Vec = ArrayLike<number>;

/**
 * Mirrors of the kernels in float64 with the same buffer layouts (sd = s | d; stats = max | den | aux).
 * `options` gives heads, slope and the dropout masks (gatDropoutFactor, as the GPU draws them).
 */
export const gatBlockReference = {
  scores(z: Vec, aSrc: Vec, aDst: Vec, rows: number, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const F = aSrc.length / H;
    const sd = new Float64Array(2 * rows * H);
    for (let n = 0; n < rows; n++) {
      for (let h = 0; h < H; h++) {
        for (let c = 0; c < F; c++) {
          sd[n * H + h] += aSrc[h * F + c] * z[n * H * F + h * F + c];
          sd[rows * H + n * H + h] += aDst[h * F + c] * z[n * H * F + h * F + c];
        }
      }
    }
    return sd;
  },

  /** block_stats then block_out; mutates stats (3·n·H) and acc (n·HF). */
  step(block: GatBlockCpu, zSrc: Vec, srcSd: Vec, dstSd: Vec, stats: Float64Array, acc: Float64Array, options: GatAttentionOptions, first: boolean): void {
    const H = options.heads;
    const n = block.numRows;
    const HF = acc.length / Math.max(1, n);
    const F = HF / H;
    const lrelu = leaky(options);
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < H; h++) {
        const t = i * H + h;
        const di = dstSd[n * H + t];
        const mOld = first ? LOWEST : stats[t];
        const lOld = first ? 0 : stats[n * H + t];
        let mNew = mOld;
        for (let k = block.rowPtr[i]; k < block.rowPtr[i + 1]; k++) mNew = Math.max(mNew, lrelu(srcSd[block.colIdx[k] * H + h] + di));
        const rescale = Math.exp(mOld - mNew);
        let den = lOld * rescale;
        for (let c = 0; c < F; c++) acc[i * HF + h * F + c] = first ? 0 : acc[i * HF + h * F + c] * rescale;
        for (let k = block.rowPtr[i]; k < block.rowPtr[i + 1]; k++) {
          const j = block.colIdx[k];
          const w = Math.exp(lrelu(srcSd[j * H + h] + di) - mNew);
          den += w;
          const f = gatDropoutFactor(options, block.entryIds[k], h);
          for (let c = 0; c < F; c++) acc[i * HF + h * F + c] += w * f * zSrc[j * HF + h * F + c];
        }
        stats[t] = mNew;
        stats[n * H + t] = den;
        stats[2 * n * H + t] = rescale;
      }
    }
  },

  /** acc / den per row and head (0 without in-edges). */
  finish(stats: Vec, acc: Vec, n: number, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const HF = acc.length / Math.max(1, n);
    const F = HF / H;
    return Float64Array.from(acc, (v, t) => {
      const i = Math.floor(t / HF);
      const den = stats[n * H + i * H + Math.floor((t - i * HF) / F)];
      return den === 0 ? 0 : v / den;
    });
  },

  /** c = g·out per row and head. */
  rowDots(g: Vec, out: Vec, n: number, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const F = out.length / Math.max(1, n) / H;
    const c = new Float64Array(n * H);
    for (let t = 0; t < n * H; t++) for (let col = 0; col < F; col++) c[t] += g[t * F + col] * out[t * F + col];
    return c;
  },

  /** Per entry k of the block and head h: α, dα (after the mask) and LeakyReLU'; stats = max | den | c. */
  entryTerms(block: GatBlockCpu, zSrc: Vec, g: Vec, srcSd: Vec, dstSd: Vec, stats: Vec, options: GatAttentionOptions, i: number, k: number, h: number) {
    const H = options.heads;
    const n = block.numRows;
    const HF = g.length / Math.max(1, n);
    const F = HF / H;
    const slope = options.negativeSlope ?? 0.2;
    const j = block.colIdx[k];
    const x = srcSd[j * H + h] + dstSd[n * H + i * H + h];
    const e = x > 0 ? x : slope * x;
    const ih = i * H + h;
    const alpha = Math.exp(e - stats[ih]) / stats[n * H + ih];
    let dot = 0;
    for (let c = 0; c < F; c++) dot += g[i * HF + h * F + c] * zSrc[j * HF + h * F + c];
    const factor = gatDropoutFactor(options, block.entryIds[k], h);
    return { j, alpha, factor, dAlpha: dot * factor, c: stats[2 * n * H + ih], lreluGrad: x > 0 ? 1 : slope };
  },

  /** dd += Σ_j α(dα − c)·LeakyReLU' per destination row (returns the new dd). */
  gradDst(block: GatBlockCpu, zSrc: Vec, g: Vec, srcSd: Vec, dstSd: Vec, stats: Vec, dd: Vec, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const out = Float64Array.from(dd);
    for (let i = 0; i < block.numRows; i++) {
      for (let h = 0; h < H; h++) {
        for (let k = block.rowPtr[i]; k < block.rowPtr[i + 1]; k++) {
          const e = gatBlockReference.entryTerms(block, zSrc, g, srcSd, dstSd, stats, options, i, k, h);
          out[i * H + h] += e.alpha * (e.dAlpha - e.c) * e.lreluGrad;
        }
      }
    }
    return out;
  },

  /** ds per source row of the block. */
  gradSrc(block: GatBlockCpu, zSrc: Vec, g: Vec, srcSd: Vec, dstSd: Vec, stats: Vec, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const ds = new Float64Array(block.numCols * H);
    for (let i = 0; i < block.numRows; i++) {
      for (let h = 0; h < H; h++) {
        for (let k = block.rowPtr[i]; k < block.rowPtr[i + 1]; k++) {
          const e = gatBlockReference.entryTerms(block, zSrc, g, srcSd, dstSd, stats, options, i, k, h);
          ds[e.j * H + h] += e.alpha * (e.dAlpha - e.c) * e.lreluGrad;
        }
      }
    }
    return ds;
  },

  /** Σ_i α̃_ij g_i per source row (added to `base` when given). */
  gradZ(block: GatBlockCpu, zSrc: Vec, g: Vec, srcSd: Vec, dstSd: Vec, stats: Vec, options: GatAttentionOptions, base?: Vec): Float64Array {
    const H = options.heads;
    const HF = zSrc.length / Math.max(1, block.numCols);
    const F = HF / H;
    const dz = base ? Float64Array.from(base) : new Float64Array(block.numCols * HF);
    for (let i = 0; i < block.numRows; i++) {
      for (let h = 0; h < H; h++) {
        for (let k = block.rowPtr[i]; k < block.rowPtr[i + 1]; k++) {
          const e = gatBlockReference.entryTerms(block, zSrc, g, srcSd, dstSd, stats, options, i, k, h);
          for (let c = 0; c < F; c++) dz[e.j * HF + h * F + c] += e.alpha * e.factor * g[i * HF + h * F + c];
        }
      }
    }
    return dz;
  },

  addScaled(out: Vec, w: Vec, a: Vec, rows: number, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const HF = a.length;
    const F = HF / H;
    return Float64Array.from(out, (v, t) => v + w[Math.floor(t / HF) * H + Math.floor((t % HF) / F)] * a[t % HF]);
  },

  weightedColumnSums(w: Vec, z: Vec, rows: number, options: GatAttentionOptions): Float64Array {
    const H = options.heads;
    const HF = rows > 0 ? z.length / rows : 0;
    const F = HF / H;
    const sums = new Float64Array(HF);
    for (let j = 0; j < rows; j++) for (let c = 0; c < HF; c++) sums[c] += w[j * H + Math.floor(c / F)] * z[j * HF + c];
    return sums;
  },
};

function leaky(options: GatAttentionOptions): (t: number) => number {
  const slope = options.negativeSlope ?? 0.2;
  return (t) => (t > 0 ? t : slope * t);
}
