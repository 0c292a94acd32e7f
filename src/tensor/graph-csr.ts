// A static graph's topology resident on the GPU for edge-wise kernels (graph attention): the CSR
// (rows = destinations) and the CSC (rows = sources), each CSC entry naming its destination and the id
// of the same edge in CSR order, so per-edge values (attention coefficients, dropout masks keyed by
// edge id) are recomputed identically in both directions. Built once on the CPU; no weights.
//
// One u32 buffer: [csrPtr: N+1 | csrSrc: nnz | cscPtr: N+1 | cscDst: nnz | cscEdge: nnz]
// (one binding for the whole structure; the kernels compute the offsets from N and nnz).

import type { Gpu } from '../gpu/gpu.ts';
import { validateCsr, type Csr } from './csr-structure.ts';

export class GraphCsr {
  private buffer: GPUBuffer | null;

  private constructor(
    readonly gpu: Gpu,
    readonly label: string,
    readonly numNodes: number,
    readonly numEdges: number,
    readonly maxInDegree: number,
    readonly maxOutDegree: number,
    buffer: GPUBuffer,
  ) {
    this.buffer = buffer;
  }

  /** Uploads a square Csr whose rows are destinations (values, if any, are ignored). */
  static fromCsr(gpu: Gpu, csr: Csr, label = 'graph'): GraphCsr {
    validateCsr(csr, `GraphCsr '${label}'`);
    if (csr.numRows !== csr.numCols) {
      throw new RangeError(`GraphCsr '${label}': needs a square adjacency (nodes are both sources and destinations), got ${csr.numRows}×${csr.numCols}`);
    }
    const n = csr.numRows;
    const nnz = csr.rowPtr[n];
    const data = new Uint32Array(2 * (n + 1) + 3 * nnz);
    data.set(csr.rowPtr, 0);
    data.set(csr.colIdx, n + 1);
    const cscPtr = n + 1 + nnz;
    const cscDst = 2 * (n + 1) + nnz;
    const cscEdge = cscDst + nnz;
    // Counting sort of the edges by source; destinations are visited in order, so each source's
    // entries come out with ascending destinations (and ascending edge ids).
    const counts = new Int32Array(n + 1);
    for (let k = 0; k < nnz; k++) counts[csr.colIdx[k] + 1]++;
    let maxOutDegree = 0;
    for (let j = 0; j < n; j++) {
      maxOutDegree = Math.max(maxOutDegree, counts[j + 1]);
      counts[j + 1] += counts[j];
    }
    data.set(counts, cscPtr);
    const fill = counts.slice(0, n);
    let maxInDegree = 0;
    for (let i = 0; i < n; i++) {
      maxInDegree = Math.max(maxInDegree, csr.rowPtr[i + 1] - csr.rowPtr[i]);
      for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
        const slot = fill[csr.colIdx[k]]++;
        data[cscDst + slot] = i;
        data[cscEdge + slot] = k;
      }
    }
    if (data.byteLength > gpu.maxStorageBinding) {
      throw new RangeError(`GraphCsr '${label}': ${data.byteLength} bytes of topology, over this device's storage binding limit (${gpu.maxStorageBinding})`);
    }
    const buffer = gpu.allocate(data.byteLength, `${label} topology`, true);
    gpu.upload(buffer, data);
    return new GraphCsr(gpu, label, n, nnz, maxInDegree, maxOutDegree, buffer);
  }

  /** The topology buffer (see the header for its layout). */
  get topology(): GPUBuffer {
    if (!this.buffer) throw new Error(`graph '${this.label}' used after dispose`);
    return this.buffer;
  }

  get disposed(): boolean {
    return this.buffer === null;
  }

  get byteLength(): number {
    return this.buffer ? this.gpu.pool.sizeOf(this.buffer) : 0;
  }

  dispose(): void {
    if (!this.buffer) return;
    this.gpu.release(this.buffer);
    this.buffer = null;
  }

  toString(): string {
    return `GraphCsr(${this.label}, ${this.numNodes} nodes, ${this.numEdges} edges)`;
  }
}
