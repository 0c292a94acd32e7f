// Binary cross-entropy with logits against its float64 reference, and its gradient by finite differences.
// Tolerances: each term is a few f32 operations (exp, log1p, products) accurate to a few ulps of the
// term, which is at most |x| + log 2; the mean of n terms summed in f32 adds ≤ n·2⁻²⁴ relative:
// abs 1e-6 + rel 1e-5 for n ≤ 1000 and |x| ≤ 20. The gradient is (σ(x) − y)/n: abs 1e-7 + rel 1e-5.

import { fromArray } from '../../src/tensor/create.ts';
import { binaryCrossEntropyReference as ref, binaryCrossEntropyWithLogits } from '../../src/tensor/ops/binary-cross-entropy.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

function targets(n: number, seed: number): Float32Array {
  return randomArray(n, seed).map((v) => (v > 0 ? 1 : 0));
}

export const binaryCrossEntropyCases: KernelCase[] = [];

for (const [n, range] of [
  [1, 3],
  [37, 5],
  [1000, 20],
] as const) {
  binaryCrossEntropyCases.push({
    name: `bce with logits n=${n}, |x| ≤ ${range}`,
    async run(gpu) {
      const x = randomArray(n, n, -range, range);
      const y = targets(n, n + 1);
      const [loss, grad] = await Promise.all(
        withScope(() => {
          const xt = fromArray(gpu, x, [n], { requiresGrad: true });
          const l = binaryCrossEntropyWithLogits(xt, fromArray(gpu, y, [n]));
          backward(l, fromArray(gpu, [1], [1]), accumulateGrad);
          const g = xt.grad!;
          xt.grad = null;
          return [l, g];
        }).map(read),
      );
      assertClose(loss, [ref.loss(x, y)], { abs: 1e-6, rel: 1e-5 }, 'loss');
      assertClose(grad, ref.grad(x, y), { abs: 1e-7, rel: 1e-5 }, 'gradient');
    },
  });
}

binaryCrossEntropyCases.push(
  {
    name: 'bce with logits: gradient check and extreme logits stay finite',
    async run(gpu) {
      await gradCheck(gpu, 'bce', [{ data: randomArray(23, 4, -3, 3), shape: [23, 1] }], ([x]) => binaryCrossEntropyWithLogits(x, fromArray(gpu, targets(23, 5), [23])));
      const x = Float32Array.of(-100, 100, -30, 30, 0);
      const y = Float32Array.of(0, 1, 1, 0, 1);
      const loss = await read(withScope(() => binaryCrossEntropyWithLogits(fromArray(gpu, x, [5]), fromArray(gpu, y, [5]))));
      assertClose(loss, [ref.loss(x, y)], { abs: 1e-6, rel: 1e-5 }, 'extreme logits');
    },
  },
  {
    name: 'bce with logits: bad shapes are refused',
    async run(gpu) {
      withScope(() => {
        assertThrows(() => binaryCrossEntropyWithLogits(fromArray(gpu, new Float32Array(4), [2, 2]), fromArray(gpu, new Float32Array(4), [4])), /\[n\] or \[n, 1\]/, '2 columns');
        assertThrows(() => binaryCrossEntropyWithLogits(fromArray(gpu, new Float32Array(3), [3]), fromArray(gpu, new Float32Array(4), [4])), /\[n\] or \[n, 1\]/, 'sizes differ');
      });
    },
  },
);
