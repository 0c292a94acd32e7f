import { checkCount, checkIds, validateCsr, type Csr } from '../tensor/csr-structure.ts';

// The Csr type and its structural helpers live one layer down (src/tensor/csr-structure.ts, so the
// tensor layer's sparse operators need not import the graph layer); this module builds and normalises
// Csrs and re-exports them, so importers of src/graph/csr.ts keep one place to look.
export { transposeCsr, validateCsr, type Csr } from '../tensor/csr-structure.ts';

export type SelfLoopPolicy = 'add' | 'keep' | 'remove';

export interface BuildAdjacencyOptions {
  /** Store every edge in both directions. */
  undirected: boolean;
  /** 'add': every node gets exactly one self loop; 'keep': self loops as in the edge list; 'remove': none. */
  selfLoops: SelfLoopPolicy;
}

export type Normalization = 'sum' | 'mean' | 'gcn';

/**
 * The adjacency of an edge list: edge (src[e], dst[e]) is stored at row dst[e], column src[e]
 * (and also at row src[e], column dst[e] when undirected). Duplicates collapse into one entry.
 */
export function buildAdjacency(
  numNodes: number,
  src: Int32Array,
  dst: Int32Array,
  options: BuildAdjacencyOptions,
): Csr {
  checkCount('buildAdjacency', 'numNodes', numNodes);
  if (src.length !== dst.length) {
    throw new Error(`buildAdjacency: src has ${src.length} entries but dst has ${dst.length}`);
  }
  checkIds('buildAdjacency', 'src', src, numNodes);
  checkIds('buildAdjacency', 'dst', dst, numNodes);
  const { undirected, selfLoops } = options;
  if (selfLoops !== 'add' && selfLoops !== 'keep' && selfLoops !== 'remove') {
    throw new Error(`buildAdjacency: selfLoops must be 'add', 'keep' or 'remove', got ${String(selfLoops)}`);
  }

  // Gather (row, col) pairs, dropping input self loops unless they are kept as they are.
  const numEdges = src.length;
  const capacity = numEdges * (undirected ? 2 : 1) + (selfLoops === 'add' ? numNodes : 0);
  const rows = new Int32Array(capacity);
  const cols = new Int32Array(capacity);
  let count = 0;
  for (let e = 0; e < numEdges; e++) {
    const s = src[e];
    const d = dst[e];
    if (s === d) {
      if (selfLoops !== 'keep') continue;
      rows[count] = d;
      cols[count++] = s;
      continue;
    }
    rows[count] = d;
    cols[count++] = s;
    if (undirected) {
      rows[count] = s;
      cols[count++] = d;
    }
  }
  if (selfLoops === 'add') {
    for (let i = 0; i < numNodes; i++) {
      rows[count] = i;
      cols[count++] = i;
    }
  }

  // Bucket by column (the CSC), then scatter each column's rows into the row buckets, visiting columns
  // in order: every row receives its columns sorted, with duplicates adjacent. O(E + N), no comparisons.
  const colStart = new Int32Array(numNodes + 1);
  for (let k = 0; k < count; k++) colStart[cols[k] + 1]++;
  for (let c = 0; c < numNodes; c++) colStart[c + 1] += colStart[c];
  const colFill = colStart.slice(0, numNodes);
  const rowsByCol = new Int32Array(count);
  for (let k = 0; k < count; k++) rowsByCol[colFill[cols[k]]++] = rows[k];

  const rowStart = new Int32Array(numNodes + 1);
  for (let k = 0; k < count; k++) rowStart[rows[k] + 1]++;
  for (let r = 0; r < numNodes; r++) rowStart[r + 1] += rowStart[r];
  const rowFill = rowStart.slice(0, numNodes);
  const scattered = new Int32Array(count);
  for (let c = 0; c < numNodes; c++) {
    for (let k = colStart[c]; k < colStart[c + 1]; k++) {
      const r = rowsByCol[k];
      const fill = rowFill[r];
      if (fill > rowStart[r] && scattered[fill - 1] === c) continue; // duplicate
      scattered[fill] = c;
      rowFill[r] = fill + 1;
    }
  }

  // Close the gaps that duplicates left at the end of their rows.
  const rowPtr = new Int32Array(numNodes + 1);
  for (let r = 0; r < numNodes; r++) rowPtr[r + 1] = rowPtr[r] + (rowFill[r] - rowStart[r]);
  const stored = rowPtr[numNodes];
  let colIdx = scattered;
  if (stored !== count) {
    colIdx = new Int32Array(stored);
    for (let r = 0; r < numNodes; r++) colIdx.set(scattered.subarray(rowStart[r], rowFill[r]), rowPtr[r]);
  }
  return { numRows: numNodes, numCols: numNodes, rowPtr, colIdx, values: null };
}

/** Entries per row; with rows as destinations this is each node's in-degree. */
export function inDegrees(csr: Csr): Int32Array<ArrayBuffer> {
  const degrees = new Int32Array(csr.numRows);
  for (let i = 0; i < csr.numRows; i++) degrees[i] = csr.rowPtr[i + 1] - csr.rowPtr[i];
  return degrees;
}

/** Entries per column; with columns as sources this is each node's out-degree. */
export function outDegrees(csr: Csr): Int32Array<ArrayBuffer> {
  const degrees = new Int32Array(csr.numCols);
  const nnz = csr.rowPtr[csr.numRows];
  for (let k = 0; k < nnz; k++) degrees[csr.colIdx[k]]++;
  return degrees;
}

/**
 * The same structure (rowPtr and colIdx are shared, not copied) with aggregation weights:
 * - 'sum':  1;
 * - 'mean': 1 / deg(i), so row i averages its neighbours (empty rows stay empty);
 * - 'gcn':  1 / sqrt(deg(i) · deg(j)) (Kipf & Welling), deg = entries per row of this structure, self
 *   loops included when present. A source j with no row entries of its own (only in directed graphs)
 *   gets weight 0, as PyG's gcn_norm does. Needs a square matrix.
 * Weights are computed in float64 and rounded once to float32.
 */
export function normalizedAdjacency(csr: Csr, kind: Normalization): Csr {
  validateCsr(csr, 'normalizedAdjacency');
  const { numRows, rowPtr, colIdx } = csr;
  const values = new Float32Array(rowPtr[numRows]);
  const degrees = inDegrees(csr);
  if (kind === 'sum') {
    values.fill(1);
  } else if (kind === 'mean') {
    for (let i = 0; i < numRows; i++) {
      const weight = 1 / degrees[i];
      for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) values[k] = weight;
    }
  } else if (kind === 'gcn') {
    if (csr.numRows !== csr.numCols) {
      throw new Error(`normalizedAdjacency: 'gcn' needs a square matrix, got ${csr.numRows} × ${csr.numCols}`);
    }
    for (let i = 0; i < numRows; i++) {
      for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
        const product = degrees[i] * degrees[colIdx[k]];
        values[k] = product > 0 ? 1 / Math.sqrt(product) : 0;
      }
    }
  } else {
    throw new Error(`normalizedAdjacency: kind must be 'sum', 'mean' or 'gcn', got ${String(kind)}`);
  }
  return { numRows, numCols: csr.numCols, rowPtr, colIdx, values };
}
