// Fused graph attention (gatAttention) against its float64 reference: output and the gradients w.r.t.
// z, aSrc and aDst, for H = 1, 2, 8 heads × F = 1, 8, 16 features, attention dropout off and on, on a
// graph with a node of in-degree 0 (no self loop: output 0, no NaN), nodes of in-degree 1, and a hub of
// in-degree 2000; scores of magnitude ~1e3 (softmax stability); finite-difference gradient checks.
//
// Tolerance (withinRounding): |err| ≤ TOL·Σ|terms| per element, where Σ|terms| is the sum of the absolute
// values of the terms that make the element up (from the reference; for daSrc/daDst it uses
// α(|dα| + Σ_k α|dα|) per edge, because dα − c and Σ ds·z cancel and |result| is no scale). Inputs are the
// same f32 values on both sides and the masks identical, so the error is f32 rounding: scores, exp
// (relative error grows with |argument|: ~6e-6 measured at gaps of ~1e3), and sums over up to 2000
// terms. Worst measured err/Σ|terms| on lavapipe and SwiftShader: 1.5e-6 with scores of magnitude ~1,
// 6.4e-6 with magnitude ~1e3, 4e-8 for daSrc/daDst; TOL = 1e-4 leaves 15× room, and an indexing
// mistake is off by a whole term (ratio ~1). Terms below f32's normal range underflow to 0 (UNDERFLOW).

import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Csr } from '../../src/graph/csr.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { GraphCsr } from '../../src/tensor/graph-csr.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { gatAttention, gatAttentionReference, type GatAttentionOptions } from '../../src/tensor/ops/gat-attention.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';
import { randomInputs, runAttention, testGraph, TOL, withinRounding, type AttentionInputs } from './gat-fixtures.ts';

/** Runs forward and backward on the GPU and compares everything with the float64 reference. */
async function checkAgainstReference(gpu: Gpu, csr: Csr, H: number, F: number, inputs: AttentionInputs, options: GatAttentionOptions, what: string): Promise<void> {
  const graph = GraphCsr.fromCsr(gpu, csr, what);
  try {
    const [out, dz, daSrc, daDst] = await runAttention(gpu, graph, gatAttention, H, F, inputs, options);
    const ref = gatAttentionReference(csr, inputs.z, inputs.aSrc, inputs.aDst, { ...options, heads: H }, inputs.g);
    // Tolerance: see the header.
    const m = ref.magnitude!;
    withinRounding(out, ref.out, m.out, TOL, `${what}: out`);
    withinRounding(dz, ref.dz!, m.dz, TOL, `${what}: dz`);
    withinRounding(daSrc, ref.daSrc!, m.daSrc, TOL, `${what}: daSrc`);
    withinRounding(daDst, ref.daDst!, m.daDst, TOL, `${what}: daDst`);
    // Node 0 has no in-edges: exactly 0.
    for (let c = 0; c < H * F; c++) if (out[c] !== 0) throw new Error(`${what}: node without in-edges has out[0, ${c}] = ${out[c]}`);
  } finally {
    graph.dispose();
  }
}

export const gatCases: KernelCase[] = [];

for (const H of [1, 2, 8]) {
  for (const F of [1, 8, 16]) {
    for (const p of [0, 0.4]) {
      gatCases.push({
        name: `gat attention H=${H} F=${F} dropout ${p}`,
        run: (gpu) =>
          checkAgainstReference(gpu, testGraph(53, 100 + H * F), H, F, randomInputs(53, H, F, 7 * H + F), { heads: H, dropout: p, seed: 5, step: 3 }, `H=${H} F=${F} p=${p}`),
      });
    }
  }
}

gatCases.push(
  {
    name: 'gat attention hub of in-degree 2000',
    async run(gpu) {
      const n = 2100;
      for (const p of [0, 0.25]) {
        const csr = testGraph(n, 41, 2000);
        await checkAgainstReference(gpu, csr, 2, 8, randomInputs(n, 2, 8, 42), { heads: 2, dropout: p, seed: 9, step: 1 }, `hub p=${p}`);
      }
    },
  },
  {
    name: 'gat attention scores of magnitude ~1e3 (softmax stability)',
    async run(gpu) {
      // Small integers: the scores (up to ~2000 here) are exact in f32 on both sides, so only the
      // softmax itself is tested; exp(e) would overflow without the max subtraction.
      const n = 40;
      const H = 2;
      const F = 16;
      const ints = (count: number, seed: number, range: number, mul: number): Float32Array =>
        randomArray(count, seed, -range, range + 1).map((v) => Math.floor(v) * mul);
      const inputs: AttentionInputs = { z: ints(n * H * F, 51, 4, 1), aSrc: ints(H * F, 52, 4, 16), aDst: ints(H * F, 53, 4, 16), g: randomArray(n * H * F, 54) };
      const csr = testGraph(n, 55);
      // The test is only meaningful with large scores: check max |s_j + d_i| over the edges.
      const score = (node: number, h: number, a: Float32Array): number => {
        let sum = 0;
        for (let c = 0; c < F; c++) sum += a[h * F + c] * inputs.z[node * H * F + h * F + c];
        return sum;
      };
      let maxScore = 0;
      for (let i = 0; i < n; i++) {
        for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) {
          for (let h = 0; h < H; h++) maxScore = Math.max(maxScore, Math.abs(score(csr.colIdx[k], h, inputs.aSrc) + score(i, h, inputs.aDst)));
        }
      }
      if (maxScore < 500) throw new Error(`large scores: max |e| is only ${maxScore}`);
      for (const p of [0, 0.3]) {
        await checkAgainstReference(gpu, testGraph(n, 55), H, F, inputs, { heads: H, dropout: p, seed: 1 }, `large scores p=${p}`);
      }
    },
  },
  {
    name: 'gat attention float64 reference: gradients match its own finite differences',
    async run() {
      // CPU only: checks the backward formulas themselves (the GPU is compared with them above).
      const n = 23;
      const H = 2;
      const F = 4;
      const csr = testGraph(n, 91);
      const inputs = randomInputs(n, H, F, 92);
      const z = Float64Array.from(inputs.z);
      const aSrc = Float64Array.from(inputs.aSrc);
      const aDst = Float64Array.from(inputs.aDst);
      const options = { heads: H, negativeSlope: 0.2, dropout: 0.3, seed: 1 };
      const ref = gatAttentionReference(csr, z, aSrc, aDst, options, inputs.g);
      const loss = (): number => {
        const out = gatAttentionReference(csr, z, aSrc, aDst, options).out;
        let sum = 0;
        for (let i = 0; i < out.length; i++) sum += out[i] * inputs.g[i];
        return sum;
      };
      // ε = 1e-6 in float64: truncation ~1e-12, rounding ~1e-16/ε = 1e-10; kinks are 1e-6 wide (none hit).
      const eps = 1e-6;
      for (const [name, x, grad] of [['z', z, ref.dz!], ['aSrc', aSrc, ref.daSrc!], ['aDst', aDst, ref.daDst!]] as const) {
        const numeric = new Float64Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const keep = x[i];
          x[i] = keep + eps;
          const plus = loss();
          x[i] = keep - eps;
          numeric[i] = (plus - loss()) / (2 * eps);
          x[i] = keep;
        }
        assertClose(grad, numeric, { abs: 1e-7, rel: 1e-6 }, `reference d/d${name}`);
      }
    },
  },
  {
    name: 'gat attention gradient check (z, aSrc, aDst)',
    async run(gpu) {
      const csr = testGraph(23, 61);
      const graph = GraphCsr.fromCsr(gpu, csr, 'gradcheck');
      try {
        for (const [H, F, p, slope] of [[2, 4, 0, 1], [2, 4, 0, 0.2], [3, 2, 0.3, 0.2], [1, 5, 0, 0.2]] as const) {
          const inputs = randomInputs(23, H, F, 62 + H);
          // Tolerance: gradCheck's default. The forward is smooth except at the LeakyReLU kink (t = 0):
          // with ε = 1e-2 some of the ~100 edge scores cross it (seen: 16% off), so slope 0.2 uses
          // ε = 1e-3 (rounding then ~1e-7·|f|/ε ≈ 1e-4, inside the tolerance); slope 1 has no kink.
          await gradCheck(
            gpu,
            `gat H=${H} F=${F} p=${p} slope=${slope}`,
            [
              { data: inputs.z, shape: [23, H * F] },
              { data: inputs.aSrc, shape: [H, F] },
              { data: inputs.aDst, shape: [H, F] },
            ],
            ([z, aSrc, aDst]) => gatAttention(graph, z, aSrc, aDst, { heads: H, dropout: p, seed: 3, step: 2, negativeSlope: slope }),
            { eps: slope === 1 ? 1e-2 : 1e-3 },
          );
        }
      } finally {
        graph.dispose();
      }
    },
  },
  {
    name: 'gat attention is deterministic and regenerates its dropout mask per step',
    async run(gpu) {
      const csr = testGraph(300, 71, 250);
      const graph = GraphCsr.fromCsr(gpu, csr, 'determinism');
      try {
        const H = 2;
        const F = 8;
        const inputs = randomInputs(300, H, F, 72);
        const run = (step: number): Promise<Float32Array[]> =>
          Promise.all(
            withScope(() => {
              const z = fromArray(gpu, inputs.z, [300, H * F], { requiresGrad: true });
              const aSrc = fromArray(gpu, inputs.aSrc, [H, F], { requiresGrad: true });
              const aDst = fromArray(gpu, inputs.aDst, [H, F], { requiresGrad: true });
              const y = gatAttention(graph, z, aSrc, aDst, { heads: H, dropout: 0.5, seed: 4, step });
              const outCopy = fromArray(gpu, new Float32Array(y.size), y.shape);
              accumulateGrad(outCopy, y);
              backward(y, fromArray(gpu, inputs.g, y.shape), accumulateGrad);
              const grads = [z.grad!, aSrc.grad!, aDst.grad!];
              z.grad = aSrc.grad = aDst.grad = null;
              return [outCopy, ...grads];
            }).map(read),
          );
        const first = await run(1);
        const second = await run(1);
        first.forEach((a, t) => {
          for (let i = 0; i < a.length; i++) {
            if (!Object.is(a[i], second[t][i])) throw new Error(`rerun differs in result ${t} at ${i}: ${a[i]} vs ${second[t][i]}`);
          }
        });
        const other = await run(2);
        if (other[0].every((v, i) => v === first[0][i])) throw new Error('a different step gave the same dropout mask');
      } finally {
        graph.dispose();
      }
    },
  },
  {
    name: 'gat attention rejects wrong shapes and use after dispose',
    async run(gpu) {
      const csr = testGraph(10, 81);
      const graph = GraphCsr.fromCsr(gpu, csr, 'shapes');
      withScope(() => {
        const z = fromArray(gpu, new Float32Array(10 * 6), [10, 6]);
        const a = fromArray(gpu, new Float32Array(6), [2, 3]);
        assertThrows(() => gatAttention(graph, fromArray(gpu, new Float32Array(9 * 6), [9, 6]), a, a, { heads: 2 }), /gatAttention: z .* must be \[10, H·F\]/, 'z rows');
        assertThrows(() => gatAttention(graph, z, a, a, { heads: 4 }), /gatAttention: z .* H = 4/, 'heads do not divide');
        assertThrows(() => gatAttention(graph, z, fromArray(gpu, new Float32Array(6), [3, 2]), a, { heads: 2 }), /gatAttention: aSrc .* must be \[2, 3\] or \[6\]/, 'aSrc shape');
        assertThrows(() => gatAttention(graph, z, a, a, { heads: 2, dropout: 1.5 }), /dropout must be in \[0, 1\]/, 'dropout range');
      });
      graph.dispose();
      withScope(() => {
        const z = fromArray(gpu, new Float32Array(10 * 2), [10, 2]);
        const a = fromArray(gpu, new Float32Array(2), [2]);
        assertThrows(() => gatAttention(graph, z, a, a, { heads: 1 }), /used after dispose/, 'after dispose');
      });
      assertThrows(() => GraphCsr.fromCsr(gpu, { numRows: 2, numCols: 3, rowPtr: new Int32Array(3), colIdx: new Int32Array(0), values: null }), /square/, 'rectangular graph');
    },
  },
);
