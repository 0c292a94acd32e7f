// Layer normalization (PyTorch nn.LayerNorm convention): forward and backward kernels against float64
// references for d = 1, 3, 100, 257, a gradient check, constant rows (variance 0), rows offset by ±1e4
// (the mean must not cost the row's accuracy), empty input, bad arguments, and the nn module.
// Tolerances. Every result is compared element by element with TOL · (its scale), where the scale is the
// sum of the magnitudes of the terms that make it up (so cancellation does not shrink the bound):
//   y:   |γ|(|x̂| + 1) + |β|
//   dx:  r·(|gy| + mean|gy| + (|x̂| + 1)·mean(|gy|(|x̂| + 1)))    (gy = g·γ, r = 1/√(σ² + eps))
//   dγ:  Σ_rows |g|(|x̂| + 1)          dβ: Σ_rows |g|
// x̂ inherits the rounding of the row sums (d/team sequential adds per lane plus log2(team) tree levels:
// ≤ 5 + 6 at d = 257) in the mean and the variance, ≤ 2 ulp of inverseSqrt and a few products: ≈ 17 ulp
// of the scale. The parameter grads add reduce.wgsl's column sums (≤ 16 rows per chunk, then ≤ 10 chunks
// here): ≈ 26 ulp more. TOL = 64 ulp (3.8e-6) covers both; lavapipe measures ≤ 3 ulp everywhere,
// offset rows included. A kernel that normalised with an f32 mean of 1e4 + O(1) data misses by ~2·10⁴
// ulp, so the offset case does tell.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { LayerNorm } from '../../src/nn/layer-norm.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { layerNorm, layerNormReference as ref } from '../../src/tensor/ops/layer-norm.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertEqual, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const ULP = 2 ** -24;
const TOL = 64 * ULP;
const EPS = 1e-5;

/** |actual − expected| ≤ TOL·scale elementwise; names the first offending element. */
function assertWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: ArrayLike<number>, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const bound = TOL * scale[i];
    if (!(err <= bound)) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (|err| ${err.toExponential(2)} > ${bound.toExponential(2)})`);
  }
}

/** The scales of the header, in float64. */
function scales(x: Float32Array, gamma: Float32Array, beta: Float32Array, g: Float32Array) {
  const d = gamma.length;
  const n = x.length / d;
  const y = new Float64Array(n * d);
  const dx = new Float64Array(n * d);
  const dgamma = new Float64Array(d);
  const dbeta = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    // As the reference: a constant row then gives x − μ = 0 exactly.
    let mu = 0;
    for (let c = 0; c < d; c++) mu += x[i * d + c];
    mu /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[i * d + c] - mu) ** 2;
    const rstd = 1 / Math.sqrt(v / d + EPS);
    const xh = Array.from({ length: d }, (_, c) => Math.abs((x[i * d + c] - mu) * rstd) + 1);
    let meanGy = 0;
    let meanGyXh = 0;
    for (let c = 0; c < d; c++) {
      const e = i * d + c;
      const gy = Math.abs(g[e] * gamma[c]);
      meanGy += gy / d;
      meanGyXh += (gy * xh[c]) / d;
      y[e] = Math.abs(gamma[c]) * xh[c] + Math.abs(beta[c]);
      dgamma[c] += Math.abs(g[e]) * xh[c];
      dbeta[c] += Math.abs(g[e]);
    }
    for (let c = 0; c < d; c++) {
      const e = i * d + c;
      dx[e] = rstd * (Math.abs(g[e] * gamma[c]) + meanGy + xh[c] * meanGyXh);
    }
  }
  return { y, dx, dgamma, dbeta };
}

/** y and the gradients of Σ g·y w.r.t. x, γ and β, through the tape. */
async function forwardBackward(gpu: Gpu, x: Float32Array, gamma: Float32Array, beta: Float32Array, g: Float32Array): Promise<Float32Array[]> {
  const d = gamma.length;
  const n = x.length / d;
  return Promise.all(
    withScope(() => {
      const xs = fromArray(gpu, x, [n, d], { requiresGrad: true });
      const w = fromArray(gpu, gamma, [d], { requiresGrad: true });
      const b = fromArray(gpu, beta, [d], { requiresGrad: true });
      const y = layerNorm(xs, w, b, EPS);
      backward(y, fromArray(gpu, g, [n, d]), accumulateGrad);
      const grads = [xs.grad!, w.grad!, b.grad!];
      xs.grad = w.grad = b.grad = null;
      return [y, ...grads];
    }).map(read),
  );
}

/** Forward and backward against the float64 reference; returns the GPU results. */
async function checkAgainstReference(gpu: Gpu, x: Float32Array, gamma: Float32Array, beta: Float32Array, g: Float32Array, what: string): Promise<Float32Array[]> {
  const got = await forwardBackward(gpu, x, gamma, beta, g);
  const [y, dx, dgamma, dbeta] = got;
  const s = scales(x, gamma, beta, g);
  const expected = ref.backward(x, gamma, g, EPS);
  assertWithin(y, ref.forward(x, gamma, beta, EPS), s.y, `${what}: y`);
  assertWithin(dx, expected.dx, s.dx, `${what}: dx`);
  assertWithin(dgamma, expected.dgamma, s.dgamma, `${what}: dγ`);
  assertWithin(dbeta, expected.dbeta, s.dbeta, `${what}: dβ`);
  return got;
}

export const layerNormCases: KernelCase[] = [];

// d = 1 (every row constant), odd d below one team, TGN's ~100, past one team of 64 with a ragged tail;
// several workgroups of rows each, and n = 150 past reduce.wgsl's 16-row chunks.
for (const [n, d] of [
  [5, 1],
  [150, 3],
  [33, 100],
  [9, 257],
] as const) {
  layerNormCases.push({
    name: `layer-norm: forward and backward kernels n=${n} d=${d}`,
    async run(gpu) {
      const x = randomArray(n * d, n + d, -1.5, 2.5);
      const gamma = randomArray(d, d + 1, -1.5, 1.5);
      const beta = randomArray(d, d + 2);
      const g = randomArray(n * d, n + 3);
      const first = await checkAgainstReference(gpu, x, gamma, beta, g, `n=${n} d=${d}`);
      // Fixed-order sums: a second run is bitwise the same.
      const second = await forwardBackward(gpu, x, gamma, beta, g);
      first.forEach((t, k) => assertClose(second[k], t, { abs: 0, rel: 0 }, `rerun output ${k}`));
    },
  });
}

layerNormCases.push(
  {
    name: 'layer-norm: rows offset by ±1e4 keep the accuracy of ordinary rows',
    async run(gpu) {
      const [n, d] = [12, 100];
      // Rows around 1e4 (spread ±1 and ±0.01, the latter near the f32 grid of 1e-3 there) and −3e4,
      // interleaved with ordinary rows.
      const offsets = [1e4, 0, 1e4, -3e4];
      const spreads = [1, 1, 0.01, 1];
      const x = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const row = randomArray(d, 70 + i, -spreads[i % 4], spreads[i % 4]);
        for (let c = 0; c < d; c++) x[i * d + c] = offsets[i % 4] + row[c];
      }
      await checkAgainstReference(gpu, x, randomArray(d, 80, -1.5, 1.5), randomArray(d, 81), randomArray(n * d, 82), 'offset rows');
    },
  },
  {
    name: 'layer-norm: constant rows (variance 0) give y = β and finite gradients',
    async run(gpu) {
      const d = 7;
      const values = [0, 7.25, -1e4, 3e-30, 1e30];
      const n = values.length;
      const x = Float32Array.from({ length: n * d }, (_, e) => values[Math.floor(e / d)]);
      const gamma = randomArray(d, 90, -1.5, 1.5);
      const beta = randomArray(d, 91);
      const g = randomArray(n * d, 92);
      const [y, , dgamma] = await checkAgainstReference(gpu, x, gamma, beta, g, 'constant rows');
      // x − μ is exactly 0, so y is β and x̂ (hence dγ) exactly 0; dx = (gy − mean gy)/√eps stays finite.
      assertClose(y, Float32Array.from({ length: n * d }, (_, e) => beta[e % d]), { abs: 0, rel: 0 }, 'y = β');
      assertClose(dgamma, new Float32Array(d), { abs: 0, rel: 0 }, 'dγ = 0');
    },
  },
  {
    name: 'layer-norm: gradient check w.r.t. x, γ and β',
    async run(gpu) {
      const [n, d] = [4, 6];
      await gradCheck(
        gpu,
        'layerNorm',
        [
          { data: randomArray(n * d, 101, -2, 2), shape: [n, d] },
          { data: randomArray(d, 102, -1.5, 1.5), shape: [d] },
          { data: randomArray(d, 103), shape: [d] },
        ],
        ([x, gamma, beta]) => layerNorm(x, gamma, beta),
      );
    },
  },
  {
    name: 'layer-norm: no rows gives [0, d] and zero parameter gradients',
    async run(gpu) {
      const d = 3;
      const [y, dgamma, dbeta] = await Promise.all(
        withScope(() => {
          const x = fromArray(gpu, new Float32Array(0), [0, d]);
          const w = fromArray(gpu, new Float32Array([1, 2, 3]), [d], { requiresGrad: true });
          const b = fromArray(gpu, new Float32Array(d), [d], { requiresGrad: true });
          const out = layerNorm(x, w, b);
          assertEqual(JSON.stringify(out.shape), JSON.stringify([0, d]), 'output shape');
          backward(out, fromArray(gpu, new Float32Array(0), [0, d]), accumulateGrad);
          const grads = [w.grad!, b.grad!];
          w.grad = b.grad = null;
          return [out, ...grads];
        }).map(read),
      );
      assertClose(y, [], { abs: 0, rel: 0 }, 'empty y');
      assertClose(dgamma, new Float32Array(d), { abs: 0, rel: 0 }, 'dγ');
      assertClose(dbeta, new Float32Array(d), { abs: 0, rel: 0 }, 'dβ');
    },
  },
  {
    name: 'layer-norm: bad arguments',
    async run(gpu) {
      withScope(() => {
        const f = (...shape: number[]) => fromArray(gpu, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
        const x = f(3, 4);
        const w = f(4);
        const b = f(4);
        assertThrows(() => layerNorm(fromArray(gpu, new Int32Array(12), [3, 4]), w, b), /layerNorm: x must be f32/, 'i32 x');
        assertThrows(() => layerNorm(x, fromArray(gpu, new Int32Array(4), [4]), b), /layerNorm: gamma must be f32/, 'i32 γ');
        assertThrows(() => layerNorm(f(12), w, b), /layerNorm: x must be \[n, d\] with d ≥ 1, got .*\[12\]/, '1-D x');
        assertThrows(() => layerNorm(f(3, 0), f(0), f(0)), /layerNorm: x must be \[n, d\] with d ≥ 1, got .*\[3×0\]/, 'd = 0');
        assertThrows(() => layerNorm(x, f(5), b), /layerNorm: gamma .*\[5\].* must be \[4\] .*x .*\[3×4\]/, 'γ of 5');
        assertThrows(() => layerNorm(x, w, f(3)), /layerNorm: beta .*\[3\].* must be \[4\]/, 'β of 3');
        assertThrows(() => layerNorm(x, f(2, 2), b), /layerNorm: gamma .*\[2×2\].* must be \[4\]/, '2-D γ of 4');
        for (const eps of [0, -1e-5, Number.NaN, Infinity, 1e-50]) {
          assertThrows(() => layerNorm(x, w, b, eps), /layerNorm: eps must be finite and > 0/, `eps ${eps}`);
        }
        // γ and β as [1, d] rows are accepted.
        layerNorm(x, f(1, 4), f(1, 4));
      });
    },
  },
  {
    name: 'layer-norm: LayerNorm module (ones and zeros, forward, gradients reach weight and bias)',
    async run(gpu) {
      const [n, d] = [6, 5];
      const module = new LayerNorm(d).materialize(gpu, 1);
      try {
        assertEqual(JSON.stringify(module.parameterShapes()), JSON.stringify([['weight', [d]], ['bias', [d]]]), 'parameters');
        const [weight, bias] = module.parameters();
        assertClose(await read(weight), new Float32Array(d).fill(1), { abs: 0, rel: 0 }, 'weight starts at ones');
        assertClose(await read(bias), new Float32Array(d), { abs: 0, rel: 0 }, 'bias starts at zeros');
        const x = randomArray(n * d, 111, -2, 3);
        const g = randomArray(n * d, 112);
        const [y, dw, db] = await Promise.all(
          withScope(() => {
            const out = module.forward(fromArray(gpu, x, [n, d]));
            backward(out, fromArray(gpu, g, [n, d]), accumulateGrad);
            const grads = [weight.grad!, bias.grad!];
            weight.grad = bias.grad = null;
            return [out, ...grads];
          }).map(read),
        );
        const ones = new Float32Array(d).fill(1);
        const zeros = new Float32Array(d);
        const s = scales(x, ones, zeros, g);
        const expected = ref.backward(x, ones, g, EPS);
        assertWithin(y, ref.forward(x, ones, zeros, EPS), s.y, 'module y');
        assertWithin(dw, expected.dgamma, s.dgamma, 'module dweight');
        assertWithin(db, expected.dbeta, s.dbeta, 'module dbias');
        withScope(() => assertThrows(() => module.forward(fromArray(gpu, new Float32Array(12), [3, 4])), /LayerNorm\(5\): input .* must be \[n, 5\]/, 'input width'));
        assertThrows(() => new LayerNorm(0), /LayerNorm: features must be an integer ≥ 1/, 'features 0');
        assertThrows(() => new LayerNorm(4, 0), /LayerNorm\(4\): eps must be finite and > 0/, 'eps 0');
      } finally {
        module.dispose();
      }
    },
  },
);
