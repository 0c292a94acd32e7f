// The plain CSR structure every sparse kernel takes, with the two structural helpers the tensor layer
// needs (validation and transposition). It lives here, below src/graph, so GPU-resident sparse operators
// (sparse-matrix.ts, graph-csr.ts) and ops can take a Csr without importing the graph layer;
// src/graph/csr.ts builds and normalises Csrs and re-exports these.

/**
 * Compressed sparse rows for graph aggregation.
 *
 * Convention: rows are DESTINATIONS, columns are SOURCES. Y = A·X adds X[j] into Y[i] for each stored
 * (i, j), so row i lists the in-neighbours of node i and one GPU thread per row aggregates without
 * atomics. The backward pass aggregates along Aᵀ, built once with transposeCsr (the CSC of A).
 *
 * Column indices are sorted ascending and unique within each row, so results do not depend on the order
 * of the edge list.
 */
export interface Csr {
  numRows: number;
  numCols: number;
  /** numRows + 1 offsets into colIdx/values. */
  rowPtr: Int32Array<ArrayBuffer>;
  colIdx: Int32Array<ArrayBuffer>;
  /** One weight per stored entry, or null for an unweighted structure (every weight 1). */
  values: Float32Array<ArrayBuffer> | null;
}

/**
 * The CSR of Aᵀ (equivalently the CSC of A), carrying values. Rows of the result come out with sorted
 * columns because the input rows are visited in order.
 */
export function transposeCsr(csr: Csr): Csr {
  validateCsr(csr, 'transposeCsr');
  const { numRows, numCols, rowPtr, colIdx, values } = csr;
  const nnz = rowPtr[numRows];
  const outPtr = new Int32Array(numCols + 1);
  for (let k = 0; k < nnz; k++) outPtr[colIdx[k] + 1]++;
  for (let j = 0; j < numCols; j++) outPtr[j + 1] += outPtr[j];
  const next = outPtr.slice(0, numCols);
  const outIdx = new Int32Array(nnz);
  const outValues = values ? new Float32Array(nnz) : null;
  for (let i = 0; i < numRows; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const slot = next[colIdx[k]]++;
      outIdx[slot] = i;
      if (outValues) outValues[slot] = values![k];
    }
  }
  return { numRows: numCols, numCols: numRows, rowPtr: outPtr, colIdx: outIdx, values: outValues };
}

/** Checks the invariants every consumer relies on; `caller` prefixes the error message. */
export function validateCsr(csr: Csr, caller = 'validateCsr'): void {
  const { numRows, numCols, rowPtr, colIdx, values } = csr;
  checkCount(caller, 'numRows', numRows);
  checkCount(caller, 'numCols', numCols);
  if (rowPtr.length !== numRows + 1) {
    throw new Error(`${caller}: rowPtr has ${rowPtr.length} entries, expected numRows + 1 = ${numRows + 1}`);
  }
  if (rowPtr[0] !== 0) throw new Error(`${caller}: rowPtr[0] is ${rowPtr[0]}, expected 0`);
  for (let i = 0; i < numRows; i++) {
    if (rowPtr[i + 1] < rowPtr[i]) throw new Error(`${caller}: rowPtr decreases at row ${i}`);
  }
  const nnz = rowPtr[numRows];
  if (colIdx.length !== nnz) throw new Error(`${caller}: colIdx has ${colIdx.length} entries, rowPtr says ${nnz}`);
  if (values && values.length !== nnz) throw new Error(`${caller}: values has ${values.length} entries, rowPtr says ${nnz}`);
  checkIds(caller, 'colIdx', colIdx, numCols);
}

/** Throws unless value is a non-negative 32-bit integer small enough for a row count plus one. */
export function checkCount(caller: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 2) {
    throw new Error(`${caller}: ${name} must be a non-negative 32-bit integer, got ${value}`);
  }
}

/** Throws unless every id lies in [0, limit). */
export function checkIds(caller: string, name: string, ids: Int32Array, limit: number): void {
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    if (id < 0 || id >= limit) throw new Error(`${caller}: ${name}[${k}] = ${id} is out of range [0, ${limit})`);
  }
}
