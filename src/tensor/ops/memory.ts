// Node memory writes for temporal GNNs (TGN): events in time order scatter rows (memory, mailbox
// messages) and times (last update, message timestamps) to their nodes, and when a node has several
// events the last one wins. Deterministic: integer atomics elect one writer per node, then only it copies
// (shaders/memory.wgsl). The monotonic variant refuses writes that would move a node's memory back in
// time and reports them for the caller to raise. Not recorded on the tape: TGN detaches memory after
// each batch. Reading memory back is gatherRows (rows.ts), also for a time vector ([N] gathers to [m, 1]).

import source from '../../../shaders/memory.wgsl?raw';
import grid from '../../../shaders/grid.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import { fromArray, zeros } from '../create.ts';
import { GRID_BLOCK } from '../grid.ts';
import { keep, track } from '../scope.ts';
import type { Tensor } from '../tensor.ts';

/** Per-node state, or the update for it: rows [N, d] (or [m, d]; null when only times are kept) and times [N] (or [m]). */
export interface TimedSlots {
  rows: Tensor | null;
  times: Tensor;
}

/** The first refused event of a monotonic write, and how many were refused. */
export interface MemoryRefusal {
  /** Refused events in this call. */
  refused: number;
  /** Index (in this call's update) of the first refused event. */
  event: number;
  node: number;
  time: number;
  /** The node's time before this call (it keeps it: the write was refused). */
  storedTime: number;
  /** The latest time among the node's events in this call. */
  latestInCall: number;
}

export class MemoryTimeError extends Error {
  constructor(
    message: string,
    readonly refusal: MemoryRefusal,
  ) {
    super(message);
    this.name = 'MemoryTimeError';
  }
}

const REPORT_WORDS = 8;

/**
 * What a monotonic write refused, on the GPU until read. Owns its buffer (scopes free it like a tensor;
 * return it from the scope to keep it). Reading waits for the GPU: do it when a sync is affordable.
 */
export class MemoryWriteReport {
  readonly gpu: Gpu;

  constructor(readonly tensor: Tensor) {
    this.gpu = tensor.gpu;
    keep(tensor);
    track(this);
  }

  /** null when every write was applied. */
  async read(): Promise<MemoryRefusal | null> {
    const words = new Uint32Array(await this.tensor.toArray());
    if (words[0] === 0) return null;
    const f = new Float32Array(words.buffer);
    return { refused: words[0], event: words[1], node: words[2], time: f[3], storedTime: f[4], latestInCall: f[5] };
  }

  /**
   * Throws a MemoryTimeError naming the first refused event; `name` turns its index in the update into
   * the caller's name for it (e.g. 'event 1234 (5 → 7)').
   */
  async check(name: (event: number) => string = (e) => `event ${e} of the batch`): Promise<void> {
    const r = await this.read();
    if (!r) return;
    const why =
      !(r.time >= r.storedTime)
        ? `its time ${r.time} is earlier than the node's memory time ${r.storedTime}`
        : `its time ${r.time} is earlier than the node's event at ${r.latestInCall} that comes before it in the same batch`;
    const more = r.refused > 1 ? ` (${r.refused} writes refused)` : '';
    throw new MemoryTimeError(`node memory would move back in time: ${name(r.event)} writes node ${r.node}, but ${why}${more}`, r);
  }

  dispose(): void {
    this.tensor.dispose();
  }
}

function checkNodes(what: string, nodes: Tensor): void {
  if (nodes.shape.length !== 1 || (nodes.dtype !== 'u32' && nodes.dtype !== 'i32')) throw new TypeError(`${what}: nodes must be a u32 or i32 [m] tensor, got ${nodes}`);
}

function checkF32(what: string, name: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new TypeError(`${what}: ${name} must be f32, got ${t}`);
}

function checkVector(what: string, name: string, t: Tensor, length: number): void {
  checkF32(what, name, t);
  const vector = t.shape.length === 1 || (t.shape.length === 2 && t.cols === 1);
  if (!vector || t.size !== length) throw new RangeError(`${what}: ${name} ${t} must be a vector of ${length}`);
}

function checkRows(what: string, target: Tensor, rows: Tensor, m: number): void {
  checkF32(what, 'target rows', target);
  checkF32(what, 'update rows', rows);
  if (target.shape.length !== 2) throw new RangeError(`${what}: target rows ${target} must be [N, d]`);
  if (rows.shape.length !== 2 || rows.rows !== m || rows.cols !== target.cols) {
    throw new RangeError(`${what}: update rows ${rows} must be [${m}, ${target.cols}] (one row per node id, as wide as ${target})`);
  }
}

interface Plan {
  gpu: Gpu;
  m: number;
  N: number;
  target: TimedSlots | { rows: Tensor; times: null };
  update: TimedSlots | { rows: Tensor; times: null };
  nodes: Tensor;
  monotonic: boolean;
}

function kernel(gpu: Gpu, entryPoint: string, monotonic: boolean): GPUComputePipeline {
  return gpu.kernel({ name: 'memory', source: [grid, source], entryPoint, defines: { MONOTONIC: monotonic } });
}

/** Records the kernels of one write; returns the report buffer of a monotonic one. */
function write(plan: Plan): Tensor | null {
  const { gpu, m, N, target, update, nodes, monotonic } = plan;
  const report = monotonic ? fromArray(gpu, Uint32Array.from({ length: REPORT_WORDS }, (_, k) => (k === 1 ? 0xffffffff : 0)), [REPORT_WORDS], { label: 'memory write report' }) : null;
  if (m === 0 || N === 0) return report;
  const d = target.rows?.cols ?? 0;
  const p = params().u32(m).u32(N).u32(d).u32(0);
  const scratch = zeros(gpu, [N, 3], 'u32', 'memory write scratch');
  const events = Math.ceil(m / GRID_BLOCK);
  const times = update.times;
  gpu.dispatch(kernel(gpu, 'claim', monotonic), p, monotonic ? [nodes.buffer, scratch.buffer, times!.buffer] : [nodes.buffer, scratch.buffer], events);
  if (report) {
    const judged = [nodes.buffer, scratch.buffer, times!.buffer, target.times!.buffer, report.buffer];
    gpu.dispatch(kernel(gpu, 'judge', true), p, judged, events);
    gpu.dispatch(kernel(gpu, 'describe', true), p, judged, 1);
  }
  if (target.rows && update.rows && d > 0) {
    gpu.dispatch(kernel(gpu, 'copy_rows', false), p, [nodes.buffer, scratch.buffer, update.rows.buffer, target.rows.buffer], Math.ceil((m * d) / GRID_BLOCK));
  }
  if (target.times && times) gpu.dispatch(kernel(gpu, 'copy_times', false), p, [nodes.buffer, scratch.buffer, times.buffer, target.times.buffer], events);
  scratch.dispose();
  return report;
}

/**
 * target[nodes[i]] = rows[i] in place, for target [N, d] and rows [m, d]; when a node appears several
 * times the largest i wins. Node ids ≥ N are ignored.
 */
export function scatterLastWrite(target: Tensor, rows: Tensor, nodes: Tensor): void {
  const what = 'scatterLastWrite';
  checkNodes(what, nodes);
  checkRows(what, target, rows, nodes.size);
  write({ gpu: target.gpu, m: nodes.size, N: target.rows, target: { rows: target, times: null }, update: { rows, times: null }, nodes, monotonic: false });
}

function planTimed(what: string, target: TimedSlots, update: TimedSlots, nodes: Tensor, monotonic: boolean): Plan {
  checkNodes(what, nodes);
  const m = nodes.size;
  if (!target.rows !== !update.rows) throw new RangeError(`${what}: target and update must both have rows or both not`);
  const N = target.rows ? target.rows.rows : target.times.size;
  if (target.rows && update.rows) checkRows(what, target.rows, update.rows, m);
  checkVector(what, 'target times', target.times, N);
  checkVector(what, 'update times', update.times, m);
  return { gpu: target.times.gpu, m, N, target, update, nodes, monotonic };
}

/**
 * Last write wins for rows and their times together: target.rows[v] = update.rows[i] and
 * target.times[v] = update.times[i] for the largest i with nodes[i] = v (memory with its last-update
 * times; the mailbox with its timestamps). Rows may be null on both sides to write times alone.
 */
export function scatterLastWriteTimed(target: TimedSlots, update: TimedSlots, nodes: Tensor): void {
  write(planTimed('scatterLastWriteTimed', target, update, nodes, false));
}

/**
 * As scatterLastWriteTimed, but memory never moves back in time: an event earlier than its node's stored
 * time, or a node's last event earlier than another of its events in this call, is refused, and its node
 * is left untouched. The report says what was refused (read it, or `check()` it to throw).
 */
export function scatterLastWriteMonotonic(target: TimedSlots, update: TimedSlots, nodes: Tensor): MemoryWriteReport {
  return new MemoryWriteReport(write(planTimed('scatterLastWriteMonotonic', target, update, nodes, true))!);
}

/** float64 references: they return new arrays (the inputs are left alone). */
export const memoryReference = {
  /** Rows [N·d] and times [N] after the write; refused event indices for a monotonic one. */
  write(
    targetRows: ArrayLike<number> | null,
    targetTimes: ArrayLike<number> | null,
    N: number,
    d: number,
    rows: ArrayLike<number> | null,
    times: ArrayLike<number> | null,
    nodes: ArrayLike<number>,
    monotonic = false,
  ): { rows: Float64Array | null; times: Float64Array | null; refused: number[] } {
    const outRows = targetRows ? Float64Array.from(targetRows) : null;
    const outTimes = targetTimes ? Float64Array.from(targetTimes) : null;
    const last = new Map<number, number>();
    nodes = Array.from(nodes);
    for (let i = 0; i < nodes.length; i++) if (nodes[i] < N) last.set(nodes[i], i);
    const refused: number[] = [];
    const bad = new Set<number>();
    if (monotonic) {
      const latest = new Map<number, number>();
      for (let i = 0; i < nodes.length; i++) if (nodes[i] < N) latest.set(nodes[i], Math.max(latest.get(nodes[i]) ?? -Infinity, times![i]));
      for (let i = 0; i < nodes.length; i++) {
        const v = nodes[i];
        if (v >= N) continue;
        const t = times![i];
        if (!(t >= targetTimes![v]) || (last.get(v) === i && t < latest.get(v)!)) {
          refused.push(i);
          bad.add(v);
        }
      }
    }
    for (const [v, i] of last) {
      if (bad.has(v)) continue;
      if (outRows && rows) for (let c = 0; c < d; c++) outRows[v * d + c] = rows[i * d + c];
      if (outTimes && times) outTimes[v] = times[i];
    }
    return { rows: outRows, times: outTimes, refused };
  },
};
