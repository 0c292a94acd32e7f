// GNNPipe's historical buffers, one pair per aggregation of a stage (the k-th aggregation call of a chunk's
// forward on this stage): whole-graph aggregation inputs (embeddings) and aggregation-output gradients.
// A chunk writes its own rows after its forward (embeddings) and after its backward (gradients); a later
// chunk reads the rows of chunks it neighbours. What it reads is as old as the epoch its chunk last wrote.
//
// Tricks (research/gnnpipe.md §4), each switchable:
// - snapshot (trick 3): at each epoch start the embeddings are restored from a snapshot refreshed every
//   K epochs, so the rows of chunks not yet run this epoch are up to K epochs old but mutually consistent.
//   The bound on the age of any row read is K (K = 1 without the trick: the previous epoch's rows).
// - unbiased gradients (trick 2): a chunk stores 2·g, and every stored gradient is cleared at epoch end:
//   a later chunk (in the backward order) sees 2g, an earlier one 0, which is g in expectation over
//   shuffled orders. Without it a chunk reads the previous epoch's gradients of chunks not yet run.
// Initial rows are zero and count as written at epoch −1.

import type { Gpu } from '../../gpu/gpu.ts';
import { zeros } from '../../tensor/create.ts';
import { fill, scale } from '../../tensor/ops/elementwise.ts';
import { scatterRows } from '../../tensor/ops/rows.ts';
import { keep } from '../../tensor/scope.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Chunking } from './chunking.ts';

export interface HistoryOptions {
  /** Snapshot period K in epochs (1: no snapshot, the trick off). */
  snapshotPeriod: number;
  /** Trick 2: store 2·g and clear the gradients every epoch. */
  unbiasedGradients: boolean;
}

/** Ages (in epochs) of the historical rows read, as a running maximum, sum and row count. */
export interface AgeStats {
  maxAge: number;
  sumAge: number;
  rows: number;
}

export function emptyAges(): AgeStats {
  return { maxAge: 0, sumAge: 0, rows: 0 };
}

export function mergeAges(a: AgeStats, b: AgeStats): AgeStats {
  return { maxAge: Math.max(a.maxAge, b.maxAge), sumAge: a.sumAge + b.sumAge, rows: a.rows + b.rows };
}

interface Buffer {
  tensor: Tensor;
  /** Per chunk: the epoch its rows were last written (−1: the initial zeros). */
  writtenAt: Int32Array;
}

interface EmbeddingSlot extends Buffer {
  snapshot: Buffer | null;
}

export class HistoryStore {
  private readonly embeddingSlots = new Map<number, EmbeddingSlot>();
  private readonly gradientSlots = new Map<number, Buffer>();
  private epoch = 0;
  embeddingAges = emptyAges();
  gradientAges = emptyAges();

  constructor(
    readonly gpu: Gpu,
    readonly chunking: Chunking,
    readonly options: HistoryOptions,
  ) {
    if (!Number.isInteger(options.snapshotPeriod) || options.snapshotPeriod < 1) {
      throw new RangeError(`the snapshot period must be a positive integer of epochs, got ${options.snapshotPeriod}`);
    }
  }

  /** Starts epoch `e`: restores the embeddings from the snapshot (refreshing it every K epochs) and resets the age counts. */
  beginEpoch(e: number): void {
    this.epoch = e;
    this.embeddingAges = emptyAges();
    this.gradientAges = emptyAges();
    if (this.options.snapshotPeriod === 1) return;
    for (const slot of this.embeddingSlots.values()) {
      if (!slot.snapshot) slot.snapshot = { tensor: keep(zeros(this.gpu, slot.tensor.shape, 'f32', 'pipe_snapshot')), writtenAt: new Int32Array(this.chunking.numChunks).fill(-1) };
      if (e % this.options.snapshotPeriod === 0) copyBuffer(this.gpu, slot, slot.snapshot);
      copyBuffer(this.gpu, slot.snapshot, slot);
    }
  }

  /** Ends the epoch: clears the stored gradients under trick 2. */
  endEpoch(): void {
    if (!this.options.unbiasedGradients) return;
    for (const slot of this.gradientSlots.values()) {
      fill(slot.tensor, 0);
      slot.writtenAt.fill(-1);
    }
  }

  /** The embedding buffer of aggregation `call` (N × width), zero on first use. */
  embeddings(call: number, width: number): Tensor {
    return this.slot(this.embeddingSlots, call, width, 'pipe_history').tensor;
  }

  /** The gradient buffer of aggregation `call` (N × width), zero on first use. */
  gradients(call: number, width: number): Tensor {
    return this.slot(this.gradientSlots, call, width, 'pipe_history_grad').tensor;
  }

  /** Counts the ages of the rows chunk `c` reads (rowsFrom[k] rows of chunk k) from aggregation `call`'s embeddings. */
  noteEmbeddingReads(call: number, rowsFrom: Int32Array): void {
    const slot = this.embeddingSlots.get(call)!;
    this.embeddingAges = addAges(this.embeddingAges, slot.writtenAt, rowsFrom, this.epoch, false);
  }

  noteGradientReads(call: number, rowsFrom: Int32Array): void {
    const slot = this.gradientSlots.get(call)!;
    // Cleared rows (trick 2) hold no gradient: nothing stale is read from them.
    this.gradientAges = addAges(this.gradientAges, slot.writtenAt, rowsFrom, this.epoch, this.options.unbiasedGradients);
  }

  /** Writes chunk `c`'s aggregation input (n_c × width) into its rows. */
  writeEmbeddings(call: number, c: number, x: Tensor): void {
    this.writeRows(this.embeddingSlots.get(call)!, c, x);
  }

  /** Writes chunk `c`'s aggregation-output gradient (×2 under trick 2) into its rows. */
  writeGradients(call: number, c: number, g: Tensor): void {
    const doubled = this.options.unbiasedGradients ? scale(g, 2) : g;
    this.writeRows(this.gradientSlots.get(call)!, c, doubled);
    if (doubled !== g) doubled.dispose();
  }

  /**
   * Writes rows another way sent (hybrid mode): chunk `c`'s rows at global ids `ids`, as of this epoch.
   * Received gradients are the current epoch's exact ones, stored as they are (×1); see ChunkedGraph.
   */
  writeMirrorEmbeddings(call: number, c: number, rows: Tensor, ids: Tensor): void {
    this.scatter(this.embeddingSlots.get(call)!, c, rows, ids);
  }

  writeMirrorGradients(call: number, c: number, rows: Tensor, ids: Tensor): void {
    this.scatter(this.gradientSlots.get(call)!, c, rows, ids);
  }

  /** Trick 2 for mirror rows once the concurrent chunk has read them: later chunks see them ×2, as their own way's. */
  doubleMirrorGradients(call: number, rows: Tensor, ids: Tensor): void {
    if (!this.options.unbiasedGradients) return;
    const doubled = scale(rows, 2);
    scatterRows(this.gradientSlots.get(call)!.tensor, doubled, ids);
    doubled.dispose();
  }

  /** Writes every row at once (a whole-graph exact pass, as in warm-up epochs). */
  writeAllEmbeddings(call: number, x: Tensor): void {
    const slot = this.embeddingSlots.get(call)!;
    this.gpu.encoder.copy(x.buffer, 0, slot.tensor.buffer, 0, x.byteLength);
    slot.writtenAt.fill(this.epoch);
  }

  /** GPU bytes the buffers hold. */
  get bytes(): number {
    let total = 0;
    for (const s of this.embeddingSlots.values()) total += s.tensor.byteLength * (s.snapshot ? 2 : 1);
    for (const s of this.gradientSlots.values()) total += s.tensor.byteLength;
    return total;
  }

  dispose(): void {
    for (const s of this.embeddingSlots.values()) {
      s.tensor.dispose();
      s.snapshot?.tensor.dispose();
    }
    for (const s of this.gradientSlots.values()) s.tensor.dispose();
    this.embeddingSlots.clear();
    this.gradientSlots.clear();
  }

  private slot<S extends Buffer>(slots: Map<number, S>, call: number, width: number, label: string): S {
    let slot = slots.get(call);
    const n = this.chunking.starts[this.chunking.numChunks];
    if (!slot) {
      slot = { tensor: keep(zeros(this.gpu, [n, width], 'f32', `${label}:${call}`)), writtenAt: new Int32Array(this.chunking.numChunks).fill(-1), snapshot: null } as unknown as S;
      slots.set(call, slot);
    }
    if (slot.tensor.cols !== width) {
      throw new RangeError(`pipeline: aggregation ${call} of this stage had ${slot.tensor.cols} columns before and now ${width}: every chunk must run the same layers`);
    }
    return slot;
  }

  private scatter(slot: Buffer, c: number, rows: Tensor, ids: Tensor): void {
    scatterRows(slot.tensor, rows, ids);
    slot.writtenAt[c] = this.epoch;
  }

  private writeRows(slot: Buffer, c: number, x: Tensor): void {
    const start = this.chunking.starts[c];
    const rows = this.chunking.starts[c + 1] - start;
    if (x.rows !== rows || x.cols !== slot.tensor.cols) throw new RangeError(`pipeline: chunk ${c} wrote ${x} into history rows of width ${slot.tensor.cols} (expected ${rows} rows)`);
    this.gpu.encoder.copy(x.buffer, 0, slot.tensor.buffer, start * x.cols * 4, x.byteLength);
    slot.writtenAt[c] = this.epoch;
  }
}

function copyBuffer(gpu: Gpu, from: Buffer, to: Buffer): void {
  gpu.encoder.copy(from.tensor.buffer, 0, to.tensor.buffer, 0, from.tensor.byteLength);
  to.writtenAt.set(from.writtenAt);
}

function addAges(stats: AgeStats, writtenAt: Int32Array, rowsFrom: Int32Array, epoch: number, skipUnwritten: boolean): AgeStats {
  let { maxAge, sumAge, rows } = stats;
  for (let k = 0; k < rowsFrom.length; k++) {
    const count = rowsFrom[k];
    if (!count || (skipUnwritten && writtenAt[k] < 0)) continue;
    const age = epoch - writtenAt[k];
    maxAge = Math.max(maxAge, age);
    sumAge += age * count;
    rows += count;
  }
  return { maxAge, sumAge, rows };
}
