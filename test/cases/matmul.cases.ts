// Matmul against its float64 reference for all transposition variants, odd sizes, accumulation,
// and its gradients by finite differences.
// Tolerance: f32 products summed over K terms of magnitude ≤ 1: |err| ≲ K·2⁻²⁴·|terms| → abs 1e-4·√K-ish;
// we use abs 2e-5·K^0.5 + rel 1e-5, comfortably above rounding and far below any indexing mistake.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { empty, fromArray } from '../../src/tensor/create.ts';
import { matmul, matmulInto, matmulReference } from '../../src/tensor/ops/matmul.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [5, 3, 7],
  [67, 13, 129],
  [130, 70, 33],
  [257, 16, 300],
  [33, 7, 1433],
];

export const matmulCases: KernelCase[] = [];

// Both strategies run on every adapter (the default picks one by adapter kind).
for (const [M, N, K] of SHAPES) {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const strategy of ['main', 'direct'] as const) {
      matmulCases.push({
        name: `matmul ${strategy} ${M}×${K} · ${K}×${N}${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`,
        async run(gpu) {
          const a = randomArray(M * K, M * 31 + K);
          const b = randomArray(K * N, N * 17 + K);
          const got = await read(
            withScope(() => {
              const c = empty(gpu, [M, N]);
              matmulInto(fromArray(gpu, a, transA ? [K, M] : [M, K]), fromArray(gpu, b, transB ? [N, K] : [K, N]), c, { transA, transB, strategy });
              return c;
            }),
          );
          const tol = { abs: 2e-5 * Math.sqrt(K) + 1e-6, rel: 1e-5 };
          assertClose(got, matmulReference(a, b, M, N, K, transA, transB), tol, 'C');
        },
      });
      }
    }
  }
}

matmulCases.push(
  ...(['main', 'direct'] as const).flatMap((strategy) => [[19, 21, 23], [9, 8, 5]].map(([M, N, K]) => ({
    name: `matmul ${strategy} accumulates into C (${M}×${N})`,
    async run(gpu: Gpu) {
      const a = randomArray(M * K, 1);
      const b = randomArray(K * N, 2);
      const c0 = randomArray(M * N, 3);
      const got = await read(
        withScope(() => {
          const c = fromArray(gpu, c0, [M, N]);
          matmulInto(fromArray(gpu, a, [M, K]), fromArray(gpu, b, [K, N]), c, { accumulate: true, strategy });
          return c;
        }),
      );
      const ref = matmulReference(a, b, M, N, K).map((v, i) => v + c0[i]);
      assertClose(got, ref, { abs: 1e-5, rel: 1e-5 }, 'C + A·B');
    },
  }))),
  {
    name: 'matmul rejects mismatched shapes',
    async run(gpu) {
      withScope(() =>
        assertThrows(() => matmul(fromArray(gpu, new Float32Array(6), [2, 3]), fromArray(gpu, new Float32Array(8), [4, 2])), /inner dimensions/, 'shape check'),
      );
    },
  },
);

for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  matmulCases.push({
    name: `matmul gradient check${transA ? ' Aᵀ' : ''}${transB ? ' Bᵀ' : ''}`,
    async run(gpu) {
      const [M, N, K] = [9, 5, 11];
      await gradCheck(
        gpu,
        'matmul',
        [
          { data: randomArray(M * K, 4), shape: transA ? [K, M] : [M, K] },
          { data: randomArray(K * N, 5), shape: transB ? [N, K] : [K, N] },
        ],
        ([a, b]) => matmul(a, b, { transA, transB }),
      );
    },
  });
}
