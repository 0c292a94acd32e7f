// A chunk's share of an aggregation operator A (built on the CPU once per kind): its rows of A cut by
// where the column lives: `local` (columns inside the chunk, renumbered from 0) and `off` (columns in
// other chunks, kept as global ids: they index the whole-graph historical buffer). The backward pulls
// through Aᵀ the same way: `offT` holds the chunk's rows of Aᵀ whose columns lie in other chunks.

import type { Csr } from '../../tensor/csr-structure.ts';
import { chunkOf, type Chunking } from './chunking.ts';

export interface ChunkBlocks {
  /** n_c × n_c: entries whose column is inside the chunk. */
  local: Csr;
  /** n_c × N: entries whose column is in another chunk (null when there are none). */
  off: Csr | null;
  /** n_c × N: Aᵀ's entries of the chunk's rows whose column is in another chunk (null when none). */
  offT: Csr | null;
  /** Per chunk: how many distinct rows of it `off` reads (0 at this chunk). */
  rowsReadFrom: Int32Array;
  /** Per chunk: how many distinct rows of it `offT` reads. */
  gradRowsReadFrom: Int32Array;
}

/** Rows [start, end) of `a`, split into the entries inside and outside the column range [start, end). */
function splitRows(a: Csr, start: number, end: number): { local: Csr; off: Csr | null } {
  const n = end - start;
  const localPtr = new Int32Array(n + 1);
  const offPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let inside = 0;
    for (let k = a.rowPtr[start + i]; k < a.rowPtr[start + i + 1]; k++) if (a.colIdx[k] >= start && a.colIdx[k] < end) inside++;
    localPtr[i + 1] = localPtr[i] + inside;
    offPtr[i + 1] = offPtr[i] + (a.rowPtr[start + i + 1] - a.rowPtr[start + i] - inside);
  }
  const localCol = new Int32Array(localPtr[n]);
  const offCol = new Int32Array(offPtr[n]);
  const localVal = a.values ? new Float32Array(localPtr[n]) : null;
  const offVal = a.values ? new Float32Array(offPtr[n]) : null;
  for (let i = 0; i < n; i++) {
    let li = localPtr[i];
    let oi = offPtr[i];
    for (let k = a.rowPtr[start + i]; k < a.rowPtr[start + i + 1]; k++) {
      const j = a.colIdx[k];
      if (j >= start && j < end) {
        localCol[li] = j - start;
        if (localVal) localVal[li] = a.values![k];
        li++;
      } else {
        offCol[oi] = j;
        if (offVal) offVal[oi] = a.values![k];
        oi++;
      }
    }
  }
  const local: Csr = { numRows: n, numCols: n, rowPtr: localPtr, colIdx: localCol, values: localVal };
  const off: Csr | null = offPtr[n] ? { numRows: n, numCols: a.numCols, rowPtr: offPtr, colIdx: offCol, values: offVal } : null;
  return { local, off };
}

/** Distinct columns of `m`, counted per chunk. */
function distinctRowsPerChunk(m: Csr | null, chunking: Chunking): Int32Array {
  const counts = new Int32Array(chunking.numChunks);
  if (!m) return counts;
  const seen = new Set<number>();
  for (let k = 0; k < m.rowPtr[m.numRows]; k++) seen.add(m.colIdx[k]);
  for (const j of seen) counts[chunkOf(chunking, j)]++;
  return counts;
}

/** Chunk `c`'s blocks of A (and its transpose `aT`), both over the renumbered graph. */
export function chunkBlocks(a: Csr, aT: Csr, chunking: Chunking, c: number): ChunkBlocks {
  const start = chunking.starts[c];
  const end = chunking.starts[c + 1];
  const { local, off } = splitRows(a, start, end);
  const offT = splitRows(aT, start, end).off;
  return { local, off, offT, rowsReadFrom: distinctRowsPerChunk(off, chunking), gradRowsReadFrom: distinctRowsPerChunk(offT, chunking) };
}
