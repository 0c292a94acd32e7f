// Row gather, scatter-add and scatter (not recorded on the tape): a distributed worker gathers the rows
// of a local tensor that one peer needs, adds the gradient rows a peer returns into its own rows, or
// overwrites rows with the ones a peer sent (a hybrid pipeline's historical buffers).

import source from '../../../shaders/rows.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import type { Tensor } from '../tensor.ts';

function checkIndex(op: string, idx: Tensor, rows: number): void {
  if (idx.shape.length !== 1 || (idx.dtype !== 'u32' && idx.dtype !== 'i32')) throw new TypeError(`${op}: index must be a u32 or i32 [n] tensor, got ${idx}`);
  if (rows === 0 && idx.size > 0) throw new RangeError(`${op}: cannot index rows of an empty tensor`);
}

function dispatch(entryPoint: string, idx: Tensor, a: Tensor, b: Tensor, cols: number): void {
  const n = idx.size * cols;
  if (n === 0) return;
  const kernel = a.gpu.kernel({ name: 'rows', source: [grid, source], entryPoint });
  a.gpu.dispatch(kernel, params().u32(n).u32(cols).u32(0).u32(0), [idx.buffer, a.buffer, b.buffer], Math.ceil(n / GRID_BLOCK));
}

/** out[i] = x[idx[i]] → [idx.size, cols]. Ids must be < x.rows (not checked on the GPU: built by the caller). */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  checkIndex('gatherRows', idx, x.rows);
  const out = empty(x.gpu, [idx.size, x.cols], 'f32', 'gather_rows');
  dispatch('gather', idx, x, out, x.cols);
  return out;
}

/** into[idx[i]] += src[i], in place; ids must be distinct and < into.rows. */
export function scatterAddRows(into: Tensor, src: Tensor, idx: Tensor): void {
  checkIndex('scatterAddRows', idx, into.rows);
  if (src.rows !== idx.size || src.cols !== into.cols) throw new RangeError(`scatterAddRows: src ${src} must be [${idx.size}, ${into.cols}] for ${into}`);
  dispatch('scatter_add', idx, src, into, into.cols);
}

/** into[idx[i]] = src[i], in place; ids must be distinct and < into.rows. */
export function scatterRows(into: Tensor, src: Tensor, idx: Tensor): void {
  checkIndex('scatterRows', idx, into.rows);
  if (src.rows !== idx.size || src.cols !== into.cols) throw new RangeError(`scatterRows: src ${src} must be [${idx.size}, ${into.cols}] for ${into}`);
  dispatch('scatter', idx, src, into, into.cols);
}

export const rowsReference = {
  gather(x: ArrayLike<number>, cols: number, idx: ArrayLike<number>): Float64Array {
    const out = new Float64Array(idx.length * cols);
    for (let i = 0; i < idx.length; i++) for (let c = 0; c < cols; c++) out[i * cols + c] = x[idx[i] * cols + c];
    return out;
  },
  scatterAdd(into: ArrayLike<number>, cols: number, src: ArrayLike<number>, idx: ArrayLike<number>): Float64Array {
    const out = Float64Array.from(into);
    for (let i = 0; i < idx.length; i++) for (let c = 0; c < cols; c++) out[idx[i] * cols + c] += src[i * cols + c];
    return out;
  },
  scatter(into: ArrayLike<number>, cols: number, src: ArrayLike<number>, idx: ArrayLike<number>): Float64Array {
    const out = Float64Array.from(into);
    for (let i = 0; i < idx.length; i++) for (let c = 0; c < cols; c++) out[idx[i] * cols + c] = src[i * cols + c];
    return out;
  },
};
