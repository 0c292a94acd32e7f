// SpMM (Y = A·X) against its float64 reference: sum/mean/gcn weights, empty rows and isolated nodes, a hub
// of degree 3000 (split into many segments and recombined), F from 1 to 130 (scalar and vec4 layouts,
// one pass and several; GPU and CPU layouts, with and without row touches), row counts that are not
// multiples of any workgroup size, rectangular matrices, a power-law graph, the transposed view, the
// backward (= Aᵀ·dY) and a finite-difference gradient check.
//
// Tolerance (per element, see withinSummationBound): the GPU and the reference use the same f32 weights
// and inputs, so the only error is f32 rounding of the products and of the sums. A row of deg terms is
// summed as segments of at most S terms, then up to ceil(deg / S) segment sums are added, so each result
// has at most n = min(deg, S) + ceil(deg / S) + 1 rounding steps and |err| ≤ 1.01·n·2⁻²⁴·Σ|w·x| (the
// standard recursive-summation bound). An indexing mistake is off by a whole term, far beyond that.

import { buildAdjacency, normalizedAdjacency, transposeCsr, type Csr, type Normalization } from '../../src/graph/csr.ts';
import { powerLawGraph } from '../../src/graph/synthetic.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { spmm, spmmInto, spmmReference, type SpmmOptions } from '../../src/tensor/ops/spmm.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { SparseMatrix } from '../../src/tensor/sparse-matrix.ts';
import { backward } from '../../src/tensor/tape.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { assertClose, assertEqual, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const U = 2 ** -24;

/** Checks got ≈ A·X within the f32 summation bound of each element (see the header). */
function withinSummationBound(got: Float32Array, csr: Csr, x: ArrayLike<number>, F: number, S: number, what: string): void {
  const expected = spmmReference(csr, x, F);
  if (got.length !== expected.length) throw new Error(`${what}: length ${got.length}, expected ${expected.length}`);
  for (let i = 0; i < csr.numRows; i++) {
    const deg = csr.rowPtr[i + 1] - csr.rowPtr[i];
    const steps = Math.min(deg, S) + Math.ceil(deg / S) + 1;
    for (let c = 0; c < F; c++) {
      let magnitude = 0;
      for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
        magnitude += Math.abs((csr.values ? csr.values[k] : 1) * x[csr.colIdx[k] * F + c]);
      }
      const bound = 1.01 * steps * U * magnitude;
      const index = i * F + c;
      const err = Math.abs(got[index] - expected[index]);
      if (!(err <= bound)) {
        throw new Error(`${what}: Y[${i}, ${c}] is ${got[index]}, expected ${expected[index]} (|err| ${err.toExponential(2)} > bound ${bound.toExponential(2)}, row degree ${deg})`);
      }
    }
  }
}

/** Runs Y = A·X on the GPU and checks it (and the same through Aᵀ's view against the transposed CSR). */
async function checkProduct(gpu: Gpu, csr: Csr, F: number, seed: number, what: string, options: SpmmOptions = {}): Promise<void> {
  const a = SparseMatrix.fromCsr(gpu, csr, what);
  try {
    const x = randomArray(csr.numCols * F, seed);
    const got = await read(withScope(() => spmm(a, fromArray(gpu, x, [csr.numCols, F]), options)));
    withinSummationBound(got, csr, x, F, a.segmentLength, `${what} A·X`);
    const xt = randomArray(csr.numRows * F, seed + 1);
    const gotT = await read(withScope(() => spmm(a.transpose(), fromArray(gpu, xt, [csr.numRows, F]), options)));
    withinSummationBound(gotT, transposeCsr(csr), xt, F, a.segmentLength, `${what} Aᵀ·X`);
  } finally {
    a.dispose();
  }
}

function powerLaw(numNodes: number, numEdges: number, seed: number, kind: Normalization | null): Csr {
  const { src, dst } = powerLawGraph({ numNodes, numEdges, seed });
  const csr = buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'add' });
  return kind ? normalizedAdjacency(csr, kind) : csr;
}

/** A directed graph where some nodes have no in-edges (empty rows) and some no edges at all. */
function sparseDirected(): Csr {
  const numNodes = 45;
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < 30; i++) {
    if (i % 3 === 0) continue; // rows 0, 3, 6, ... stay empty
    for (let j = 0; j < (i % 5) + 1; j++) {
      src.push((i * 7 + j * 11) % 30);
      dst.push(i);
    }
  }
  // Nodes 30..44 are isolated: no row entries and never a column.
  return buildAdjacency(numNodes, Int32Array.from(src), Int32Array.from(dst), { undirected: false, selfLoops: 'keep' });
}

/** Node 0 receives from 3000 leaves; each leaf receives from node 0 (and itself with self loops). */
function star(leaves: number, kind: Normalization): Csr {
  const src = new Int32Array(leaves);
  const dst = new Int32Array(leaves);
  for (let i = 0; i < leaves; i++) src[i] = i + 1;
  return normalizedAdjacency(buildAdjacency(leaves + 1, src, dst, { undirected: true, selfLoops: 'add' }), kind);
}

/** numRows × numCols with a few random entries per row (some rows empty) and random weights. */
function rectangular(numRows: number, numCols: number, seed: number): Csr {
  const rowPtr = new Int32Array(numRows + 1);
  const cols: number[] = [];
  const r = randomArray(numRows * 8, seed, 0, 1);
  for (let i = 0; i < numRows; i++) {
    const row = new Set<number>();
    const count = Math.floor(r[i * 8] * 7); // 0..6 entries
    for (let k = 0; k < count; k++) row.add(Math.floor(r[i * 8 + 1 + k] * numCols));
    cols.push(...[...row].sort((p, q) => p - q));
    rowPtr[i + 1] = cols.length;
  }
  const colIdx = Int32Array.from(cols);
  return { numRows, numCols, rowPtr, colIdx, values: new Float32Array(randomArray(colIdx.length, seed + 5, -2, 2)) };
}

export const spmmCases: KernelCase[] = [];

for (const kind of ['sum', 'mean', 'gcn'] as const) {
  for (const F of [7, 16]) {
    spmmCases.push({
      name: `spmm ${kind} weights F=${F}`,
      run: (gpu) => checkProduct(gpu, powerLaw(97, 300, 11, kind), F, 3, `${kind} F=${F}`),
    });
  }
}

// Every variant on every adapter: the GPU layout (one column per thread), the CPU layout (several
// columns per thread), each with and without the row touches.
for (const F of [1, 7, 16, 33, 64, 130]) {
  for (const tuning of ['gpu', 'cpu'] as const) {
    for (const touch of [false, true]) {
      spmmCases.push({
        name: `spmm power-law graph F=${F} (${tuning} layout${touch ? ', touches' : ''})`,
        run: (gpu) => checkProduct(gpu, powerLaw(301, 1500, 5, 'gcn'), F, 17 + F, `power-law F=${F} ${tuning} ${touch}`, { tuning, touch }),
      });
    }
  }
}

spmmCases.push(
  {
    name: 'spmm empty rows, isolated nodes, unweighted',
    async run(gpu) {
      const csr = sparseDirected();
      await checkProduct(gpu, csr, 5, 4, 'sparse directed F=5');
      await checkProduct(gpu, csr, 8, 6, 'sparse directed F=8');
    },
  },
  {
    name: 'spmm hub of degree 3000 (star)',
    async run(gpu) {
      const csr = star(3000, 'sum');
      const a = SparseMatrix.fromCsr(gpu, csr, 'star');
      try {
        assertEqual(a.structure.maxRowLength, 3001, 'hub degree');
        if (a.structure.numLongRows !== 1) throw new Error(`star: expected 1 long row, got ${a.structure.numLongRows}`);
      } finally {
        a.dispose();
      }
      await checkProduct(gpu, csr, 3, 8, 'star sum F=3');
      await checkProduct(gpu, star(3000, 'gcn'), 16, 9, 'star gcn F=16');
    },
  },
  {
    name: 'spmm rectangular 37×53 and 53×37',
    async run(gpu) {
      await checkProduct(gpu, rectangular(37, 53, 21), 7, 22, 'rectangular 37×53 F=7');
      await checkProduct(gpu, rectangular(53, 37, 23), 12, 24, 'rectangular 53×37 F=12');
    },
  },
  {
    // The accumulating kernel adds the very sum the plain one writes: y0 + A·X is fround(y0 + plain) exactly.
    name: 'spmm accumulate adds A·X into the output (short and long rows, F=7 and 16)',
    async run(gpu) {
      const csr = powerLaw(80, 400, 31, 'gcn');
      const a = SparseMatrix.fromCsr(gpu, csr, 'accumulate', { segmentLength: 4 });
      try {
        for (const F of [7, 16]) {
          const x = randomArray(csr.numCols * F, F);
          const y0 = randomArray(csr.numRows * F, F + 1);
          const plain = await read(withScope(() => spmm(a, fromArray(gpu, x, [csr.numCols, F]))));
          const got = await read(
            withScope(() => {
              const out = fromArray(gpu, y0, [csr.numRows, F]);
              spmmInto(a, fromArray(gpu, x, [csr.numCols, F]), out, { accumulate: true });
              return out;
            }),
          );
          for (let i = 0; i < got.length; i++) {
            if (!Object.is(got[i], Math.fround(y0[i] + plain[i]))) throw new Error(`F=${F}: element ${i} is ${got[i]}, expected ${Math.fround(y0[i] + plain[i])}`);
          }
        }
      } finally {
        a.dispose();
      }
    },
  },
  {
    // SAR's peer blocks: most rows empty. Skipping them must give the very sums of the full structure on
    // the rows that have nonzeros and leave the others untouched; Aᵀ (all rows written) is unaffected.
    name: "spmm emptyRows 'skip': accumulates into the non-empty rows only, bit-identical, and refuses to overwrite",
    async run(gpu) {
      const dense = powerLaw(90, 500, 37, 'gcn');
      // Every third row keeps its nonzeros (long ones among them), the rest are emptied.
      const rowPtr = new Int32Array(dense.numRows + 1);
      const cols: number[] = [];
      const vals: number[] = [];
      for (let i = 0; i < dense.numRows; i++) {
        if (i % 3 === 0) for (let k = dense.rowPtr[i]; k < dense.rowPtr[i + 1]; k++) (cols.push(dense.colIdx[k]), vals.push(dense.values![k]));
        rowPtr[i + 1] = cols.length;
      }
      const csr: Csr = { numRows: dense.numRows, numCols: dense.numCols, rowPtr, colIdx: Int32Array.from(cols), values: Float32Array.from(vals) };
      const full = SparseMatrix.fromCsr(gpu, csr, 'full', { segmentLength: 4 });
      const skip = SparseMatrix.fromCsr(gpu, csr, 'skip', { segmentLength: 4, emptyRows: 'skip' });
      try {
        if (!(skip.structure.numSegments < full.structure.numSegments)) throw new Error(`skip has ${skip.structure.numSegments} segments, full ${full.structure.numSegments}`);
        for (const F of [5, 16]) {
          const x = randomArray(csr.numCols * F, F);
          const y0 = randomArray(csr.numRows * F, F + 2);
          const product = (m: SparseMatrix) =>
            read(
              withScope(() => {
                const out = fromArray(gpu, y0, [csr.numRows, F]);
                spmmInto(m, fromArray(gpu, x, [csr.numCols, F]), out, { accumulate: true });
                return out;
              }),
            );
          const [a, b] = [await product(full), await product(skip)];
          for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`F=${F}: element ${i} is ${b[i]} skipping, ${a[i]} with every row`);
          const dy = randomArray(csr.numRows * F, F + 3);
          const [ta, tb] = [await read(withScope(() => spmm(full.transpose(), fromArray(gpu, dy, [csr.numRows, F])))), await read(withScope(() => spmm(skip.transpose(), fromArray(gpu, dy, [csr.numRows, F]))))];
          for (let i = 0; i < ta.length; i++) if (!Object.is(ta[i], tb[i])) throw new Error(`Aᵀ·dY F=${F}: element ${i} is ${tb[i]} skipping, ${ta[i]} with every row`);
        }
        assertThrows(() => withScope(() => spmmInto(skip, fromArray(gpu, randomArray(csr.numCols * 4, 1), [csr.numCols, 4]), fromArray(gpu, new Float32Array(csr.numRows * 4), [csr.numRows, 4]))), /can only be added into an output: pass accumulate/, 'overwrite with a skipping matrix');
      } finally {
        full.dispose();
        skip.dispose();
      }
    },
  },
  {
    name: 'spmm segments of 1 and 2 nonzeros (every row long)',
    async run(gpu) {
      const csr = powerLaw(61, 200, 9, 'mean');
      for (const segmentLength of [1, 2]) {
        const a = SparseMatrix.fromCsr(gpu, csr, `S=${segmentLength}`, { segmentLength });
        try {
          const F = 6;
          const x = randomArray(csr.numCols * F, 10);
          const got = await read(withScope(() => spmm(a, fromArray(gpu, x, [csr.numCols, F]))));
          withinSummationBound(got, csr, x, F, segmentLength, `segments of ${segmentLength}`);
        } finally {
          a.dispose();
        }
      }
    },
  },
  {
    name: 'spmm direct-read branch of the subgroup path',
    async run(gpu) {
      for (const tuning of ['gpu', 'cpu'] as const) {
        const options = { directLoads: true, tuning, touch: tuning === 'cpu' };
        await checkProduct(gpu, powerLaw(200, 900, 13, 'gcn'), 16, 31, `direct reads F=16 ${tuning}`, options);
      }
    },
  },
  {
    name: 'spmm is deterministic (bit-identical reruns)',
    async run(gpu) {
      const csr = star(700, 'gcn');
      const a = SparseMatrix.fromCsr(gpu, csr, 'determinism');
      try {
        const F = 9;
        const x = randomArray(csr.numCols * F, 12);
        const first = await read(withScope(() => spmm(a, fromArray(gpu, x, [csr.numCols, F]))));
        const second = await read(withScope(() => spmm(a, fromArray(gpu, x, [csr.numCols, F]))));
        for (let i = 0; i < first.length; i++) {
          if (!Object.is(first[i], second[i])) throw new Error(`rerun differs at ${i}: ${first[i]} vs ${second[i]}`);
        }
      } finally {
        a.dispose();
      }
    },
  },
  {
    name: 'spmm backward equals Aᵀ·dY',
    async run(gpu) {
      const csr = powerLaw(83, 400, 14, 'gcn');
      const a = SparseMatrix.fromCsr(gpu, csr, 'backward');
      try {
        const F = 10;
        const x = randomArray(csr.numCols * F, 15);
        const dy = randomArray(csr.numRows * F, 16);
        const grad = await read(
          withScope(() => {
            const xt = fromArray(gpu, x, [csr.numCols, F], { requiresGrad: true });
            const y = spmm(a, xt);
            backward(y, fromArray(gpu, dy, [csr.numRows, F]), accumulateGrad);
            const g = xt.grad;
            if (!g) throw new Error('spmm backward: no gradient reached X');
            xt.grad = null;
            return g;
          }),
        );
        withinSummationBound(grad, transposeCsr(csr), dy, F, a.segmentLength, 'dX = Aᵀ·dY');
      } finally {
        a.dispose();
      }
    },
  },
  {
    name: 'spmm gradient check (rectangular, hub)',
    async run(gpu) {
      for (const csr of [rectangular(29, 41, 25), star(150, 'mean')]) {
        const a = SparseMatrix.fromCsr(gpu, csr, 'gradcheck');
        try {
          const F = 5;
          // Tolerance: gradCheck's default (f32 forward, ε = 1e-2; spmm is linear, so only rounding).
          await gradCheck(gpu, 'spmm', [{ data: randomArray(csr.numCols * F, 26), shape: [csr.numCols, F] }], ([x]) => spmm(a, x));
        } finally {
          a.dispose();
        }
      }
    },
  },
  {
    name: 'spmm rejects wrong shapes and use after dispose',
    async run(gpu) {
      const csr = rectangular(6, 9, 27);
      const a = SparseMatrix.fromCsr(gpu, csr, 'shapes');
      withScope(() => {
        assertThrows(() => spmm(a, fromArray(gpu, new Float32Array(6 * 4), [6, 4])), /spmm: X .* must be 9×F/, 'X rows');
        assertThrows(() => spmm(a.transpose(), fromArray(gpu, new Float32Array(9 * 4), [9, 4])), /must be 6×F/, 'Aᵀ X rows');
      });
      const before = gpu.pool.liveBytes;
      a.dispose();
      if (!(gpu.pool.liveBytes < before)) throw new Error('dispose did not release the matrix buffers');
      withScope(() => assertThrows(() => spmm(a, fromArray(gpu, new Float32Array(9 * 2), [9, 2])), /used after dispose/, 'after dispose'));
    },
  },
  {
    name: 'spmm F=0 and zero-row matrices',
    async run(gpu) {
      const csr = rectangular(5, 4, 28);
      const a = SparseMatrix.fromCsr(gpu, csr, 'degenerate');
      try {
        const y = await read(withScope(() => spmm(a, fromArray(gpu, new Float32Array(0), [4, 0]))));
        assertEqual(y.length, 0, 'F=0 output length');
      } finally {
        a.dispose();
      }
      const empty: Csr = { numRows: 0, numCols: 3, rowPtr: new Int32Array(1), colIdx: new Int32Array(0), values: null };
      const b = SparseMatrix.fromCsr(gpu, empty, 'no rows');
      try {
        const y = await read(withScope(() => spmm(b, fromArray(gpu, randomArray(6, 29), [3, 2]))));
        assertEqual(y.length, 0, 'zero-row output length');
        // Aᵀ (3 × 0) times a 0 × 2 matrix is a 3 × 2 zero matrix.
        const yt = await read(withScope(() => spmm(b.transpose(), fromArray(gpu, new Float32Array(0), [0, 2]))));
        assertClose(yt, new Float64Array(6), { abs: 0, rel: 0 }, 'empty sum is 0');
      } finally {
        b.dispose();
      }
    },
  },
);
