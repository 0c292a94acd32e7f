// ReLU, ELU and leaky ReLU (forward and backward kernels) against float64 references, and their
// gradients by finite differences.
// Tolerances: ReLU is exact; leaky ReLU is one f32 product with the slope rounded to f32, ≤ 2·2⁻²⁴
// relative from the float64 reference → rel 2.5e-7. ELU uses exp, whose WGSL error bound is
// 3 + 2|x| ulp (|x| ≤ 4 here: ≤ 11 ulp of eˣ ≤ 1, so ≤ 7e-7 absolute in α(eˣ − 1); the polynomial
// branch near 0 is accurate to an ulp) → abs 1e-6 + rel 2e-6.

import { fromArray } from '../../src/tensor/create.ts';
import { activationReference as ref, elu, eluBackward, leakyRelu, leakyReluBackward, relu, reluBackward } from '../../src/tensor/ops/activation.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const EXACT = { abs: 0, rel: 2.5e-7 };
const ELU_TOL = { abs: 1e-6, rel: 2e-6 };

/** Values in [-4, 4) with exact zeros and tiny values (ELU's expm1 branch) mixed in. */
function inputs(n: number, seed: number): Float32Array {
  const x = randomArray(n, seed, -4, 4);
  for (let i = 0; i < n; i += 7) x[i] = 0;
  for (let i = 3; i < n; i += 11) x[i] = x[i] * 1e-3;
  return x;
}

/** Kept at least 0.1 away from 0, where ReLU and leaky ReLU are not differentiable. */
function awayFromZero(n: number, seed: number): Float32Array {
  return randomArray(n, seed).map((v) => Math.sign(v || 1) * (0.1 + Math.abs(v)));
}

interface Activation {
  name: string;
  forward: (x: Tensor) => Tensor;
  backward: (saved: Tensor, g: Tensor) => Tensor;
  /** Whether the backward kernel takes the forward output (else the input). */
  savesOutput: boolean;
  reference: (x: Float32Array) => Float64Array;
  referenceBackward: (x: Float32Array, g: Float32Array) => Float64Array;
  tol: { abs: number; rel: number };
}

const ACTIVATIONS: Activation[] = [
  { name: 'relu', forward: relu, backward: reluBackward, savesOutput: true, reference: ref.relu, referenceBackward: ref.reluBackward, tol: EXACT },
  {
    name: 'elu',
    forward: (x) => elu(x),
    backward: (y, g) => eluBackward(y, g),
    savesOutput: true,
    reference: (x) => ref.elu(x),
    referenceBackward: (x, g) => ref.eluBackward(x, g),
    tol: ELU_TOL,
  },
  {
    name: 'elu α=0.5',
    forward: (x) => elu(x, 0.5),
    backward: (y, g) => eluBackward(y, g, 0.5),
    savesOutput: true,
    reference: (x) => ref.elu(x, 0.5),
    referenceBackward: (x, g) => ref.eluBackward(x, g, 0.5),
    tol: ELU_TOL,
  },
  {
    name: 'leakyRelu',
    forward: (x) => leakyRelu(x),
    backward: (x, g) => leakyReluBackward(x, g),
    savesOutput: false,
    reference: (x) => ref.leakyRelu(x),
    referenceBackward: (x, g) => ref.leakyReluBackward(x, g),
    tol: EXACT,
  },
  {
    name: 'leakyRelu 0.2',
    forward: (x) => leakyRelu(x, 0.2),
    backward: (x, g) => leakyReluBackward(x, g, 0.2),
    savesOutput: false,
    reference: (x) => ref.leakyRelu(x, 0.2),
    referenceBackward: (x, g) => ref.leakyReluBackward(x, g, 0.2),
    tol: EXACT,
  },
];

// Not multiples of 256 (one thread each), a single element, and more than one workgroup.
const SHAPES: number[][] = [[1], [37, 13], [300, 7], [1000]];

export const activationCases: KernelCase[] = [];

for (const act of ACTIVATIONS) {
  for (const shape of SHAPES) {
    const n = shape.reduce((a, b) => a * b, 1);
    activationCases.push({
      name: `${act.name} forward and backward kernels ${shape.join('×')}`,
      async run(gpu) {
        const x = inputs(n, n + 3);
        const g = randomArray(n, n + 5);
        const [y, gx] = await Promise.all(
          withScope(() => {
            const xt = fromArray(gpu, x, shape);
            const yt = act.forward(xt);
            return [yt, act.backward(act.savesOutput ? yt : xt, fromArray(gpu, g, shape))];
          }).map(read),
        );
        assertClose(y, act.reference(x), act.tol, `${act.name}(x)`);
        // The derivative at exactly 0 is the left one (0 for ReLU, slope, α·e⁰ = α), as in PyTorch.
        assertClose(gx, act.referenceBackward(x, g), act.tol, `${act.name} backward`);
      },
    });
  }
  activationCases.push({
    name: `${act.name} gradient check`,
    async run(gpu) {
      await gradCheck(gpu, act.name, [{ data: awayFromZero(23 * 5, 9), shape: [23, 5] }], ([x]) => act.forward(x));
    },
  });
}

activationCases.push(
  {
    name: 'elu gradient check across 0 (continuously differentiable for α = 1)',
    async run(gpu) {
      const x = randomArray(64, 21, -0.05, 0.05);
      await gradCheck(gpu, 'elu', [{ data: x, shape: [64] }], ([t]) => elu(t), { eps: 1e-3 });
    },
  },
  {
    name: 'activation errors name the op',
    async run(gpu) {
      withScope(() => {
        assertThrows(() => elu(fromArray(gpu, new Float32Array(4), [4]), -1), /elu: alpha/, 'negative alpha');
        assertThrows(() => relu(fromArray(gpu, new Int32Array(4), [4])), /relu: expects f32/, 'i32 input');
        assertThrows(
          () => reluBackward(fromArray(gpu, new Float32Array(4), [4]), fromArray(gpu, new Float32Array(5), [5])),
          /reluBackward: gradient/,
          'size mismatch',
        );
      });
    },
  },
);
