// Mirror rows between the M replicas ("ways") of one pipeline stage (the hybrid mode, after Mithril's
// propagate_activation / propagate_gradient). Way w owns chunks [w·Cw, (w+1)·Cw) and runs them in the
// same within-way order as every other way, so at each moment way v works on chunk c + (v−w)·Cw: its
// concurrent chunk. At an aggregation each way sends the rows of its chunk that the other ways' chunks
// read — forward the aggregation input (rows i with A[j,i] ≠ 0 for some j of way v), backward the output
// gradient (rows i with A[i,j] ≠ 0) — and writes the rows it receives into its whole-graph history.
// Only those mirror rows travel; both ends derive the same row lists from the same matrix.

import type { Gpu } from '../../gpu/gpu.ts';
import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { Csr } from '../../tensor/csr-structure.ts';
import { fromArray } from '../../tensor/create.ts';
import { gatherRows } from '../../tensor/ops/rows.ts';
import { keep } from '../../tensor/scope.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Chunking } from './chunking.ts';

export type ExchangeDirection = 'forward' | 'backward';

/** Rows one way received for its history: chunk `chunk`'s rows at global ids `ids`. */
export interface MirrorRows {
  chunk: number;
  rows: Tensor;
  ids: Tensor;
}

interface RowList {
  count: number;
  /** Chunk-local row numbers (the sender gathers with them), or null when empty. */
  local: Tensor | null;
  /** Global ids (the receiver scatters with them), or null when empty. */
  global: Tensor | null;
}

/** Aggregation calls per stage and chunks per way the tags have room for. */
const MAX_CALLS = 1 << 11;

export class WayExchange {
  private readonly lists = new Map<string, RowList>();

  constructor(
    readonly gpu: Gpu,
    /** The stage's way group: rank = this way, size = M. */
    readonly transport: Transport,
    readonly chunking: Chunking,
  ) {
    if (chunking.numChunks % transport.size !== 0) throw new RangeError(`hybrid pipeline: ${chunking.numChunks} chunks do not split evenly over ${transport.size} ways`);
  }

  get way(): number {
    return this.transport.rank;
  }

  get ways(): number {
    return this.transport.size;
  }

  get chunksPerWay(): number {
    return this.chunking.numChunks / this.transport.size;
  }

  /** Way v's chunk running at the same time as this way's chunk c. */
  concurrent(c: number, v: number): number {
    return c + (v - this.way) * this.chunksPerWay;
  }

  /**
   * Sends chunk c's rows of `x` (n_c × F) that each other way reads and receives the concurrent chunks'
   * rows this way reads. `reads` is the matrix whose row i lists the nodes that read node i's row
   * (forward Aᵀ, backward A); `key` names it in the row-list cache.
   */
  async swap(direction: ExchangeDirection, key: string, reads: Csr, call: number, c: number, x: Tensor): Promise<MirrorRows[]> {
    if (call >= MAX_CALLS) throw new RangeError(`hybrid pipeline: at most ${MAX_CALLS} aggregations per stage, this one is number ${call}`);
    const F = x.cols;
    const q = c - this.way * this.chunksPerWay;
    const tag = makeTag(TAG_CHANNEL.pipeExchange, ((direction === 'backward' ? 1 : 0) << 23) | (call << 12) | (q & 0xfff));
    const others = Array.from({ length: this.ways }, (_, v) => v).filter((v) => v !== this.way);
    const sends = others.map(async (v) => {
      const list = this.list(key, reads, c, v);
      let data = new Float32Array(0);
      if (list.local) {
        const rows = gatherRows(x, list.local);
        data = new Float32Array(await this.gpu.read(rows.buffer, 0, rows.byteLength));
        rows.dispose();
      }
      await this.transport.send(v, tag, data, [list.count, F]);
    });
    const receives = others.map(async (v): Promise<MirrorRows | null> => {
      const chunk = this.concurrent(c, v);
      const list = this.list(key, reads, chunk, this.way);
      const message = await this.transport.recv(v, tag, { kind: 'f32', shape: [list.count, F] });
      if (!list.global) return null;
      return { chunk, rows: fromArray(this.gpu, message.data as Float32Array, [list.count, F], { label: `pipe_mirror:${chunk}` }), ids: list.global };
    });
    const [, received] = await Promise.all([Promise.all(sends), Promise.all(receives)]);
    return received.filter((r): r is MirrorRows => r !== null);
  }

  /** The rows of chunk c that way v reads through `reads` (cached). */
  private list(key: string, reads: Csr, c: number, v: number): RowList {
    const id = `${key}:${c}:${v}`;
    let list = this.lists.get(id);
    if (list) return list;
    const { starts } = this.chunking;
    const lo = starts[v * this.chunksPerWay];
    const hi = starts[(v + 1) * this.chunksPerWay];
    const picked: number[] = [];
    for (let i = starts[c]; i < starts[c + 1]; i++) {
      for (let k = reads.rowPtr[i]; k < reads.rowPtr[i + 1]; k++) {
        const j = reads.colIdx[k];
        if (j >= lo && j < hi) {
          picked.push(i);
          break;
        }
      }
    }
    const ids = (values: number[], label: string) => keep(fromArray(this.gpu, Uint32Array.from(values), [values.length], { dtype: 'u32', label }));
    list = picked.length
      ? { count: picked.length, local: ids(picked.map((i) => i - starts[c]), `pipe_mirror_local:${id}`), global: ids(picked, `pipe_mirror_ids:${id}`) }
      : { count: 0, local: null, global: null };
    this.lists.set(id, list);
    return list;
  }

  dispose(): void {
    for (const l of this.lists.values()) {
      l.local?.dispose();
      l.global?.dispose();
    }
    this.lists.clear();
  }
}
