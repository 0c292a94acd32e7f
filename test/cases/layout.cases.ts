// Column concatenation, column slices and row slices: pure data movement, so exact against the reference;
// their gradients (split and zero-padded copies) by finite differences of the GPU forward.

import { fromArray } from '../../src/tensor/create.ts';
import { concatColumns, layoutReference, sliceColumns, sliceRows } from '../../src/tensor/ops/layout.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const EXACT = { abs: 0, rel: 0 };

export const layoutCases: KernelCase[] = [
  {
    name: 'layout: concatColumns of three parts equals the reference',
    async run(gpu) {
      const rows = 37;
      const parts = [5, 1, 12].map((cols, i) => ({ data: randomArray(rows * cols, i + 1), cols }));
      const got = await read(withScope(() => concatColumns(parts.map((p) => fromArray(gpu, p.data, p.cols === 1 ? [rows] : [rows, p.cols])))));
      assertClose(got, layoutReference.concatColumns(parts, rows), EXACT, 'concat');
    },
  },
  {
    name: 'layout: sliceRows copies the rows; gradients of concat and slice',
    async run(gpu) {
      const x = randomArray(20 * 3, 9);
      const got = await read(withScope(() => sliceRows(fromArray(gpu, x, [20, 3]), 4, 7)));
      assertClose(got, x.slice(12, 33), EXACT, 'slice');
      await gradCheck(gpu, 'concatColumns', [{ data: randomArray(24, 2), shape: [6, 4] }, { data: randomArray(12, 3), shape: [6, 2] }], ([a, b]) => concatColumns([a, b]));
      await gradCheck(gpu, 'sliceRows', [{ data: randomArray(30, 4), shape: [10, 3] }], ([a]) => sliceRows(a, 2, 5));
    },
  },
  {
    name: 'layout: sliceColumns equals the reference (first, middle and last columns); its gradient',
    async run(gpu) {
      // 37 rows × 12 columns: slices at the start, in the middle, at the end, and the whole width.
      const [rows, cols] = [37, 12];
      const x = randomArray(rows * cols, 5);
      for (const [start, count] of [[0, 5], [3, 4], [7, 5], [0, 12]]) {
        const got = await read(withScope(() => sliceColumns(fromArray(gpu, x, [rows, cols]), start, count)));
        assertClose(got, layoutReference.sliceColumns(x, rows, cols, start, count), EXACT, `sliceColumns [${start}, ${start + count})`);
      }
      // The backward puts the gradient into the sliced columns and zeros elsewhere; both halves of a
      // [H ‖ h0] split reach the input.
      await gradCheck(gpu, 'sliceColumns', [{ data: randomArray(42, 6), shape: [6, 7] }], ([a]) => sliceColumns(a, 2, 3));
      await gradCheck(gpu, 'sliceColumns halves', [{ data: randomArray(48, 8), shape: [6, 8] }], ([a]) => concatColumns([sliceColumns(a, 4, 4), sliceColumns(a, 0, 4)]));
    },
  },
  {
    name: 'layout: bad arguments are refused',
    async run(gpu) {
      withScope(() => {
        const a = fromArray(gpu, new Float32Array(6), [3, 2]);
        assertThrows(() => concatColumns([a, fromArray(gpu, new Float32Array(4), [2, 2])]), /3 rows/, 'rows differ');
        assertThrows(() => sliceRows(a, 2, 2), /outside/, 'past the end');
        assertThrows(() => concatColumns([]), /at least one/, 'nothing');
        assertThrows(() => sliceColumns(a, 1, 2), /columns \[1, 3\) outside/, 'columns past the end');
        assertThrows(() => sliceColumns(fromArray(gpu, new Float32Array(3), [3]), 0, 1), /\[rows, cols\]/, 'a vector');
      });
    },
  },
];
