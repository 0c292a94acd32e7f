// Row gather, scatter-add and scatter (the SAR worker's send and gradient-return steps, the hybrid
// pipeline's history writes) against float64 references. They only copy or add one f32 per element:
// gather and scatter are exact; scatter-add is one f32
// addition per element (≤ 2⁻²⁴ relative to the sum) → rel 1.2e-7 against the float64 reference.
// "Gradient check": the two are adjoint, ⟨gather(x), y⟩ = ⟨x, scatterAdd(0, y)⟩, which is the identity
// SAR's backward relies on when it returns gradient rows to their owner.

import { fromArray, zeros } from '../../src/tensor/create.ts';
import { gatherRows, rowsReference, scatterAddRows, scatterRows } from '../../src/tensor/ops/rows.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { assertClose, assertEqual, assertThrows, randomArray, read, type KernelCase } from './harness.ts';

const ADD_TOL = { abs: 0, rel: 1.2e-7 };

function shuffledIds(rows: number, take: number, seed: number): Uint32Array {
  const ids = Array.from({ length: rows }, (_, i) => i);
  const r = randomArray(rows, seed);
  ids.sort((a, b) => r[a] - r[b]);
  return new Uint32Array(ids.slice(0, take));
}

export const rowsCases: KernelCase[] = [];

for (const [rows, cols, take] of [
  [50, 7, 20],
  [300, 16, 300],
  [9, 1, 4],
  [2000, 3, 1500],
] as const) {
  rowsCases.push({
    name: `rows: gather, scatter-add and scatter ${take} of ${rows}×${cols}`,
    async run(gpu) {
      const x = randomArray(rows * cols, rows);
      const ids = shuffledIds(rows, take, cols);
      const got = await read(withScope(() => gatherRows(fromArray(gpu, x, [rows, cols]), fromArray(gpu, ids, [take], { dtype: 'u32' }))));
      assertClose(got, rowsReference.gather(x, cols, ids), { abs: 0, rel: 0 }, 'gather');
      const base = randomArray(rows * cols, rows + 1);
      const src = randomArray(take * cols, rows + 2);
      const sum = await read(
        withScope(() => {
          const into = fromArray(gpu, base, [rows, cols]);
          scatterAddRows(into, fromArray(gpu, src, [take, cols]), fromArray(gpu, ids, [take], { dtype: 'u32' }));
          return into;
        }),
      );
      assertClose(sum, rowsReference.scatterAdd(base, cols, src, ids), ADD_TOL, 'scatter-add');
      const set = await read(
        withScope(() => {
          const into = fromArray(gpu, base, [rows, cols]);
          scatterRows(into, fromArray(gpu, src, [take, cols]), fromArray(gpu, ids, [take], { dtype: 'u32' }));
          return into;
        }),
      );
      // A copy: exact, and the rows not indexed keep their values.
      assertClose(set, rowsReference.scatter(base, cols, src, ids), { abs: 0, rel: 0 }, 'scatter');
    },
  });
}

rowsCases.push(
  {
    name: 'rows: gather and scatter-add are adjoint (the gradient of a gather)',
    async run(gpu) {
      const [rows, cols, take] = [120, 6, 70];
      const x = randomArray(rows * cols, 5);
      const y = randomArray(take * cols, 6);
      const ids = shuffledIds(rows, take, 7);
      const [gx, sy] = await Promise.all(
        withScope(() => {
          const idx = fromArray(gpu, ids, [take], { dtype: 'u32' });
          const back = zeros(gpu, [rows, cols]);
          scatterAddRows(back, fromArray(gpu, y, [take, cols]), idx);
          return [gatherRows(fromArray(gpu, x, [rows, cols]), idx), back];
        }).map(read),
      );
      let left = 0;
      let right = 0;
      for (let i = 0; i < gx.length; i++) left += gx[i] * y[i];
      for (let i = 0; i < sy.length; i++) right += x[i] * sy[i];
      // Both sides sum the same products in float64; only their order differs.
      assertClose([left], [right], { abs: 1e-9, rel: 1e-12 }, '⟨gather x, y⟩ = ⟨x, scatterAdd y⟩');
    },
  },
  {
    name: 'rows: empty index and bad arguments',
    async run(gpu) {
      const out = await read(withScope(() => gatherRows(fromArray(gpu, randomArray(12, 1), [4, 3]), fromArray(gpu, new Uint32Array(0), [0], { dtype: 'u32' }))));
      assertEqual(out.length, 0, 'gather of no rows');
      withScope(() => {
        const x = fromArray(gpu, randomArray(12, 1), [4, 3]);
        assertThrows(() => gatherRows(x, fromArray(gpu, new Float32Array(2), [2])), /u32 or i32/, 'float index');
        assertThrows(() => scatterAddRows(x, fromArray(gpu, new Float32Array(4), [2, 2]), fromArray(gpu, new Uint32Array(2), [2], { dtype: 'u32' })), /must be \[2, 3\]/, 'wrong src shape');
        assertThrows(() => scatterRows(x, fromArray(gpu, new Float32Array(4), [2, 2]), fromArray(gpu, new Uint32Array(2), [2], { dtype: 'u32' })), /scatterRows: src .* must be \[2, 3\]/, 'wrong src shape (scatter)');
      });
    },
  },
);
