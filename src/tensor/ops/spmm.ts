// Sparse × dense product Y = A·X (GNN message passing: row i of Y aggregates the rows of X named by
// row i of A, weighted by its values), its backward dX = Aᵀ·dY on the transposed structure, and the
// float64 reference.

import source from '../../../shaders/spmm.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import type { Csr } from '../../graph/csr.ts';
import { empty } from '../create.ts';
import type { SparseMatrix, SparseStructure } from '../sparse-matrix.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

const WG = Number(process.env.SPMM_WG ?? 64);

/** Threads per segment: enough to cover the row's columns in one pass, up to the whole workgroup. */
function lanesPerSegment(vectorCols: number): number {
  let t = 1;
  while (t < vectorCols && t < WG) t *= 2;
  return t;
}

/** Records Y = S·X into `out` (rows × F) without autograd. */
export function spmmInto(gpu: Gpu, structure: SparseStructure, x: Tensor, out: Tensor, what = 'spmm'): void {
  const F = x.cols;
  const { numRows, numCols } = structure;
  if (x.shape.length !== 2 || x.rows !== numCols) {
    throw new RangeError(`${what}: X ${x} must be ${numCols}×F for a ${numRows}×${numCols} sparse matrix`);
  }
  if (out.rows !== numRows || out.cols !== F) throw new RangeError(`${what}: output ${out} is not ${numRows}×${F}`);
  if (numRows === 0 || F === 0) return;
  const vec4 = F % 4 === 0;
  const cols = vec4 ? F / 4 : F;
  const T = lanesPerSegment(cols);
  const defines = { VEC4: vec4 };
  const constants = { WG, T };
  const p = params().u32(structure.numSegments).u32(cols).u32(structure.numLongRows).u32(0);
  // Without long rows the (never written) partial binding still needs a buffer of its own: writable
  // bindings must not alias the output.
  const partial = empty(gpu, [Math.max(1, structure.numPartials), F], 'f32', `${what} partials`);
  const aggregate = gpu.kernel({ name: 'spmm', source, entryPoint: 'aggregate', defines, constants });
  gpu.dispatch(aggregate, p, [structure.segments, structure.entries, x.buffer, out.buffer, partial.buffer], Math.ceil(structure.numSegments / (WG / T)));
  if (structure.numLongRows > 0) {
    const combine = gpu.kernel({ name: 'spmm', source, entryPoint: 'combine', defines, constants });
    gpu.dispatch(combine, p, [structure.longRows, partial.buffer, out.buffer], Math.ceil((structure.numLongRows * cols) / WG));
  }
  partial.dispose();
}

/** Y = A·X for X of shape [A.numCols, F]; differentiable w.r.t. X (dX = Aᵀ·dY). */
export function spmm(a: SparseMatrix, x: Tensor): Tensor {
  if (x.shape.length !== 2 || x.rows !== a.numCols) {
    throw new RangeError(`spmm: X ${x} must be ${a.numCols}×F for ${a}`);
  }
  const out = empty(a.gpu, [a.numRows, x.cols], 'f32', 'spmm');
  spmmInto(a.gpu, a.structure, x, out);
  return record('spmm', [x], out, (g) => {
    const dx = empty(a.gpu, [a.numCols, x.cols], 'f32', 'spmm grad');
    spmmInto(a.gpu, a.transposedStructure, g, dx, 'spmm backward');
    return [dx];
  });
}

/** float64 reference of A·X, X row-major numCols × F; values null means weight 1. */
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
