// Masked softmax cross-entropy, its gradient, accuracy counts and predictions against float64
// references, for C = 1, 7, 40, 64, 65, 300 (team widths 1 … 64, one or several rows per subgroup),
// large logits (±1e4), an empty index, a single row, out-of-range labels; and directional gradient checks.
// Tolerances:
//   loss: each term is log Σ exp (C exps of a few ulp each → ~1e-6 relative in the sum, ~1e-6 absolute
//   in its log) plus max − x[label] (exact or one rounding); the mean sums n f32 terms in a fixed
//   order → abs 1e-5 + rel 1e-5. For |logits| ~ 1e4 the terms are up to 2e4 with an ulp of 2e-3, so
//   rel 1e-5 (0.1 on 1e4) still holds with a margin.
//   gradient: softmax from one exp and one division by the row sum (~1e-6 relative) → rel 1e-5, plus
//   abs 1e-8 for the onehot subtraction's cancellation near softmax ≈ 1.
//   argmax and counts: exact.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import {
  accuracyCounts,
  crossEntropy,
  crossEntropyBackward,
  crossEntropyReference as ref,
  predict,
} from '../../src/tensor/ops/cross-entropy.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertEqual, assertThrows, gradCheck, randomArray, type KernelCase } from './harness.ts';

const LOSS_TOL = { abs: 1e-5, rel: 1e-5 };
const GRAD_TOL = { abs: 1e-8, rel: 1e-5 };

function randomInts(n: number, seed: number, hi: number): Int32Array {
  return Int32Array.from(randomArray(n, seed, 0, 1), (u) => Math.min(hi - 1, Math.floor(u * hi)));
}

/** n distinct node ids out of N, in a shuffled order. */
function split(N: number, n: number, seed: number): Int32Array {
  const ids = Int32Array.from({ length: N }, (_, i) => i);
  const u = randomArray(N, seed, 0, 1);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.slice(0, n);
}

/** Half the rows uniform in ±1e4, half 1e4·(±1) plus offsets of 0.5 (close rivals at a large magnitude). */
function largeLogits(N: number, C: number, seed: number): Float32Array {
  const x = randomArray(N * C, seed, -1e4, 1e4);
  const offsets = randomInts(N * C, seed + 1, 16);
  for (let i = 0; i < N; i += 2) {
    const base = i % 4 === 0 ? 1e4 : -1e4;
    for (let c = 0; c < C; c++) x[i * C + c] = base + 0.5 * offsets[i * C + c];
  }
  return x;
}

interface Problem {
  N: number;
  C: number;
  logits: Float32Array;
  labels: Int32Array;
  index: Int32Array;
}

function problem(N: number, C: number, n: number, seed: number, large = false): Problem {
  return {
    N,
    C,
    logits: large ? largeLogits(N, C, seed) : randomArray(N * C, seed, -3, 3),
    labels: randomInts(N, seed + 2, C),
    index: split(N, n, seed + 3),
  };
}

function tensors(gpu: Gpu, pr: Problem): { logits: Tensor; labels: Tensor; index: Tensor } {
  return {
    logits: fromArray(gpu, pr.logits, [pr.N, pr.C]),
    labels: fromArray(gpu, pr.labels, [pr.N]),
    index: fromArray(gpu, pr.index, [pr.index.length]),
  };
}

async function lossAndGrad(gpu: Gpu, pr: Problem, denominator?: number): Promise<[Float32Array, Float32Array]> {
  const [loss, grad] = withScope(() => {
    const t = tensors(gpu, pr);
    const l = crossEntropy(t.logits, t.labels, t.index, { denominator });
    const g = crossEntropyBackward(t.logits, t.labels, t.index, fromArray(gpu, [0.75], [1]), { denominator });
    return [l, g];
  });
  return [new Float32Array(await loss.toArray()), new Float32Array(await grad.toArray())];
}

async function checkAgainstReference(gpu: Gpu, pr: Problem, denominator?: number): Promise<void> {
  const [loss, grad] = await lossAndGrad(gpu, pr, denominator);
  const den = denominator ?? pr.index.length;
  assertClose(loss, [ref.loss(pr.logits, pr.C, pr.labels, pr.index, den)], LOSS_TOL, 'loss');
  assertClose(grad, ref.grad(pr.logits, pr.C, pr.labels, pr.index, 0.75, den), GRAD_TOL, 'gradient');
  const [again] = await lossAndGrad(gpu, pr, denominator);
  assertEqual(Object.is(again[0], loss[0]), true, 'the same loss bits twice (fixed reduction order)');
}

async function checkMetrics(gpu: Gpu, pr: Problem): Promise<void> {
  const [count, pred] = withScope(() => {
    const t = tensors(gpu, pr);
    return [accuracyCounts(t.logits, t.labels, t.index), predict(t.logits)];
  });
  const counted = await count.toArray();
  assertEqual(count.dtype, 'u32', 'count dtype');
  assertEqual(counted[0], ref.correct(pr.logits, pr.C, pr.labels, pr.index), 'correct count');
  const got = await pred.toArray();
  const expected = ref.predict(pr.logits, pr.N, pr.C);
  for (let i = 0; i < pr.N; i++) if (got[i] !== expected[i]) throw new Error(`predict row ${i}: got ${got[i]}, expected ${expected[i]}`);
}

export const crossEntropyCases: KernelCase[] = [];

for (const C of [1, 7, 40, 64, 65, 300]) {
  crossEntropyCases.push(
    {
      name: `crossEntropy loss and gradient C=${C}`,
      async run(gpu) {
        await checkAgainstReference(gpu, problem(53, C, 31, C));
      },
    },
    {
      name: `crossEntropy with logits ±1e4 C=${C}`,
      async run(gpu) {
        const pr = problem(37, C, 37, C + 100, true);
        const [loss, grad] = await lossAndGrad(gpu, pr);
        assertEqual(Number.isFinite(loss[0]) && grad.every(Number.isFinite), true, 'finite loss and gradient');
        await checkAgainstReference(gpu, pr);
      },
    },
    {
      name: `accuracyCounts and predict with ties C=${C}`,
      async run(gpu) {
        // Integer logits in {0, 1, 2}: most rows tie for the maximum; the first one wins.
        const pr = problem(70, C, 45, C + 200);
        pr.logits = Float32Array.from(randomInts(pr.N * C, C + 201, 3));
        await checkMetrics(gpu, pr);
        // And with the logits' argmax equal to the label on most rows, as after training.
        const easy = problem(70, C, 45, C + 300);
        for (let i = 0; i < easy.N; i++) if (i % 5 !== 0) easy.logits[i * C + easy.labels[i]] += 10;
        await checkMetrics(gpu, easy);
      },
    },
  );
}

for (const C of [7, 40]) {
  crossEntropyCases.push({
    name: `crossEntropy gradient check C=${C}`,
    async run(gpu) {
      const pr = problem(29, C, 17, C + 400);
      await gradCheck(gpu, 'crossEntropy', [{ data: pr.logits, shape: [pr.N, C] }], ([logits]) =>
        crossEntropy(logits, fromArray(gpu, pr.labels, [pr.N]), fromArray(gpu, pr.index, [pr.index.length])),
      );
    },
  });
}

crossEntropyCases.push(
  {
    name: 'crossEntropy over an empty index is 0 with a zero gradient',
    async run(gpu) {
      const pr = problem(20, 7, 0, 1);
      const [loss, grad] = await lossAndGrad(gpu, pr);
      assertEqual(loss[0], 0, 'loss');
      assertEqual(grad.every((v) => v === 0), true, 'gradient all zero');
      await checkMetrics(gpu, pr);
    },
  },
  {
    name: 'crossEntropy of a single row',
    async run(gpu) {
      const pr = problem(1, 7, 1, 2);
      await checkAgainstReference(gpu, pr);
      await checkMetrics(gpu, pr);
    },
  },
  {
    name: 'crossEntropy: enough rows for several workgroups and a chunked total',
    async run(gpu) {
      const pr = problem(700, 3, 650, 3);
      await checkAgainstReference(gpu, pr);
      await checkMetrics(gpu, pr);
    },
  },
  {
    name: 'crossEntropy: out-of-range labels and rows contribute nothing; a global denominator',
    async run(gpu) {
      const pr = problem(30, 7, 20, 4);
      pr.labels[pr.index[0]] = -1;
      pr.labels[pr.index[1]] = 7;
      pr.index[2] = 30;
      pr.index[3] = -5;
      await checkAgainstReference(gpu, pr);
      await checkAgainstReference(gpu, pr, 57);
      await checkMetrics(gpu, pr);
    },
  },
  {
    name: 'crossEntropy rejects mismatched shapes',
    async run(gpu) {
      withScope(() => {
        const logits = fromArray(gpu, new Float32Array(12), [4, 3]);
        const index = fromArray(gpu, new Int32Array([0, 1]), [2]);
        assertThrows(() => crossEntropy(logits, fromArray(gpu, new Int32Array(3), [3]), index), /crossEntropy: labels must be an i32 \[4\]/, 'labels length');
        assertThrows(() => crossEntropy(logits, fromArray(gpu, new Int32Array(4), [4]), fromArray(gpu, [0, 1], [2])), /crossEntropy: index must be an i32/, 'f32 index');
        assertThrows(() => predict(fromArray(gpu, new Float32Array(4), [4])), /predict: logits must be an f32 \[N, C\]/, '1-D logits');
      });
    },
  },
);
