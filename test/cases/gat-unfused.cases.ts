// The unfused graph-attention path (gatAttentionUnfused: per-op kernels materialising [E, H] edge
// tensors) against the float64 reference gatAttentionReference and against the fused gatAttention:
// output and gradients w.r.t. z, aSrc, aDst for H = 1, 2, 8 heads, dropout 0 and 0.4 (same masks), on a
// graph with a node of in-degree 0, nodes of in-degree 1 and a few random in-neighbours; each op's
// forward against its own float64 reference; finite-difference gradient checks.
//
// Tolerance (withinRounding, as in gat.cases.ts): |err| ≤ TOL·Σ|terms| per element, Σ|terms| from the
// reference. Both GPU paths use the same f32 inputs and masks, so their errors are f32 rounding (scores,
// exp, sums of at most a few dozen terms here): TOL = 1e-4 as for the fused op (measured there ≤ 6.4e-6);
// fused vs unfused are each within TOL of the reference, so within 2·TOL of each other. An indexing
// mistake is off by a whole term (ratio ~1).

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { GraphCsr } from '../../src/tensor/graph-csr.ts';
import { gatAttention, gatAttentionReference, type GatAttentionOptions } from '../../src/tensor/ops/gat-attention.ts';
import {
  gatAggregate,
  gatAttentionUnfused,
  gatEdgeDropout,
  gatEdgeScores,
  gatHeadDot,
  gatSegmentSoftmax,
  gatUnfusedReference,
} from '../../src/tensor/ops/gat-unfused.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';
import { randomInputs, runAttention, testGraph, TOL, withinRounding } from './gat-fixtures.ts';

async function compareWithFused(gpu: Gpu, H: number, F: number, p: number): Promise<void> {
  const N = 41;
  const csr = testGraph(N, 200 + H);
  const graph = GraphCsr.fromCsr(gpu, csr, 'unfused');
  const what = `H=${H} F=${F} p=${p}`;
  try {
    const seed = 11 * H + F;
    const inputs = randomInputs(N, H, F, seed);
    const options: GatAttentionOptions = { heads: H, dropout: p, seed: 5, step: 3 };
    const unfused = await runAttention(gpu, graph, gatAttentionUnfused, H, F, inputs, options);
    const fused = await runAttention(gpu, graph, gatAttention, H, F, inputs, options);
    const ref = gatAttentionReference(csr, inputs.z, inputs.aSrc, inputs.aDst, options, inputs.g);
    const m = ref.magnitude!;
    const names = ['out', 'dz', 'daSrc', 'daDst'];
    const expected = [ref.out, ref.dz!, ref.daSrc!, ref.daDst!];
    const mags = [m.out, m.dz, m.daSrc, m.daDst];
    for (let t = 0; t < 4; t++) {
      // Tolerances: see the header.
      withinRounding(unfused[t], expected[t], mags[t], TOL, `${what}: unfused ${names[t]} vs reference`);
      withinRounding(unfused[t], fused[t], mags[t], 2 * TOL, `${what}: unfused ${names[t]} vs fused`);
    }
    for (let c = 0; c < H * F; c++) if (unfused[0][c] !== 0) throw new Error(`${what}: node without in-edges has out[0, ${c}] = ${unfused[0][c]}`);
  } finally {
    graph.dispose();
  }
}

export const gatUnfusedCases: KernelCase[] = [];

for (const H of [1, 2, 8]) {
  for (const p of [0, 0.4]) {
    for (const F of H === 2 ? [1, 8] : [8]) {
      gatUnfusedCases.push({ name: `gat unfused = fused = reference H=${H} F=${F} dropout ${p}`, run: (gpu) => compareWithFused(gpu, H, F, p) });
    }
  }
}

gatUnfusedCases.push(
  {
    name: 'gat unfused ops against their float64 references',
    async run(gpu) {
      const N = 29;
      const H = 3;
      const F = 4;
      const csr = testGraph(N, 301);
      const E = csr.rowPtr[N];
      const graph = GraphCsr.fromCsr(gpu, csr, 'ops');
      try {
        const z = randomArray(N * H * F, 302);
        const a = randomArray(H * F, 303);
        const s = randomArray(N * H, 304, -3, 3);
        const d = randomArray(N * H, 305, -3, 3);
        const e = randomArray(E * H, 306, -5, 5);
        const w = randomArray(E * H, 307);
        const drop = { p: 0.4, seed: 2, stream: 7, step: 9 };
        const outs = await Promise.all(
          withScope(() => {
            const t = (data: Float32Array, shape: number[]): Tensor => fromArray(gpu, data, shape);
            return [
              gatHeadDot(t(z, [N, H * F]), t(a, [H, F]), H),
              gatEdgeScores(graph, t(s, [N, H]), t(d, [N, H]), 0.1),
              gatSegmentSoftmax(graph, t(e, [E, H])),
              gatEdgeDropout(t(w, [E, H]), drop),
              gatAggregate(graph, t(w, [E, H]), t(z, [N, H * F])),
            ];
          }).map(read),
        );
        const ref = gatUnfusedReference;
        // f32 rounding of short sums (≤ 12 terms of magnitude ≤ ~10) and one exp: 1e-5 relative, 1e-5 absolute.
        const tol = { abs: 1e-5, rel: 1e-5 };
        assertClose(outs[0], ref.headDot(z, a, N, H), tol, 'headDot');
        assertClose(outs[1], ref.edgeScores(csr, s, d, H, 0.1), tol, 'edgeScores');
        assertClose(outs[2], ref.segmentSoftmax(csr, e, H), tol, 'segmentSoftmax');
        // Dropout: exact (x·scale with the f32 scale; mask bits identical).
        assertClose(outs[3], ref.edgeDropout(w, H, drop), { abs: 0, rel: 1e-7 }, 'edgeDropout');
        assertClose(outs[4], ref.aggregate(csr, w, z, H), tol, 'aggregate');
      } finally {
        graph.dispose();
      }
    },
  },
  {
    name: 'gat unfused gradient check (z, aSrc, aDst)',
    async run(gpu) {
      const csr = testGraph(23, 61);
      const graph = GraphCsr.fromCsr(gpu, csr, 'gradcheck');
      try {
        for (const [H, F, p, slope] of [[2, 4, 0, 1], [2, 4, 0.3, 0.2], [1, 5, 0, 0.2]] as const) {
          const inputs = [randomArray(23 * H * F, 62 + H), randomArray(H * F, 63 + H), randomArray(H * F, 64 + H)];
          // Tolerance: gradCheck's default; ε = 1e-3 where the LeakyReLU has a kink (see gat.cases.ts).
          await gradCheck(
            gpu,
            `gat unfused H=${H} F=${F} p=${p} slope=${slope}`,
            [
              { data: inputs[0], shape: [23, H * F] },
              { data: inputs[1], shape: [H, F] },
              { data: inputs[2], shape: [H, F] },
            ],
            ([z, aSrc, aDst]) => gatAttentionUnfused(graph, z, aSrc, aDst, { heads: H, dropout: p, seed: 3, step: 2, negativeSlope: slope }),
            { eps: slope === 1 ? 1e-2 : 1e-3 },
          );
        }
      } finally {
        graph.dispose();
      }
    },
  },
  {
    name: 'gat unfused rejects wrong shapes',
    async run(gpu) {
      const csr = testGraph(10, 81);
      const graph = GraphCsr.fromCsr(gpu, csr, 'shapes');
      try {
        withScope(() => {
          const z = fromArray(gpu, new Float32Array(10 * 6), [10, 6]);
          const a = fromArray(gpu, new Float32Array(6), [2, 3]);
          assertThrows(() => gatAttentionUnfused(graph, fromArray(gpu, new Float32Array(9 * 6), [9, 6]), a, a, { heads: 2 }), /gatAttentionUnfused: z .* must be \[10, H·F\]/, 'z rows');
          assertThrows(() => gatAttentionUnfused(graph, z, fromArray(gpu, new Float32Array(4), [4]), a, { heads: 2 }), /gatAttentionUnfused: aSrc/, 'aSrc size');
          assertThrows(() => gatSegmentSoftmax(graph, fromArray(gpu, new Float32Array(6), [3, 2])), /gatSegmentSoftmax: e .* must be \[\d+, 2\]/, 'edge tensor rows');
        });
      } finally {
        graph.dispose();
      }
    },
  },
);
