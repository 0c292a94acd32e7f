// Node memory writes for temporal GNNs (TGN): events in time order scatter rows (memory, mailbox
// messages) to their nodes, and when a node has several events the last one wins. Deterministic: an
// integer atomic elects one writer per node, then only it copies (shaders/memory.wgsl). Not recorded on
// the tape: TGN detaches memory after each batch. Reading memory back is gatherRows (rows.ts).

import source from '../../../shaders/memory.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import { params } from '../../gpu/params.ts';
import { zeros } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import type { Tensor } from '../tensor.ts';

function checkNodes(what: string, nodes: Tensor): void {
  if (nodes.shape.length !== 1 || (nodes.dtype !== 'u32' && nodes.dtype !== 'i32')) throw new TypeError(`${what}: nodes must be a u32 or i32 [m] tensor, got ${nodes}`);
}

function checkF32(what: string, name: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new TypeError(`${what}: ${name} must be f32, got ${t}`);
}

function checkRows(what: string, target: Tensor, rows: Tensor, m: number): void {
  checkF32(what, 'target rows', target);
  checkF32(what, 'update rows', rows);
  if (target.shape.length !== 2) throw new RangeError(`${what}: target rows ${target} must be [N, d]`);
  if (rows.shape.length !== 2 || rows.rows !== m || rows.cols !== target.cols) {
    throw new RangeError(`${what}: update rows ${rows} must be [${m}, ${target.cols}] (one row per node id, as wide as ${target})`);
  }
}

/**
 * target[nodes[i]] = rows[i] in place, for target [N, d] and rows [m, d]; when a node appears several
 * times the largest i wins. Node ids ≥ N are ignored.
 */
export function scatterLastWrite(target: Tensor, rows: Tensor, nodes: Tensor): void {
  const what = 'scatterLastWrite';
  checkNodes(what, nodes);
  checkRows(what, target, rows, nodes.size);
  const gpu = target.gpu;
  const [m, N, d] = [nodes.size, target.rows, target.cols];
  if (m === 0 || N === 0 || d === 0) return;
  const p = params().u32(m).u32(N).u32(d).u32(0);
  const scratch = zeros(gpu, [N], 'u32', 'memory write scratch');
  const kernel = (entryPoint: string) => gpu.kernel({ name: 'memory', source: [grid, source], entryPoint });
  gpu.dispatch(kernel('claim'), p, [nodes.buffer, scratch.buffer], Math.ceil(m / GRID_BLOCK));
  gpu.dispatch(kernel('copy_rows'), p, [nodes.buffer, scratch.buffer, rows.buffer, target.buffer], Math.ceil((m * d) / GRID_BLOCK));
  scratch.dispose();
}

/** float64 references: they return new arrays (the inputs are left alone). */
export const memoryReference = {
  /** Rows [N·d] of the target after scatterLastWrite (ids ≥ N ignored, the last event of a node wins). */
  write(targetRows: ArrayLike<number>, N: number, d: number, rows: ArrayLike<number>, nodes: ArrayLike<number>): Float64Array {
    const out = Float64Array.from(targetRows);
    const last = new Map<number, number>();
    for (let i = 0; i < nodes.length; i++) if (nodes[i] < N) last.set(nodes[i], i);
    for (const [v, i] of last) for (let c = 0; c < d; c++) out[v * d + c] = rows[i * d + c];
    return out;
  },
};
