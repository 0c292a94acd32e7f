// Fused GRU gates (PyTorch GRUCell convention) forward and backward kernels against float64 references,
// the composed gruCell against GRUCell's equations written out in float64, gradient checks, saturation
// and bad arguments.
// Tolerances. Gates: each output is a handful of f32 operations on σ and tanh of O(1) arguments; WGSL
// allows exp a few ulp here and tanh a few more, so the outputs (|h'| ≤ max(1, |h|)) are within
// ~1e-6 absolute → GATE_TOL abs 3e-6 + rel 3e-6; the gradients are products of at most five such
// factors with g (|g| ≤ 1) → the same tolerance. gruCell adds two f32 matmuls (K = in or d ≤ 8 terms of
// size ≤ 1, error ≲ K·2⁻²⁴) in front of σ/tanh, whose slopes are ≤ 1 → CELL_TOL abs 1e-5 + rel 1e-5.
// Saturated gates: gi and gh of one sign and magnitude 20–200 per element, so no pre-activation
// cancels and σ, tanh sit at (or within 2e-9 of) their limits: still GATE_TOL.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { gruCell, gruGates, gruReference as ref } from '../../src/tensor/ops/gru.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const GATE_TOL = { abs: 3e-6, rel: 3e-6 };
const CELL_TOL = { abs: 1e-5, rel: 1e-5 };

/** The op's output and the gradients of Σ g·y w.r.t. every input, through the tape. */
async function forwardBackward(
  gpu: Gpu,
  inputs: Array<{ data: Float32Array; shape: number[] }>,
  f: (xs: ReturnType<typeof fromArray>[]) => ReturnType<typeof fromArray>,
  g: Float32Array,
): Promise<Float32Array[]> {
  return Promise.all(
    withScope(() => {
      const xs = inputs.map((inp) => fromArray(gpu, inp.data, inp.shape, { requiresGrad: true }));
      const y = f(xs);
      backward(y, fromArray(gpu, g, y.shape), accumulateGrad);
      const grads = xs.map((x) => {
        if (!x.grad) throw new Error(`no gradient reached ${x}`);
        const t = x.grad;
        x.grad = null;
        return t;
      });
      return [y, ...grads];
    }).map(read),
  );
}

export const gruCases: KernelCase[] = [];

// One element, odd sizes, and n·d past one workgroup's 1024 elements.
for (const [n, d] of [
  [1, 1],
  [7, 5],
  [300, 4],
] as const) {
  gruCases.push({
    name: `gru: fused gates forward and backward kernels n=${n} d=${d}`,
    async run(gpu) {
      const gi = randomArray(n * 3 * d, n + 1, -3, 3);
      const gh = randomArray(n * 3 * d, n + 2, -3, 3);
      const h = randomArray(n * d, n + 3);
      const g = randomArray(n * d, n + 4);
      const [y, dgi, dgh, dh] = await forwardBackward(
        gpu,
        [
          { data: gi, shape: [n, 3 * d] },
          { data: gh, shape: [n, 3 * d] },
          { data: h, shape: [n, d] },
        ],
        ([a, b, c]) => gruGates(a, b, c),
        g,
      );
      assertClose(y, ref.gates(gi, gh, h, n, d), GATE_TOL, "h'");
      const expected = ref.gatesBackward(gi, gh, h, g, n, d);
      assertClose(dgi, expected.dgi, GATE_TOL, 'dgi');
      assertClose(dgh, expected.dgh, GATE_TOL, 'dgh');
      assertClose(dh, expected.dh, GATE_TOL, 'dh');
    },
  });
}

gruCases.push(
  {
    name: 'gru: saturated gates stay finite (pre-activations ±20 to ±400)',
    async run(gpu) {
      const [n, d] = [4, 6];
      const sign = randomArray(n * 3 * d, 30).map(Math.sign);
      const gi = randomArray(n * 3 * d, 31, 20, 200).map((v, i) => v * sign[i]);
      const gh = randomArray(n * 3 * d, 32, 20, 200).map((v, i) => v * sign[i]);
      const h = randomArray(n * d, 33);
      const g = randomArray(n * d, 34);
      const outs = await forwardBackward(
        gpu,
        [
          { data: gi, shape: [n, 3 * d] },
          { data: gh, shape: [n, 3 * d] },
          { data: h, shape: [n, d] },
        ],
        ([a, b, c]) => gruGates(a, b, c),
        g,
      );
      for (const [k, v] of outs.entries()) {
        const bad = v.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) throw new Error(`output ${k} element ${bad} is ${v[bad]}`);
      }
      assertClose(outs[0], ref.gates(gi, gh, h, n, d), GATE_TOL, "saturated h'");
      const expected = ref.gatesBackward(gi, gh, h, g, n, d);
      assertClose(outs[1], expected.dgi, GATE_TOL, 'saturated dgi');
      assertClose(outs[2], expected.dgh, GATE_TOL, 'saturated dgh');
      assertClose(outs[3], expected.dh, GATE_TOL, 'saturated dh');
    },
  },
  ...[true, false].map((withBias) => ({
    name: `gru: gruCell against torch.nn.GRUCell's equations (${withBias ? 'with' : 'without'} bias)`,
    async run(gpu: Gpu) {
      const [n, inputs, d] = [9, 7, 5];
      const x = randomArray(n * inputs, 41);
      const h = randomArray(n * d, 42);
      // PyTorch's initialisation range U(−1/√d, 1/√d), widened so the gates leave their linear range.
      const wIh = randomArray(3 * d * inputs, 43, -0.8, 0.8);
      const wHh = randomArray(3 * d * d, 44, -0.8, 0.8);
      const bIh = randomArray(3 * d, 45, -0.5, 0.5);
      const bHh = randomArray(3 * d, 46, -0.5, 0.5);
      const got = await read(
        withScope(() =>
          gruCell(
            fromArray(gpu, x, [n, inputs]),
            fromArray(gpu, h, [n, d]),
            fromArray(gpu, wIh, [3 * d, inputs]),
            fromArray(gpu, wHh, [3 * d, d]),
            withBias ? fromArray(gpu, bIh, [3 * d]) : null,
            withBias ? fromArray(gpu, bHh, [3 * d]) : null,
          ),
        ),
      );
      assertClose(got, ref.cell(x, h, wIh, wHh, withBias ? bIh : null, withBias ? bHh : null, n, inputs, d), CELL_TOL, "GRUCell h'");
    },
  })),
  {
    name: 'gru: gradient check of the fused gates w.r.t. gi, gh and h',
    async run(gpu) {
      const [n, d] = [6, 4];
      await gradCheck(
        gpu,
        'gruGates',
        [
          { data: randomArray(n * 3 * d, 51, -2, 2), shape: [n, 3 * d] },
          { data: randomArray(n * 3 * d, 52, -2, 2), shape: [n, 3 * d] },
          { data: randomArray(n * d, 53), shape: [n, d] },
        ],
        ([gi, gh, h]) => gruGates(gi, gh, h),
      );
    },
  },
  {
    name: 'gru: gradient check of gruCell w.r.t. x, h, both weights and both biases',
    async run(gpu) {
      const [n, inputs, d] = [5, 3, 4];
      await gradCheck(
        gpu,
        'gruCell',
        [
          { data: randomArray(n * inputs, 61), shape: [n, inputs] },
          { data: randomArray(n * d, 62), shape: [n, d] },
          { data: randomArray(3 * d * inputs, 63, -0.8, 0.8), shape: [3 * d, inputs] },
          { data: randomArray(3 * d * d, 64, -0.8, 0.8), shape: [3 * d, d] },
          { data: randomArray(3 * d, 65, -0.5, 0.5), shape: [3 * d] },
          { data: randomArray(3 * d, 66, -0.5, 0.5), shape: [3 * d] },
        ],
        ([x, h, wIh, wHh, bIh, bHh]) => gruCell(x, h, wIh, wHh, bIh, bHh),
      );
    },
  },
  {
    name: 'gru: bad arguments',
    async run(gpu) {
      withScope(() => {
        const f = (rows: number, cols: number) => fromArray(gpu, new Float32Array(rows * cols), [rows, cols]);
        const h = f(3, 2);
        assertThrows(() => gruGates(f(3, 5), f(3, 6), h), /gruGates: gi .* must be \[3, 6\]/, 'gi width');
        assertThrows(() => gruGates(f(3, 6), f(2, 6), h), /gruGates: gh .* must be \[3, 6\]/, 'gh rows');
        assertThrows(() => gruGates(f(3, 6), f(3, 6), fromArray(gpu, new Int32Array(6), [3, 2])), /gruGates: h must be f32/, 'i32 h');
        assertThrows(() => gruGates(f(3, 6), f(3, 6), fromArray(gpu, new Float32Array(6), [6])), /gruGates: h must be 2-D/, '1-D h');
        assertThrows(() => gruCell(f(3, 4), h, f(6, 5), f(6, 2)), /gruCell: wIh .* must be \[6, 4\]/, 'wIh shape');
        assertThrows(() => gruCell(f(3, 4), h, f(6, 4), f(6, 3)), /gruCell: wHh .* must be \[6, 2\]/, 'wHh shape');
        assertThrows(() => gruCell(f(4, 4), h, f(6, 4), f(6, 2)), /same n/, 'row mismatch');
        assertThrows(() => gruCell(f(3, 4), h, f(6, 4), f(6, 2), fromArray(gpu, new Float32Array(5), [5])), /gruCell: bIh .* must have 6 elements/, 'bias size');
      });
    },
  },
);
