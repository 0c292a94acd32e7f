// TGN's time encoding φ(Δt) = cos(Δt·ω + b): forward and backward kernels against float64 references,
// gradient checks, TGN's large-argument regime, and bad arguments.
// Tolerances. Forward: the f32 angle x = Δt·ω + b carries ≤ 2⁻²⁴(|Δt·ω| + |x|) of rounding (two
// roundings, fewer with an FMA), the kernel's own sin/cos (shaders/time-encoding.wgsl, not the builtins)
// ≤ 2 ulp plus |x|·3·10⁻¹¹ from the range reduction (≤ 3e-6 at |x| = 10⁵):
// |err| ≤ 2⁻²⁴(|Δt·ω| + |x|)·1.5 + 2e-6 per element (checked element by element). Backward: the same
// angle error enters every product s = −sin(x)·g, and the n (or d) products are summed in f32:
// |err| ≤ (angle bound + (terms + 4)·2⁻²⁴)·Σ|terms| + 1e-6, with Σ|terms| from the float64 reference.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { timeEncoding, timeEncodingInit, timeEncodingReference as ref } from '../../src/tensor/ops/time-encoding.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const ULP = 2 ** -24;

/** |actual − expected| ≤ bound elementwise; names the first offending element. */
function assertWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: ArrayLike<number>, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= bound[i])) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (|err| ${err.toExponential(2)} > ${bound[i].toExponential(2)})`);
  }
}

/** Per-element bound on the error of the f32 angle (see the header). */
function angleBounds(dt: Float32Array, omega: Float32Array, bias: Float32Array): Float64Array {
  const d = omega.length;
  const out = new Float64Array(dt.length * d);
  for (let i = 0; i < dt.length; i++) {
    for (let c = 0; c < d; c++) {
      const prod = Math.abs(dt[i] * omega[c]);
      out[i * d + c] = 1.5 * ULP * (prod + Math.abs(dt[i] * omega[c] + bias[c])) + 1e-9;
    }
  }
  return out;
}

/** Forward output and the three gradients for upstream g, through the tape. */
async function forwardBackward(gpu: Gpu, dt: Float32Array, omega: Float32Array, bias: Float32Array, g: Float32Array): Promise<Float32Array[]> {
  const n = dt.length;
  const d = omega.length;
  return Promise.all(
    withScope(() => {
      const t = fromArray(gpu, dt, [n], { requiresGrad: true });
      const w = fromArray(gpu, omega, [d], { requiresGrad: true });
      const b = fromArray(gpu, bias, [d], { requiresGrad: true });
      const y = timeEncoding(t, w, b);
      backward(y, fromArray(gpu, g, [n, d]), accumulateGrad);
      const grads = [t.grad!, w.grad!, b.grad!];
      t.grad = w.grad = b.grad = null;
      return [y, ...grads];
    }).map(read),
  );
}

async function checkAgainstReference(gpu: Gpu, dt: Float32Array, omega: Float32Array, bias: Float32Array, seed: number): Promise<void> {
  const n = dt.length;
  const d = omega.length;
  const g = randomArray(n * d, seed);
  const [y, ddt, domega, dbias] = await forwardBackward(gpu, dt, omega, bias, g);
  const angle = angleBounds(dt, omega, bias);
  assertWithin(y, ref.forward(dt, omega, bias), angle.map((a) => a + 2e-6), 'φ(Δt)');

  // Σ|terms| of each gradient sum, and the largest angle error feeding it.
  const absDdt = new Float64Array(n);
  const absDomega = new Float64Array(d);
  const absDbias = new Float64Array(d);
  const angleRow = new Float64Array(n);
  const angleCol = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const s = Math.abs(g[i * d + c]);
      absDdt[i] += s * Math.abs(omega[c]);
      absDomega[c] += s * Math.abs(dt[i]);
      absDbias[c] += s;
      angleRow[i] = Math.max(angleRow[i], angle[i * d + c]);
      angleCol[c] = Math.max(angleCol[c], angle[i * d + c]);
    }
  }
  const expected = ref.backward(dt, omega, bias, g);
  const bound = (abs: Float64Array, ang: Float64Array, terms: number) => abs.map((a, i) => (ang[i] + 2e-6 + (terms + 4) * ULP) * a + 1e-6);
  assertWithin(ddt, expected.ddt, bound(absDdt, angleRow, d), 'dΔt');
  assertWithin(domega, expected.domega, bound(absDomega, angleCol, n), 'dω');
  assertWithin(dbias, expected.dbias, bound(absDbias, angleCol, n), 'db');
}

export const timeEncodingCases: KernelCase[] = [];

// One element, odd sizes, and more than one workgroup of elements and of rows.
for (const [n, d] of [
  [1, 1],
  [37, 8],
  [300, 5],
  [1100, 3],
] as const) {
  timeEncodingCases.push({
    name: `time-encoding: forward and backward kernels n=${n} d=${d}`,
    async run(gpu) {
      const dt = randomArray(n, n + 1, 0, 10);
      const omega = randomArray(d, d + 2, -2, 2);
      const bias = randomArray(d, d + 3, -1, 1);
      await checkAgainstReference(gpu, dt, omega, bias, n + d);
    },
  });
}

timeEncodingCases.push(
  {
    name: 'time-encoding: TGN frequencies with Δt up to 10⁵ (range reduction)',
    async run(gpu) {
      const { omega } = timeEncodingInit(16);
      const bias = randomArray(16, 4, -3, 3);
      const dt = randomArray(64, 5, 0, 1e5);
      dt[0] = 0;
      dt[1] = 1;
      await checkAgainstReference(gpu, dt, omega, bias, 6);
    },
  },
  {
    name: 'time-encoding: gradient check w.r.t. Δt, ω and b',
    async run(gpu) {
      const n = 23;
      const d = 6;
      await gradCheck(
        gpu,
        'timeEncoding',
        [
          { data: randomArray(n, 11, 0, 3), shape: [n] },
          { data: randomArray(d, 12, -1, 1), shape: [d] },
          { data: randomArray(d, 13, -1, 1), shape: [d] },
        ],
        ([dt, omega, bias]) => timeEncoding(dt, omega, bias),
      );
    },
  },
  {
    name: 'time-encoding: TGN initialisation',
    async run() {
      const { omega, bias } = timeEncodingInit(10);
      // ω = 1/10^linspace(0, 9, d), as TGN's TimeEncode; b = 0.
      assertClose(omega, Float64Array.from({ length: 10 }, (_, c) => 10 ** -c), { abs: 0, rel: 6e-8 }, 'ω');
      assertClose(bias, new Float64Array(10), { abs: 0, rel: 0 }, 'b');
      assertThrows(() => timeEncodingInit(0), /timeEncodingInit: d must be/, 'd = 0');
    },
  },
  {
    name: 'time-encoding: bad arguments',
    async run(gpu) {
      withScope(() => {
        const dt = fromArray(gpu, new Float32Array(4), [4]);
        const w = fromArray(gpu, new Float32Array(3), [3]);
        const b = fromArray(gpu, new Float32Array(3), [3]);
        assertThrows(() => timeEncoding(fromArray(gpu, new Int32Array(4), [4]), w, b), /timeEncoding: dt must be f32/, 'i32 Δt');
        assertThrows(() => timeEncoding(fromArray(gpu, new Float32Array(8), [4, 2]), w, b), /timeEncoding: dt must be a vector/, 'matrix Δt');
        assertThrows(() => timeEncoding(dt, w, fromArray(gpu, new Float32Array(2), [2])), /same length d/, 'ω and b differ');
        assertThrows(() => timeEncoding(dt, fromArray(gpu, new Float32Array(0), [0]), fromArray(gpu, new Float32Array(0), [0])), /d ≥ 1/, 'd = 0');
      });
    },
  },
  {
    name: 'time-encoding: no events gives an empty [0, d] encoding',
    async run(gpu) {
      const y = await read(withScope(() => timeEncoding(fromArray(gpu, new Float32Array(0), [0]), fromArray(gpu, new Float32Array(3), [3]), fromArray(gpu, new Float32Array(3), [3]))));
      assertClose(y, [], { abs: 0, rel: 0 }, 'empty');
    },
  },
);
