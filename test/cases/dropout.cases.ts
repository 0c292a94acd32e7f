// Dropout: the GPU mask bit-exactly against the CPU generator (src/tensor/random.ts), the values
// against a float64 reference, the keep rate statistically, reproducibility, row-offset equivalence,
// and a backward that reuses the same (regenerated) mask.
// Tolerance for values: one f32 product x·scale with scale = fround(1/(1 − p)): ≤ 2·2⁻²⁴ relative → 2.5e-7.

import { fromArray } from '../../src/tensor/create.ts';
import { dropout, dropoutDropped, dropoutReference, dropoutScale, type DropoutOptions } from '../../src/tensor/ops/dropout.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { RNG_STREAM } from '../../src/tensor/random.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertEqual, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

const VALUE_TOL = { abs: 0, rel: 2.5e-7 };

async function run(gpu: Gpu, x: Float32Array, shape: number[], options: DropoutOptions): Promise<Float32Array> {
  return read(withScope(() => dropout(fromArray(gpu, x, shape), options)));
}

function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

export const dropoutCases: KernelCase[] = [];

// Keys with high bits set check that every key travels as a full u32.
const KEYS: DropoutOptions[] = [
  { p: 0.3, seed: 1, stream: RNG_STREAM.dropout, step: 0 },
  { p: 0.5, seed: 0xdeadbeef, stream: RNG_STREAM.dropout + 3, step: 0xfffffff0, rowOffset: 0x7fff0000 },
];

for (const options of KEYS) {
  dropoutCases.push({
    name: `dropout mask equals the CPU generator bit for bit (seed ${options.seed})`,
    async run(gpu) {
      const [rows, cols] = [37, 19];
      const got = await run(gpu, ones(rows * cols), [rows, cols], options);
      const scale = dropoutScale(options.p);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const expected = dropoutDropped(options, r, c) ? 0 : scale;
          if (got[r * cols + c] !== expected) {
            throw new Error(`mask at (${r}, ${c}): got ${got[r * cols + c]}, expected ${expected}`);
          }
        }
      }
    },
  });
}

for (const shape of [[257, 3], [1, 1], [300]]) {
  dropoutCases.push({
    name: `dropout values against the float64 reference ${shape.join('×')}`,
    async run(gpu) {
      const n = shape.reduce((a, b) => a * b, 1);
      const options = { p: 0.2, seed: 42, stream: 7, step: 3 };
      const x = randomArray(n, n);
      const [rows, cols] = shape.length === 2 ? shape : [shape[0], 1];
      assertClose(await run(gpu, x, shape, options), dropoutReference(x, rows, cols, options), VALUE_TOL, 'dropout(x)');
    },
  });
}

for (const p of [0.1, 0.5, 0.8]) {
  dropoutCases.push({
    name: `dropout drops a fraction ≈ p = ${p}`,
    async run(gpu) {
      const [rows, cols] = [200, 50];
      const n = rows * cols;
      const got = await run(gpu, ones(n), [rows, cols], { p, seed: 5, stream: RNG_STREAM.dropout, step: 11 });
      // Independent Bernoulli(p) drops: the rate has standard deviation σ = √(p(1 − p)/n) (0.005 at
      // p = 0.5, n = 10⁴); the key is fixed, so this is deterministic, and 5σ flags a biased generator.
      const rate = got.reduce((s, v) => s + (v === 0 ? 1 : 0), 0) / n;
      const bound = 5 * Math.sqrt((p * (1 - p)) / n);
      if (Math.abs(rate - p) > bound) throw new Error(`drop rate ${rate}, expected ${p} ± ${bound.toFixed(4)}`);
      // Per column (200 draws each) the same test at 5σ: no column stuck kept or dropped.
      const colBound = 5 * Math.sqrt((p * (1 - p)) / rows);
      for (let c = 0; c < cols; c++) {
        let dropped = 0;
        for (let r = 0; r < rows; r++) dropped += got[r * cols + c] === 0 ? 1 : 0;
        if (Math.abs(dropped / rows - p) > colBound) throw new Error(`column ${c}: drop rate ${dropped / rows}, expected ${p} ± ${colBound.toFixed(3)}`);
      }
    },
  });
}

dropoutCases.push(
  {
    name: 'dropout: same key, same mask; another step, another mask',
    async run(gpu) {
      const [rows, cols] = [40, 25];
      const x = randomArray(rows * cols, 3);
      const options = { p: 0.5, seed: 9, stream: RNG_STREAM.dropout, step: 1 };
      const a = await run(gpu, x, [rows, cols], options);
      const b = await run(gpu, x, [rows, cols], options);
      const c = await run(gpu, x, [rows, cols], { ...options, step: 2 });
      const d = await run(gpu, x, [rows, cols], { ...options, stream: options.stream + 1 });
      assertEqual(a.every((v, i) => v === b[i]), true, 'same key gives the same output');
      // Two independent masks at p = 0.5 disagree on half the elements (σ ≈ 0.016 for n = 1000);
      // at least 35% is far below any chance of failing yet far above an unchanged mask (0%).
      for (const [other, what] of [[c, 'step'], [d, 'stream']] as const) {
        const differ = a.reduce((s, v, i) => s + ((v === 0) !== (other[i] === 0) ? 1 : 0), 0) / a.length;
        if (differ < 0.35) throw new Error(`another ${what} changed only ${differ} of the mask`);
      }
    },
  },
  {
    name: 'dropout: rows 10..19 of 20 rows equal 10 rows with rowOffset 10',
    async run(gpu) {
      const cols = 13;
      const x = randomArray(20 * cols, 4);
      const options = { p: 0.4, seed: 77, stream: RNG_STREAM.dropout, step: 5 };
      const whole = await run(gpu, x, [20, cols], options);
      const part = await run(gpu, x.slice(10 * cols), [10, cols], { ...options, rowOffset: 10 });
      const tail = whole.slice(10 * cols);
      assertEqual(tail.every((v, i) => Object.is(v, part[i])), true, 'the split rows get the same values');
      assertEqual(tail.some((v) => v === 0), true, 'some elements are dropped');
    },
  },
  {
    name: 'dropout: scattered rows with rowIds equal the same rows of the whole (SAR partitions)',
    async run(gpu) {
      const cols = 11;
      const x = randomArray(40 * cols, 9);
      const options = { p: 0.3, seed: 21, stream: RNG_STREAM.dropout + 1, step: 3 };
      const whole = await run(gpu, x, [40, cols], options);
      const ids = [37, 2, 19, 20, 5, 33, 0];
      const picked = new Float32Array(ids.flatMap((r) => [...x.slice(r * cols, (r + 1) * cols)]));
      const part = await read(
        withScope(() => dropout(fromArray(gpu, picked, [ids.length, cols]), { ...options, rowIds: fromArray(gpu, new Uint32Array(ids), [ids.length], { dtype: 'u32' }) })),
      );
      ids.forEach((r, i) => {
        for (let c = 0; c < cols; c++) assertEqual(Object.is(part[i * cols + c], whole[r * cols + c]), true, `row ${r} column ${c}`);
      });
      assertClose(part, dropoutReference(picked, ids.length, cols, options, ids), { abs: 0, rel: 2.5e-7 }, 'rowIds against the reference');
    },
  },
  {
    name: 'dropout backward multiplies by the same mask',
    async run(gpu) {
      const [rows, cols] = [31, 9];
      const x = randomArray(rows * cols, 12);
      const w = randomArray(rows * cols, 13);
      const options = { p: 0.35, seed: 3, stream: RNG_STREAM.dropout, step: 8, rowOffset: 100 };
      const [y, grad] = await Promise.all(
        withScope(() => {
          const xt = fromArray(gpu, x, [rows, cols], { requiresGrad: true });
          const yt = dropout(xt, options);
          backward(yt, fromArray(gpu, w, [rows, cols]), accumulateGrad);
          const g = xt.grad!;
          xt.grad = null;
          return [yt, g];
        }).map(read),
      );
      const scale = dropoutScale(options.p);
      for (let i = 0; i < rows * cols; i++) {
        const expected = y[i] === 0 ? 0 : Math.fround(w[i] * scale);
        if (grad[i] !== expected) throw new Error(`gradient ${i}: got ${grad[i]}, expected ${expected} (y = ${y[i]})`);
      }
    },
  },
  {
    name: 'dropout gradient check',
    async run(gpu) {
      const options = { p: 0.3, seed: 2, stream: RNG_STREAM.dropout, step: 1 };
      await gradCheck(gpu, 'dropout', [{ data: randomArray(17 * 6, 14), shape: [17, 6] }], ([x]) => dropout(x, options));
    },
  },
  {
    name: 'dropout p = 0 is the identity (no kernel), p = 1 drops everything',
    async run(gpu) {
      const x = randomArray(50, 15);
      withScope(() => {
        const t = fromArray(gpu, x, [10, 5]);
        assertEqual(dropout(t, { p: 0, seed: 1, stream: 1, step: 1 }), t, 'p = 0 returns its input');
      });
      const all = await run(gpu, x, [10, 5], { p: 1, seed: 1, stream: 1, step: 1 });
      assertEqual(all.every((v) => v === 0), true, 'p = 1 zeroes everything');
    },
  },
  {
    name: 'dropout rejects bad options',
    async run(gpu) {
      withScope(() => {
        const t = fromArray(gpu, new Float32Array(4), [2, 2]);
        assertThrows(() => dropout(t, { p: 1.5, seed: 1, stream: 1, step: 1 }), /dropout: p must be in \[0, 1\]/, 'p > 1');
        assertThrows(() => dropout(t, { p: 0.5, seed: -1, stream: 1, step: 1 }), /dropout: seed must be a u32/, 'negative seed');
        assertThrows(() => dropout(t, { p: 0.5, seed: 1, stream: 1, step: 0.5 }), /dropout: step must be a u32/, 'fractional step');
      });
    },
  },
);
