// Differentiable layout ops: column concatenation [a ‖ b ‖ …] (TGN's messages and attention inputs),
// contiguous column slices (the parts of such a concatenation: GCNII's blocks carry [H ‖ h0]) and
// contiguous row slices (the positive, destination and negative parts of one batch of embeddings).
// Pure data movement: results are exact.

import source from '../../../shaders/layout.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty, zeros } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

function moveColumns(entryPoint: 'put' | 'take', x: Tensor, out: Tensor, rows: number, width: number, cols: number, offset: number): void {
  const n = rows * width;
  if (n === 0) return;
  const kernel = x.gpu.kernel({ name: 'layout', source: [grid, source], entryPoint });
  x.gpu.dispatch(kernel, params().u32(n).u32(width).u32(cols).u32(offset), [x.buffer, out.buffer], Math.ceil(n / GRID_BLOCK));
}

/** [a ‖ b ‖ …] along columns; every part is [rows, d_i] (or [rows] as one column). */
export function concatColumns(parts: Tensor[]): Tensor {
  if (!parts.length) throw new RangeError('concatColumns: needs at least one tensor');
  const rows = parts[0].rows;
  for (const t of parts) {
    if (t.dtype !== 'f32' || t.shape.length > 2 || t.rows !== rows) throw new RangeError(`concatColumns: every part must be f32 with ${rows} rows, got ${t}`);
  }
  const widths = parts.map((t) => t.cols);
  const cols = widths.reduce((a, b) => a + b, 0);
  const out = empty(parts[0].gpu, [rows, cols], 'f32', 'concat');
  let offset = 0;
  parts.forEach((t, i) => {
    moveColumns('put', t, out, rows, widths[i], cols, offset);
    offset += widths[i];
  });
  return record('concatColumns', parts, out, (g, needs) => {
    let at = 0;
    return parts.map((t, i) => {
      const start = at;
      at += widths[i];
      if (!needs[i]) return null;
      const gi = empty(g.gpu, t.shape, 'f32', 'concat_grad');
      moveColumns('take', g, gi, rows, widths[i], cols, start);
      return gi;
    });
  });
}

/** Columns [start, start + count) of a [rows, cols] tensor as a new [rows, count] tensor (a copy). */
export function sliceColumns(x: Tensor, start: number, count: number): Tensor {
  if (x.dtype !== 'f32' || x.shape.length !== 2) throw new RangeError(`sliceColumns: expects an f32 [rows, cols] tensor, got ${x}`);
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > x.cols) {
    throw new RangeError(`sliceColumns: columns [${start}, ${start + count}) outside ${x}`);
  }
  const rows = x.rows;
  const cols = x.cols;
  const out = empty(x.gpu, [rows, count], 'f32', 'slice_columns');
  moveColumns('take', x, out, rows, count, cols, start);
  return record('sliceColumns', [x], out, (g) => {
    const gx = zeros(x.gpu, x.shape, 'f32', 'slice_columns_grad');
    moveColumns('put', g, gx, rows, count, cols, start);
    return [gx];
  });
}

/** Rows [start, start + count) of x as a new tensor (a copy). */
export function sliceRows(x: Tensor, start: number, count: number): Tensor {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > x.rows) {
    throw new RangeError(`sliceRows: rows [${start}, ${start + count}) outside ${x}`);
  }
  const rowBytes = x.cols * 4;
  const shape = x.shape.length === 1 ? [count] : [count, x.cols];
  const out = empty(x.gpu, shape, x.dtype, 'slice');
  if (count && rowBytes) x.gpu.encoder.copy(x.buffer, start * rowBytes, out.buffer, 0, count * rowBytes);
  return record('sliceRows', [x], out, (g) => {
    const gx = zeros(x.gpu, x.shape, 'f32', 'slice_grad');
    if (count && rowBytes) g.gpu.encoder.copy(g.buffer, 0, gx.buffer, start * rowBytes, count * rowBytes);
    return [gx];
  });
}

export const layoutReference = {
  concatColumns(parts: Array<{ data: ArrayLike<number>; cols: number }>, rows: number): Float64Array {
    const cols = parts.reduce((s, p) => s + p.cols, 0);
    const out = new Float64Array(rows * cols);
    let offset = 0;
    for (const p of parts) {
      for (let r = 0; r < rows; r++) for (let c = 0; c < p.cols; c++) out[r * cols + offset + c] = p.data[r * p.cols + c];
      offset += p.cols;
    }
    return out;
  },
  sliceColumns(x: ArrayLike<number>, rows: number, cols: number, start: number, count: number): Float64Array {
    const out = new Float64Array(rows * count);
    for (let r = 0; r < rows; r++) for (let c = 0; c < count; c++) out[r * count + c] = x[r * cols + start + c];
    return out;
  },
};
