// SGD, Adam and AdamW: several in-place steps with a new gradient each step, against float64
// references written after PyTorch's formulas (parameters and optimizer state both compared).
// Tolerance: each step adds a few f32 roundings to values of magnitude ≤ ~2 (≤ ~2.4e-7 each); after
// 6 steps lavapipe is off by ≤ 4e-7. abs 1e-5 + rel 1e-5 leaves room for adapters whose sqrt and
// division are a few ulp off, and is still 30× below the smallest effect a wrong formula would have here
// (e.g. SGD's weight decay 5e-4·lr over 6 steps moves θ by ~3e-4).

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray, zeros } from '../../src/tensor/create.ts';
import { adamStep, adamwStep, optimizerReference, sgdStep, type AdamOptions, type SgdOptions } from '../../src/tensor/ops/optimizer.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertThrows, randomArray, read, type KernelCase } from './harness.ts';

const TOL = { abs: 1e-5, rel: 1e-5 };
const STEPS = 6;

function gradientAt(step: number, n: number): Float32Array {
  return randomArray(n, 1000 + step, -1, 1);
}

async function compare(what: string, tensors: Tensor[], refs: Float64Array[]): Promise<void> {
  for (let k = 0; k < tensors.length; k++) assertClose(await read(tensors[k]), refs[k], TOL, `${what} [${k}]`);
}

async function runSgd(gpu: Gpu, n: number, options: SgdOptions): Promise<void> {
  const p0 = randomArray(n, n, -2, 2);
  const refParam = Float64Array.from(p0);
  const refBuf = new Float64Array(n);
  const momentum = (options.momentum ?? 0) !== 0;
  const [param, buf] = withScope(() => [fromArray(gpu, p0, [n]), zeros(gpu, [n])]);
  for (let t = 1; t <= STEPS; t++) {
    const g = gradientAt(t, n);
    withScope(() => sgdStep(param, fromArray(gpu, g, [n]), t, options, momentum ? buf : null));
    optimizerReference.sgd(refParam, g, t, options, momentum ? refBuf : null);
  }
  await compare('sgd', momentum ? [param, buf] : [param], momentum ? [refParam, refBuf] : [refParam]);
  param.dispose();
  buf.dispose();
}

async function runAdam(gpu: Gpu, n: number, options: AdamOptions, decoupled: boolean): Promise<void> {
  const p0 = randomArray(n, n + 1, -2, 2);
  const ref = { param: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
  const [param, m, v] = withScope(() => [fromArray(gpu, p0, [n]), zeros(gpu, [n]), zeros(gpu, [n])]);
  for (let t = 1; t <= STEPS; t++) {
    // A gradient that shrinks over the steps exercises the bias corrections and ε.
    const g = gradientAt(t, n).map((x) => x / t);
    withScope(() => (decoupled ? adamwStep : adamStep)(param, fromArray(gpu, g, [n]), m, v, t, options));
    optimizerReference.adam(ref.param, g, ref.m, ref.v, t, options, decoupled);
  }
  await compare(decoupled ? 'adamw' : 'adam', [param, m, v], [ref.param, ref.m, ref.v]);
  for (const t of [param, m, v]) t.dispose();
}

export const optimizerCases: KernelCase[] = [];

const SGD_VARIANTS: Array<[string, SgdOptions]> = [
  ['plain', { lr: 0.1 }],
  ['weight decay', { lr: 0.05, weightDecay: 5e-4 }],
  ['momentum', { lr: 0.05, momentum: 0.9 }],
  ['momentum, dampening, weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2 }],
  ['nesterov', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }],
];

// Sizes: one element, not a multiple of 256, and several workgroups.
for (const n of [1, 1037]) {
  for (const [name, options] of SGD_VARIANTS) {
    optimizerCases.push({ name: `sgd ${name}, ${STEPS} steps, n=${n}`, run: (gpu) => runSgd(gpu, n, options) });
  }
  const adamVariants: Array<[string, AdamOptions, boolean]> = [
    ['adam', { lr: 0.01 }, false],
    ['adam with L2 weight decay', { lr: 0.01, weightDecay: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6 }, false],
    ['adamw', { lr: 0.01 }, true],
    ['adamw strong decay', { lr: 0.05, weightDecay: 0.1, beta2: 0.95 }, true],
  ];
  for (const [name, options, decoupled] of adamVariants) {
    optimizerCases.push({ name: `${name}, ${STEPS} steps, n=${n}`, run: (gpu) => runAdam(gpu, n, options, decoupled) });
  }
}

optimizerCases.push({
  name: 'optimizer steps reject bad arguments',
  async run(gpu) {
    withScope(() => {
      const p = fromArray(gpu, new Float32Array(4), [4]);
      const g = fromArray(gpu, new Float32Array(4), [4]);
      const short = fromArray(gpu, new Float32Array(3), [3]);
      assertThrows(() => sgdStep(p, short, 1, { lr: 0.1 }), /sgdStep: .* does not match the parameter/, 'grad size');
      assertThrows(() => sgdStep(p, g, 1, { lr: 0.1, momentum: 0.9 }), /sgdStep: momentum 0.9 needs a momentum buffer/, 'missing buffer');
      assertThrows(() => sgdStep(p, g, 1, { lr: 0.1, nesterov: true }), /Nesterov momentum requires/, 'nesterov without momentum');
      assertThrows(() => adamStep(p, g, p, g, 0, { lr: 0.1 }), /adamStep: step must be an integer ≥ 1/, 'step 0');
      assertThrows(() => adamwStep(p, g, short, g, 1, { lr: 0.1 }), /adamwStep: .* does not match/, 'state size');
    });
  },
});
