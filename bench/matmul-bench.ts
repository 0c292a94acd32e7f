// Dense f32 matmul C = A·B (M×K · K×N), webgnn's `matmul` against `tf.matMul`, same inputs, same
// adapter. Every repetition is timed to completion INCLUDING a readback of C in both runtimes
// (webgnn: gpu.read of the output; tfjs: await c.data()), so neither side is credited for work it
// merely queued. GFLOP/s = 2·M·N·K / time.

import type { Gpu } from '../src/gpu/gpu.ts';
import { randomFeatures } from '../src/graph/synthetic.ts';
import { fromArray } from '../src/tensor/create.ts';
import { matmul } from '../src/tensor/ops/matmul.ts';
import { withScope } from '../src/tensor/scope.ts';
import { median } from '../src/tensor/stats.ts';
import type { Tf } from './tfjs-webgpu.ts';

export interface MatmulBenchOptions {
  M?: number;
  N?: number;
  K?: number;
  warmup?: number;
  repetitions?: number;
  seed?: number;
}

export interface MatmulSide {
  /** Median of the timed repetitions. */
  ms: number;
  gflops: number;
  allMs: number[];
}

export interface MatmulBenchResult {
  M: number;
  N: number;
  K: number;
  timing: string;
  webgnn: MatmulSide;
  tfjs: MatmulSide | null;
  /** webgnn GFLOP/s ÷ tfjs GFLOP/s. */
  ratio: number | null;
  /** Largest |webgnn − tfjs| over C, and the largest |C| for scale. */
  maxAbsDiff: number | null;
  maxAbs: number;
  /** Largest |webgnn − float64 reference| over 256 sampled entries of C. */
  maxAbsErrSampled: number;
}

export const MATMUL_TIMING = 'each repetition: record, submit, wait and read C back (4·M·N bytes) — readback in both';

function side(times: number[], flop: number): MatmulSide {
  const ms = median(times);
  return { ms, gflops: flop / (ms * 1e6), allMs: times };
}

export async function benchMatmul(gpu: Gpu, tf: Tf | null, options: MatmulBenchOptions = {}): Promise<MatmulBenchResult> {
  const M = options.M ?? 1024;
  const N = options.N ?? 1024;
  const K = options.K ?? 1024;
  const warmup = options.warmup ?? 1;
  const repetitions = options.repetitions ?? 5;
  const seed = options.seed ?? 7;
  const flop = 2 * M * N * K;
  // Values in [-1, 1): both runtimes get exactly these bits.
  const aData = randomFeatures(M, K, seed).map((v) => 2 * v - 1);
  const bData = randomFeatures(K, N, seed + 1).map((v) => 2 * v - 1);

  const a = fromArray(gpu, aData, [M, K], { label: 'bench A' });
  const b = fromArray(gpu, bData, [K, N], { label: 'bench B' });
  let webgnnC: Float32Array = new Float32Array(0);
  const webgnnOnce = async () => {
    const c = withScope(() => matmul(a, b));
    webgnnC = new Float32Array(await gpu.read(c.buffer, 0, M * N * 4));
    c.dispose();
  };
  const ta = tf?.tensor2d(aData, [M, K]);
  const tb = tf?.tensor2d(bData, [K, N]);
  let tfC: Float32Array = new Float32Array(0);
  const tfOnce = async () => {
    const c = tf!.matMul(ta!, tb!);
    tfC = (await c.data()) as Float32Array;
    c.dispose();
  };
  // Warm-up (pipeline compilation, buffer pools), then the two runtimes alternate repetition by
  // repetition so that load from elsewhere on the machine falls on both alike.
  const webgnnTimes: number[] = [];
  const tfTimes: number[] = [];
  const timed = async (once: () => Promise<void>, into: number[] | null) => {
    const t0 = performance.now();
    await once();
    into?.push(performance.now() - t0);
  };
  for (let i = 0; i < warmup + repetitions; i++) {
    const keep = i >= warmup;
    await timed(webgnnOnce, keep ? webgnnTimes : null);
    if (tf) await timed(tfOnce, keep ? tfTimes : null);
  }
  a.dispose();
  b.dispose();
  ta?.dispose();
  tb?.dispose();

  const webgnn = side(webgnnTimes, flop);
  let maxAbs = 0;
  for (const v of webgnnC) maxAbs = Math.max(maxAbs, Math.abs(v));
  let maxAbsErrSampled = 0;
  for (let s = 0; s < 256; s++) {
    const m = (s * 7919) % M;
    const n = (s * 104729) % N;
    let ref = 0;
    for (let k = 0; k < K; k++) ref += aData[m * K + k] * bData[k * N + n];
    maxAbsErrSampled = Math.max(maxAbsErrSampled, Math.abs(webgnnC[m * N + n] - ref));
  }
  const common = { M, N, K, timing: MATMUL_TIMING, webgnn, maxAbs, maxAbsErrSampled };
  if (!tf) return { ...common, tfjs: null, ratio: null, maxAbsDiff: null };
  const tfjs = side(tfTimes, flop);
  let maxAbsDiff = 0;
  for (let i = 0; i < webgnnC.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(webgnnC[i] - tfC[i]));
  return { ...common, tfjs, ratio: webgnn.gflops / tfjs.gflops, maxAbsDiff };
}
