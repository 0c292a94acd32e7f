// Temporal graph attention (TGN's embedding layer): forward and backward kernels against a float64
// reference for k = 1 and 10 neighbours, partly and fully masked targets, u32/i32/f32 masks, more
// targets than one workgroup, large scores; gradient checks; bad arguments.
// Tolerance: the scores are f32 dot products of d ≤ 8 terms of size ≤ 1 (error ≲ d·2⁻²⁴·Σ|q·k|/√d
// ≈ 2e-7 for d = 8), entering p through exp, whose own error is a few ulp; out and the gradients are
// p-weighted sums (Σp = 1) of terms ≤ 1 plus ds terms of the same size: |err| ≲ 1e-6 → TOL abs 1e-6 +
// rel 1e-5 (lavapipe measures ≤ 1e-7 at B = 200, d = 8 and 50).
// Large scores (q, k ×4, |s| up to ~45): the score error grows with Σ|q·k| (≈ 16·8·2⁻²⁴/√8 ≈ 3e-6
// absolute in s, hence relative in p) → LARGE_TOL abs 2e-5 + rel 2e-5 (measured ≤ 4e-7).

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import type { DType } from '../../src/tensor/tensor.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { temporalAttention, temporalAttentionReference } from '../../src/tensor/ops/temporal-attention.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { assertClose, assertThrows, gradCheck, randomArray, read, type KernelCase } from './harness.ts';

const TOL = { abs: 1e-6, rel: 1e-5 };
const LARGE_TOL = { abs: 2e-5, rel: 2e-5 };

interface Config {
  B: number;
  k: number;
  H: number;
  d: number;
  maskDtype: DType;
  /** Shape k and v as [B·k, H·d] instead of [B, k, H·d]. */
  flat?: boolean;
  /** Multiplies q and k (large scores). */
  amplitude?: number;
}

/** Each target keeps a random prefix-free subset of neighbours; targets 1 and every 5th from 3 have none. */
function makeMask(B: number, k: number, seed: number): number[] {
  const r = randomArray(B * k, seed);
  return Array.from(r, (x, i) => {
    const b = Math.floor(i / k);
    if (b === 1 || b % 5 === 3) return 0;
    return x > -0.4 ? 1 : 0;
  });
}

function maskArray(mask: number[], dtype: DType): Float32Array | Int32Array | Uint32Array {
  return dtype === 'f32' ? Float32Array.from(mask) : dtype === 'i32' ? Int32Array.from(mask) : Uint32Array.from(mask);
}

async function forwardBackward(gpu: Gpu, c: Config, q: Float32Array, k: Float32Array, v: Float32Array, mask: number[], g: Float32Array): Promise<Float32Array[]> {
  const HD = c.H * c.d;
  const kvShape = c.flat ? [c.B * c.k, HD] : [c.B, c.k, HD];
  return Promise.all(
    withScope(() => {
      const qt = fromArray(gpu, q, [c.B, HD], { requiresGrad: true });
      const kt = fromArray(gpu, k, kvShape, { requiresGrad: true });
      const vt = fromArray(gpu, v, kvShape, { requiresGrad: true });
      const y = temporalAttention(qt, kt, vt, fromArray(gpu, maskArray(mask, c.maskDtype), [c.B, c.k], { dtype: c.maskDtype }), c.H);
      backward(y, fromArray(gpu, g, y.shape), accumulateGrad);
      const grads = [qt.grad!, kt.grad!, vt.grad!];
      qt.grad = kt.grad = vt.grad = null;
      return [y, ...grads];
    }).map(read),
  );
}

export const temporalAttentionCases: KernelCase[] = [];

const CONFIGS: Config[] = [
  { B: 12, k: 10, H: 2, d: 4, maskDtype: 'u32' },
  { B: 9, k: 1, H: 2, d: 3, maskDtype: 'u32' },
  { B: 6, k: 10, H: 1, d: 8, maskDtype: 'f32' },
  { B: 8, k: 3, H: 3, d: 2, maskDtype: 'i32', flat: true },
  // 140 (target, head) threads: more than one workgroup of 64.
  { B: 70, k: 10, H: 2, d: 8, maskDtype: 'u32' },
  { B: 10, k: 10, H: 2, d: 8, maskDtype: 'f32', amplitude: 4 },
];

for (const c of CONFIGS) {
  const HD = c.H * c.d;
  temporalAttentionCases.push({
    name: `temporal-attention: forward and backward kernels B=${c.B} k=${c.k} H=${c.H} d=${c.d} ${c.maskDtype} mask${c.flat ? ', flat k/v' : ''}${c.amplitude ? `, scores ×${c.amplitude ** 2}` : ''}`,
    async run(gpu) {
      const a = c.amplitude ?? 1;
      const seed = c.B * 100 + c.k;
      const q = randomArray(c.B * HD, seed + 1).map((x) => x * a);
      const k = randomArray(c.B * c.k * HD, seed + 2).map((x) => x * a);
      const v = randomArray(c.B * c.k * HD, seed + 3);
      const g = randomArray(c.B * HD, seed + 4);
      const mask = makeMask(c.B, c.k, seed + 5);
      const [out, dq, dk, dv] = await forwardBackward(gpu, c, q, k, v, mask, g);
      const ref = temporalAttentionReference(q, k, v, mask, c.B, c.k, c.H, c.d, g);
      const tol = c.amplitude ? LARGE_TOL : TOL;
      assertClose(out, ref.out, tol, 'out');
      assertClose(dq, ref.dq, tol, 'dq');
      assertClose(dk, ref.dk, tol, 'dk');
      assertClose(dv, ref.dv, tol, 'dv');
      // Targets without a valid neighbour: exactly zero output and gradients (no NaN from 0/0).
      for (let b = 0; b < c.B; b++) {
        if (mask.slice(b * c.k, (b + 1) * c.k).some(Boolean)) continue;
        for (let x = 0; x < HD; x++) {
          if (out[b * HD + x] !== 0 || dq[b * HD + x] !== 0) throw new Error(`fully masked target ${b}: out ${out[b * HD + x]}, dq ${dq[b * HD + x]}`);
        }
      }
    },
  });
}

temporalAttentionCases.push(
  ...[1, 10].map((k) => ({
    name: `temporal-attention: gradient check w.r.t. q, k, v (k = ${k}, a fully masked target)`,
    async run(gpu: Gpu) {
      const [B, H, d] = [4, 2, 3];
      const HD = H * d;
      const mask = makeMask(B, k, 71 + k);
      await gradCheck(
        gpu,
        'temporalAttention',
        [
          { data: randomArray(B * HD, 72), shape: [B, HD] },
          { data: randomArray(B * k * HD, 73), shape: [B, k, HD] },
          { data: randomArray(B * k * HD, 74), shape: [B, k, HD] },
        ],
        ([q, kk, v]) => temporalAttention(q, kk, v, fromArray(gpu, Uint32Array.from(mask), [B, k]), H),
      );
    },
  })),
  {
    name: 'temporal-attention: bad arguments',
    async run(gpu) {
      withScope(() => {
        const f = (shape: number[]) => fromArray(gpu, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
        const mask = fromArray(gpu, new Uint32Array(6), [2, 3]);
        const q = f([2, 4]);
        const kv = f([2, 3, 4]);
        assertThrows(() => temporalAttention(q, kv, kv, mask, 3), /q .* must be \[B, H·d\] with H = 3/, 'heads do not divide');
        assertThrows(() => temporalAttention(q, kv, kv, mask, 0), /heads must be an integer ≥ 1/, 'zero heads');
        assertThrows(() => temporalAttention(q, f([2, 2, 4]), kv, mask, 2), /k .* must be \[2, 3, 4\]/, 'k neighbours');
        assertThrows(() => temporalAttention(q, kv, f([6, 5]), mask, 2), /v .* must be \[2, 3, 4\] \(or \[6, 4\]\)/, 'v width');
        assertThrows(() => temporalAttention(q, kv, kv, fromArray(gpu, new Uint32Array(3), [3, 1]), 2), /mask .* must be \[2, k\]/, 'mask rows');
        assertThrows(() => temporalAttention(fromArray(gpu, new Int32Array(8), [2, 4]), kv, kv, mask, 2), /q must be f32/, 'i32 q');
      });
    },
  },
);
