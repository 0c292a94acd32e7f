// Framework-free test helpers: the kernel cases run under node:test on Dawn and in Chromium alike,
// so they throw plain errors instead of using a runner's assertions.

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { backward } from '../../src/tensor/tape.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';

export interface KernelCase {
  name: string;
  run(gpu: Gpu): Promise<void>;
}

export interface Tolerance {
  abs: number;
  rel: number;
}

/** |a − e| ≤ abs + rel·|e| elementwise; the error names the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    if (!(err <= tol.abs + tol.rel * Math.abs(e))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (|err| ${err.toExponential(2)} > ${tol.abs} + ${tol.rel}·|e|)`);
    }
    worst = Math.max(worst, err);
  }
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

export function assertThrows(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (error) {
    if (!pattern.test((error as Error).message)) throw new Error(`${what}: threw '${(error as Error).message}', expected ${pattern}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export async function read(t: Tensor): Promise<Float32Array> {
  return new Float32Array(await t.toArray());
}

/**
 * Checks an op's backward against central finite differences of its own GPU forward, along a random
 * direction v with a random output weighting w:  d/dε Σ w·f(x + εv)  ≈  ⟨∇ₓ Σ w·f, v⟩.
 * Tolerance: f32 forward, ε = 1e-2 → truncation O(ε²) and rounding ~1e-7·|f|/ε: rel 2e-2 suffices.
 */
export async function gradCheck(
  gpu: Gpu,
  name: string,
  inputs: Array<{ data: Float32Array; shape: number[] }>,
  f: (xs: Tensor[]) => Tensor,
  options: { eps?: number; tol?: Tolerance; wrt?: number[]; seed?: number } = {},
): Promise<void> {
  const eps = options.eps ?? 1e-2;
  const tol = options.tol ?? { abs: 1e-3, rel: 2e-2 };
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  const seed = options.seed ?? 7;
  for (const k of wrt) {
    const v = randomArray(inputs[k].data.length, seed + 101 * k);
    const evaluate = async (shift: number): Promise<Float32Array> =>
      read(
        withScope(() => {
          const xs = inputs.map((inp, i) => {
            const data = i === k ? inp.data.map((x, j) => x + shift * v[j]) : inp.data;
            return fromArray(gpu, data, inp.shape);
          });
          return f(xs);
        }),
      );
    const plus = await evaluate(eps);
    const minus = await evaluate(-eps);
    const w = randomArray(plus.length, seed + 13);
    let numeric = 0;
    for (let i = 0; i < plus.length; i++) numeric += (w[i] * (plus[i] - minus[i])) / (2 * eps);

    const grad = await read(
      withScope(() => {
        const xs = inputs.map((inp, i) => fromArray(gpu, inp.data, inp.shape, { requiresGrad: i === k }));
        const y = f(xs);
        backward(y, fromArray(gpu, w, y.shape), accumulateGrad);
        const g = xs[k].grad;
        if (!g) throw new Error(`${name}: no gradient reached input ${k}`);
        xs[k].grad = null;
        return g;
      }),
    );
    let analytic = 0;
    for (let j = 0; j < grad.length; j++) analytic += grad[j] * v[j];
    assertClose([analytic], [numeric], tol, `${name}: directional derivative w.r.t. input ${k}`);
  }
}
