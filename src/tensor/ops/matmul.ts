// Dense matrix product with its backward (the two transposed products), and the float64 reference.

import source from '../../../shaders/matmul.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import { empty } from '../create.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

function dims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): { M: number; N: number; K: number } {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new RangeError(`matmul: expects 2-D tensors, got ${a} and ${b}`);
  }
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== Kb) throw new RangeError(`matmul: inner dimensions differ: ${a}${transA ? 'ᵀ' : ''} · ${b}${transB ? 'ᵀ' : ''}`);
  return { M, N, K };
}

/** Records C (=|+=) op(A)·op(B) into `out` without autograd. */
export interface MatmulIntoOptions extends MatmulOptions {
  accumulate?: boolean;
  /** 'main' (tiles in workgroup memory) or 'direct' (registers only); default by adapter kind. */
  strategy?: 'main' | 'direct';
}

export function matmulInto(a: Tensor, b: Tensor, out: Tensor, options: MatmulIntoOptions = {}): void {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const { M, N, K } = dims(a, b, transA, transB);
  if (out.rows !== M || out.cols !== N) throw new RangeError(`matmul: output ${out} is not ${M}×${N}`);
  const gpu: Gpu = a.gpu;
  // Narrow outputs (GNN hidden sizes) waste most of a 64-wide tile: use 16 columns × 256 rows instead.
  const narrow = N <= 16;
  const [wgX, wgY] = narrow ? [4, 64] : [16, 16];
  // Software adapters run workgroups on CPU cores, where staging tiles costs more than it saves.
  const strategy = options.strategy ?? (gpu.adapter.kind === 'hardware' ? 'main' : 'direct');
  const entryPoint = strategy === 'direct' && N % 4 === 0 && !transB ? 'direct_vec4' : strategy;
  const kernel = gpu.kernel({
    name: 'matmul',
    source,
    entryPoint,
    constants: { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0, WG_X: wgX, WG_Y: wgY },
  });
  const p = params().u32(M).u32(N).u32(K).u32(options.accumulate ? 1 : 0);
  gpu.dispatch(kernel, p, [a.buffer, b.buffer, out.buffer], [Math.ceil(N / (4 * wgX)), Math.ceil(M / (4 * wgY))]);
}

/** op(A)·op(B), differentiable in both arguments. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const { M, N } = dims(a, b, transA, transB);
  const out = empty(a.gpu, [M, N], 'f32', 'matmul');
  matmulInto(a, b, out, options);
  return record('matmul', [a, b], out, (g, needs) => [
    needs[0]
      ? transA
        ? matmul(b, g, { transA: transB, transB: true })
        : matmul(g, b, { transB: !transB })
      : null,
    needs[1]
      ? transB
        ? matmul(g, a, { transA: true, transB: transA })
        : matmul(a, g, { transA: !transA })
      : null,
  ]);
}

/** float64 reference of op(A)·op(B); A and B row-major as stored. */
export function matmulReference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const av = transA ? a[k * M + m] : a[m * K + k];
      if (av === 0) continue;
      for (let n = 0; n < N; n++) c[m * N + n] += av * (transB ? b[n * K + k] : b[k * N + n]);
    }
  }
  return c;
}
