// Sparse × dense product Y = A·X (GNN message passing: row i of Y aggregates the rows of X named by
// row i of A, weighted by its values), its backward dX = Aᵀ·dY on the transposed structure (built once
// with the matrix, so no float atomics), and the float64 reference.

import source from '../../../shaders/spmm.wgsl?raw';
import { params } from '../../gpu/params.ts';
import type { Csr } from '../csr-structure.ts';
import { empty } from '../create.ts';
import type { SparseMatrix } from '../sparse-matrix.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

const WG = 64;
/** Most accumulators a thread holds (RMAX in the shader). */
const RMAX = 4;

export interface SpmmLayout {
  /** Threads per segment (a power of two dividing WG). */
  T: number;
  /** Columns (vec4s with VEC4) each thread accumulates per pass over the segment. */
  R: number;
}

/**
 * Threads per segment and accumulators per thread for `cols` (vector) columns: the fewest threads that
 * cover the row in one pass, so small F packs several segments into a workgroup. GPUs give each thread
 * one column until the workgroup is full; CPU adapters (one SIMD lane per thread) do better with up to
 * RMAX columns per thread and fewer threads per segment (measured on lavapipe).
 */
export function spmmLayout(cols: number, cpu = false): SpmmLayout {
  const R = Math.min(RMAX, Math.max(1, Math.ceil(cols / (cpu ? 4 : WG))));
  let T = 1;
  while (T * R < cols && T < WG) T *= 2;
  return { T, R };
}

export interface SpmmOptions {
  /** Thread layout tuned for a GPU or for a CPU adapter; default: by the adapter's kind. */
  tuning?: 'gpu' | 'cpu';
  /** Touch each chunk's X rows before summing them (TOUCH in the shader); default: on lavapipe only,
   * where it measured about 1.4× faster (SwiftShader measured slower with it, GPUs do not need it). */
  touch?: boolean;
  /** spmmInto only: add A·X into `out` instead of overwriting it. */
  accumulate?: boolean;
  /** Tests only: with subgroups, read nonzeros directly instead of broadcasting them. */
  directLoads?: boolean;
}

function checkBinding(a: SparseMatrix, what: string, bytes: number, name: string): void {
  const limit = a.gpu.maxStorageBinding;
  if (bytes > limit) throw new RangeError(`${what}: ${name} needs ${bytes} bytes, over this device's storage binding limit (${limit})`);
}

function checkInput(a: SparseMatrix, x: Tensor, what: string): void {
  if (x.shape.length !== 2 || x.rows !== a.numCols) {
    throw new RangeError(`${what}: X ${x} must be ${a.numCols}×F for ${a}`);
  }
  if (x.dtype !== 'f32') throw new TypeError(`${what}: X ${x} must be f32`);
}

/** Records out = A·X (or out += A·X with `accumulate`; out: numRows × F, f32) without autograd. */
export function spmmInto(a: SparseMatrix, x: Tensor, out: Tensor, options: SpmmOptions = {}): void {
  const what = `spmm(${a.label})`;
  checkInput(a, x, what);
  const F = x.cols;
  if (out.dtype !== 'f32' || out.rows !== a.numRows || out.cols !== F || out.size !== a.numRows * F) {
    throw new RangeError(`${what}: output ${out} is not f32 ${a.numRows}×${F}`);
  }
  const structure = a.structure;
  if (structure.skipsEmptyRows && !options.accumulate) {
    throw new Error(`${what}: this matrix skips its empty rows (emptyRows: 'skip'), so its product can only be added into an output: pass accumulate`);
  }
  if (a.numRows === 0 || F === 0 || structure.numSegments === 0) return;
  const gpu = a.gpu;
  checkBinding(a, what, x.byteLength, 'X');
  checkBinding(a, what, out.byteLength, 'Y');
  checkBinding(a, what, structure.numPartials * F * 4, 'the partial sums of long rows');
  const vec4 = F % 4 === 0;
  const cols = vec4 ? F / 4 : F;
  const cpu = (options.tuning ?? (gpu.adapter.kind === 'hardware' ? 'gpu' : 'cpu')) === 'cpu';
  const { T, R } = spmmLayout(cols, cpu);
  const defines = { VEC4: vec4 };
  const constants: Record<string, number> = { WG, T, R };
  if (options.touch ?? gpu.adapter.kind === 'lavapipe') constants.TOUCH = 1;
  if (options.directLoads) constants.DIRECT = 1;
  if (options.accumulate) constants.ACCUMULATE = 1;
  // The last field is the shader's `sink`, always 0 (it keeps the touch loads from being removed).
  const p = params().u32(structure.numSegments).u32(cols).u32(structure.numLongRows).u32(0);
  // Without long rows the (never written) partial binding still needs a buffer of its own: writable
  // bindings must not alias the output.
  const partial = empty(gpu, [Math.max(1, structure.numPartials), F], 'f32', `${what} partials`);
  const aggregate = gpu.kernel({ name: 'spmm', source, entryPoint: 'aggregate', defines, constants });
  gpu.dispatch(
    aggregate,
    p,
    [structure.segments, structure.entries, x.buffer, out.buffer, partial.buffer],
    Math.ceil(structure.numSegments / (WG / T)),
  );
  if (structure.numLongRows > 0) {
    const combine = gpu.kernel({ name: 'spmm', source, entryPoint: 'combine', defines, constants: { WG, ...(options.accumulate ? { ACCUMULATE: 1 } : {}) } });
    gpu.dispatch(combine, p, [structure.longRows, partial.buffer, out.buffer], Math.ceil((structure.numLongRows * cols) / WG));
  }
  partial.dispose();
}

/** Y = A·X for X of shape [A.numCols, F] → [A.numRows, F]; differentiable w.r.t. X (dX = Aᵀ·dY). */
export function spmm(a: SparseMatrix, x: Tensor, options: SpmmOptions = {}): Tensor {
  checkInput(a, x, 'spmm');
  const out = empty(a.gpu, [a.numRows, x.cols], 'f32', 'spmm');
  spmmInto(a, x, out, options);
  return record('spmm', [x], out, (g) => {
    const dx = empty(a.gpu, [a.numCols, x.cols], 'f32', 'spmm grad');
    spmmInto(a.transpose(), g, dx, options);
    return [dx];
  });
}

/** float64 reference of A·X; X row-major numCols × F; values null means every weight is 1. */
export function spmmReference(csr: Csr, x: ArrayLike<number>, F: number): Float64Array {
  const y = new Float64Array(csr.numRows * F);
  for (let i = 0; i < csr.numRows; i++) {
    for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
      const w = csr.values ? csr.values[k] : 1;
      const j = csr.colIdx[k];
      for (let c = 0; c < F; c++) y[i * F + c] += w * x[j * F + c];
    }
  }
  return y;
}
