// Reductions: column sums (bias gradients) and the total of a tensor, in a fixed order.

import source from '../../../shaders/reduce.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import type { Tensor } from '../tensor.ts';

const MAX_CHUNKS = 1024;

function columnPartials(x: Tensor, rows: number, cols: number, rowsPerChunk: number): Tensor {
  const chunks = Math.max(1, Math.ceil(rows / rowsPerChunk));
  const out = empty(x.gpu, chunks === 1 ? [cols] : [chunks, cols], 'f32', 'column_sum');
  const kernel = x.gpu.kernel({ name: 'reduce', source, entryPoint: 'column_partials' });
  x.gpu.dispatch(kernel, params().u32(rows).u32(cols).u32(rowsPerChunk).u32(0), [x.buffer, out.buffer], [Math.ceil(cols / 64), chunks]);
  return out;
}

/** Σ over rows: [rows, cols] → [cols]. Not differentiable (used inside backward passes). */
export function sumColumns(x: Tensor): Tensor {
  const rows = x.rows;
  const cols = x.cols;
  if (rows === 0) return columnPartials(x, 0, cols, 1);
  const rowsPerChunk = Math.max(16, Math.ceil(rows / MAX_CHUNKS));
  const partial = columnPartials(x, rows, cols, rowsPerChunk);
  if (partial.shape.length === 1) return partial;
  const total = columnPartials(partial, partial.rows, cols, partial.rows);
  partial.dispose();
  return total;
}

/** Σ of all elements → [1]. Not differentiable (losses reduce inside their own kernels). */
export function total(x: Tensor): Tensor {
  const flat = { rows: x.size, cols: 1 };
  const rowsPerChunk = Math.max(16, Math.ceil(flat.rows / MAX_CHUNKS));
  const partial = columnPartials(x, flat.rows, 1, rowsPerChunk);
  if (partial.shape.length === 1) return partial;
  const out = columnPartials(partial, partial.rows, 1, partial.rows);
  partial.dispose();
  return out;
}

export const reduceReference = {
  sumColumns(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
    const out = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += x[r * cols + c];
    return out;
  },
  total(x: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    return s;
  },
};
