// A static sparse matrix resident on the GPU (a graph's aggregation operator), built once from a Csr.
// It holds A and Aᵀ (the backward aggregates along Aᵀ: no float atomics on a static graph), each with
// the work decomposition the SpMM kernel uses: every row is cut into segments of at most
// `segmentLength` nonzeros, so a hub of degree 10⁵ is as many small work items as 10⁵/S ordinary rows
// and power-law graphs stay balanced. The decomposition is computed once here, on the CPU.

import type { Gpu } from '../gpu/gpu.ts';
import { transposeCsr, validateCsr, type Csr } from './csr-structure.ts';

/** Marks a segment whose sum goes to a partial slot (its row has several segments), not to the output. */
export const PARTIAL_FLAG = 0x80000000;

/** Default maximum nonzeros per segment: long enough to amortise a segment's setup, short enough to balance. */
export const DEFAULT_SEGMENT_LENGTH = 32;

/** One direction (A or Aᵀ) as the kernels see it. */
export interface SparseStructure {
  readonly numRows: number;
  readonly numCols: number;
  readonly nnz: number;
  /** Segments, numSegments + 1 pairs (start, out): nonzeros [start, next start) sum into
   * out = row, or out = PARTIAL_FLAG | slot for a row split in several segments. A zero-length segment
   * stands for each empty row so that every output row is written. The last pair is (nnz, 0). */
  readonly segments: GPUBuffer;
  readonly numSegments: number;
  /** Nonzeros as pairs (column, bitcast f32 weight), in row order with columns ascending. */
  readonly entries: GPUBuffer;
  /** Rows split into several segments: numLongRows + 1 pairs (row, first partial slot); their partials
   * are consecutive slots, summed in slot order by the combine kernel. The last pair is (0, numPartials). */
  readonly longRows: GPUBuffer;
  readonly numLongRows: number;
  readonly numPartials: number;
  /** Nonzeros of the longest row (for reports and tests). */
  readonly maxRowLength: number;
  /** Empty rows have no segment: products must accumulate into their output (SparseMatrixOptions.emptyRows). */
  readonly skipsEmptyRows: boolean;
}

interface Storage {
  gpu: Gpu;
  buffers: GPUBuffer[];
  disposed: boolean;
}

export interface SparseMatrixOptions {
  /** Maximum nonzeros per segment (default 32). */
  segmentLength?: number;
  /**
   * A's empty rows: 'write' (default) writes zeros there, so A·X can overwrite an output; 'skip' gives
   * them no work at all, for a block that is only ever added into an output (SAR's peer blocks: most
   * of a worker's rows read nothing from a given peer). Aᵀ always writes every row.
   */
  emptyRows?: 'write' | 'skip';
}

export class SparseMatrix {
  private constructor(
    readonly gpu: Gpu,
    readonly label: string,
    private readonly forward: SparseStructure,
    private readonly backward: SparseStructure,
    private readonly storage: Storage,
    readonly segmentLength: number,
  ) {}

  /**
   * Uploads A (rows = destinations) and Aᵀ. `csr.values` are the edge weights (e.g. from
   * normalizedAdjacency); null means every weight is 1.
   */
  static fromCsr(gpu: Gpu, csr: Csr, label = 'sparse', options: SparseMatrixOptions = {}): SparseMatrix {
    validateCsr(csr, `SparseMatrix '${label}'`);
    const segmentLength = options.segmentLength ?? DEFAULT_SEGMENT_LENGTH;
    if (!Number.isInteger(segmentLength) || segmentLength < 1) {
      throw new RangeError(`SparseMatrix '${label}': segmentLength must be a positive integer, got ${segmentLength}`);
    }
    const storage: Storage = { gpu, buffers: [], disposed: false };
    try {
      const forward = upload(gpu, csr, label, segmentLength, storage, options.emptyRows === 'skip');
      const backward = upload(gpu, transposeCsr(csr), `${label}ᵀ`, segmentLength, storage, false);
      return new SparseMatrix(gpu, label, forward, backward, storage, segmentLength);
    } catch (error) {
      for (const b of storage.buffers) gpu.release(b);
      throw error;
    }
  }

  get numRows(): number {
    return this.forward.numRows;
  }

  get numCols(): number {
    return this.forward.numCols;
  }

  get nnz(): number {
    return this.forward.nnz;
  }

  get disposed(): boolean {
    return this.storage.disposed;
  }

  /** The structure the forward product Y = A·X runs on. */
  get structure(): SparseStructure {
    this.checkLive();
    return this.forward;
  }

  /** The structure of Aᵀ (the backward product). */
  get transposedStructure(): SparseStructure {
    this.checkLive();
    return this.backward;
  }

  /** Aᵀ as a view sharing this matrix's buffers (no upload); disposing either disposes both. */
  transpose(): SparseMatrix {
    const label = this.label.endsWith('ᵀ') ? this.label.slice(0, -1) : `${this.label}ᵀ`;
    return new SparseMatrix(this.gpu, label, this.backward, this.forward, this.storage, this.segmentLength);
  }

  /** Bytes of GPU memory held (both directions). */
  get byteLength(): number {
    return this.storage.buffers.reduce((sum, b) => sum + this.gpu.pool.sizeOf(b), 0);
  }

  dispose(): void {
    if (this.storage.disposed) return;
    this.storage.disposed = true;
    for (const b of this.storage.buffers) this.gpu.release(b);
    this.storage.buffers.length = 0;
  }

  toString(): string {
    return `SparseMatrix(${this.label}, ${this.numRows}×${this.numCols}, nnz ${this.nnz})`;
  }

  private checkLive(): void {
    if (this.storage.disposed) throw new Error(`sparse matrix '${this.label}' used after dispose`);
  }
}

/** The CPU side of the decomposition (exported for tests and benchmarks). */
export interface Decomposition {
  /** (start, out) pairs, numSegments + 1 of them. */
  segments: Uint32Array<ArrayBuffer>;
  numSegments: number;
  /** (row, first slot) pairs, numLongRows + 1 of them. */
  longRows: Uint32Array<ArrayBuffer>;
  numLongRows: number;
  numPartials: number;
  maxRowLength: number;
}

/**
 * `skipEmptyRows`: no segment for a row without nonzeros, so a product only touches the rows that have
 * some; such a structure can only be added into an output (accumulate), which leaves the other rows as they are.
 */
export function decompose(csr: Csr, segmentLength: number, skipEmptyRows = false): Decomposition {
  const { numRows, rowPtr } = csr;
  let numSegments = 0;
  let numLongRows = 0;
  let numPartials = 0;
  let maxRowLength = 0;
  for (let i = 0; i < numRows; i++) {
    const length = rowPtr[i + 1] - rowPtr[i];
    maxRowLength = Math.max(maxRowLength, length);
    if (skipEmptyRows && length === 0) continue;
    const pieces = Math.max(1, Math.ceil(length / segmentLength));
    numSegments += pieces;
    if (pieces > 1) {
      numLongRows++;
      numPartials += pieces;
    }
  }
  const segments = new Uint32Array(2 * (numSegments + 1));
  const longRows = new Uint32Array(2 * (numLongRows + 1));
  let s = 0;
  let l = 0;
  let slot = 0;
  for (let i = 0; i < numRows; i++) {
    const start = rowPtr[i];
    const length = rowPtr[i + 1] - start;
    if (skipEmptyRows && length === 0) continue;
    const pieces = Math.max(1, Math.ceil(length / segmentLength));
    if (pieces === 1) {
      segments[2 * s] = start;
      segments[2 * s + 1] = i;
      s++;
      continue;
    }
    longRows[2 * l] = i;
    longRows[2 * l + 1] = slot;
    l++;
    for (let k = 0; k < pieces; k++) {
      segments[2 * s] = start + k * segmentLength;
      segments[2 * s + 1] = (PARTIAL_FLAG | slot++) >>> 0;
      s++;
    }
  }
  segments[2 * numSegments] = rowPtr[numRows];
  longRows[2 * numLongRows + 1] = numPartials;
  return { segments, numSegments, longRows, numLongRows, numPartials, maxRowLength };
}

function upload(gpu: Gpu, csr: Csr, label: string, segmentLength: number, storage: Storage, skipEmptyRows: boolean): SparseStructure {
  const nnz = csr.rowPtr[csr.numRows];
  const d = decompose(csr, segmentLength, skipEmptyRows);
  if (d.numPartials >= PARTIAL_FLAG || nnz >= PARTIAL_FLAG) {
    throw new RangeError(`SparseMatrix '${label}': ${nnz} nonzeros is too many for 31-bit slot ids`);
  }
  // Column and weight interleaved: one 8-byte load per nonzero instead of two.
  const entries = new Uint32Array(2 * nnz);
  const weights = new Float32Array(entries.buffer);
  for (let k = 0; k < nnz; k++) {
    entries[2 * k] = csr.colIdx[k];
    weights[2 * k + 1] = csr.values ? csr.values[k] : 1;
  }
  const put = (data: Uint32Array, name: string): GPUBuffer => {
    if (data.byteLength > gpu.maxStorageBinding) {
      throw new RangeError(`SparseMatrix '${label}': ${name} need ${data.byteLength} bytes, over this device's storage binding limit (${gpu.maxStorageBinding})`);
    }
    const buffer = gpu.allocate(data.byteLength, `${label} ${name}`, true);
    storage.buffers.push(buffer);
    if (data.byteLength > 0) gpu.upload(buffer, data);
    return buffer;
  };
  return {
    numRows: csr.numRows,
    numCols: csr.numCols,
    nnz,
    segments: put(d.segments, 'segments'),
    numSegments: d.numSegments,
    entries: put(entries, 'entries'),
    longRows: put(d.longRows, 'long rows'),
    numLongRows: d.numLongRows,
    numPartials: d.numPartials,
    maxRowLength: d.maxRowLength,
    skipsEmptyRows: skipEmptyRows,
  };
}
