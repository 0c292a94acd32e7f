// Fused graph attention (gatAttention: no per-edge tensors) against the unfused reference path
// (gatAttentionUnfused: e, α, α̃ materialised as [E, H] tensors), one training step each on a synthetic
// power-law graph. Run: node --import ./scripts/register.mjs bench/gat-bench.ts
//   [--nodes N] [--edges E] [--heads H] [--head-features F] [--in-features D] [--dropout P] [--reps R]
//   [--adapter lavapipe|swiftshader] [--no-subgroups]
//
// Step = forward of the attention on z = x·W (computed once, outside the step, then a leaf that needs a
// gradient) + backward of loss = Σ out w.r.t. z, aSrc and aDst. Memory: each path is measured fresh
// (free buffers trimmed, gpu.pool.resetPeak()); peak = gpu.pool.peakAllocatedBytes − allocatedBytes
// before the step (so the graph, x, W, z, aSrc, aDst and the ones seed are excluded). Time: median of
// R steps after one warm-up, each ended with `await gpu.finish()`. Goals: fused/unfused memory ≤ 0.4,
// time ≤ 1.0.

import { runSingleBench } from './args.ts';
import { pathToFileURL } from 'node:url';
import type { Gpu } from '../src/gpu/gpu.ts';
import { buildAdjacency } from '../src/graph/csr.ts';
import { powerLawGraph, randomFeatures } from '../src/graph/synthetic.ts';
import { fromArray } from '../src/tensor/create.ts';
import { GraphCsr } from '../src/tensor/graph-csr.ts';
import { accumulateGrad, ones } from '../src/tensor/ops/elementwise.ts';
import { gatAttention, type GatAttentionOptions } from '../src/tensor/ops/gat-attention.ts';
import { gatAttentionUnfused } from '../src/tensor/ops/gat-unfused.ts';
import { matmul } from '../src/tensor/ops/matmul.ts';
import { withScope } from '../src/tensor/scope.ts';
import { median } from '../src/tensor/stats.ts';
import { backward, noGrad } from '../src/tensor/tape.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { randomArray } from '../test/cases/harness.ts';

export interface GatBenchOptions {
  numNodes?: number;
  /** Edge-list entries; stored undirected with self loops, so E ≈ 2·numEdges + numNodes. */
  numEdges?: number;
  heads?: number;
  headFeatures?: number;
  inFeatures?: number;
  dropout?: number;
  repetitions?: number;
  seed?: number;
}

export interface GatPathResult {
  /** Peak bytes allocated during one step above what was allocated before it. */
  peakBytes: number;
  stepMs: number;
  stepMinMs: number;
}

export interface GatBenchResult {
  numNodes: number;
  numEdges: number;
  heads: number;
  headFeatures: number;
  inFeatures: number;
  dropout: number;
  maxInDegree: number;
  /** Bytes of one [E, H] f32 tensor, and the device's per-binding limit. */
  edgeTensorBytes: number;
  maxStorageBinding: number;
  fused: GatPathResult;
  unfused: GatPathResult;
  memoryRatio: number;
  timeRatio: number;
  repetitions: number;
  adapter: string;
  subgroups: boolean;
}

type Attention = typeof gatAttention;

export async function benchGat(gpu: Gpu, options: GatBenchOptions = {}): Promise<GatBenchResult> {
  const numNodes = options.numNodes ?? 200_000;
  const numEdgeEntries = options.numEdges ?? 1_100_000;
  const H = options.heads ?? 8;
  const F = options.headFeatures ?? 8;
  const D = options.inFeatures ?? 64;
  const p = options.dropout ?? 0.6;
  const repetitions = options.repetitions ?? 5;
  const seed = options.seed ?? 1;
  const HF = H * F;

  const { src, dst } = powerLawGraph({ numNodes, numEdges: numEdgeEntries, seed });
  const csr = buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'add' });
  const graph = GraphCsr.fromCsr(gpu, csr, 'gat bench');
  const E = graph.numEdges;
  const edgeTensorBytes = E * H * 4;
  if (edgeTensorBytes > gpu.maxStorageBinding) {
    throw new RangeError(`gat bench: an [E, H] tensor is ${edgeTensorBytes} bytes, over this device's storage binding limit (${gpu.maxStorageBinding}); use fewer edges`);
  }
  if (numNodes * Math.max(D, HF) * 4 > gpu.maxStorageBinding) {
    throw new RangeError(`gat bench: node features of ${numNodes} × ${Math.max(D, HF)} f32 exceed the storage binding limit (${gpu.maxStorageBinding})`);
  }

  // z = x·W with a random W (scaled so z has unit-order entries), then a leaf of the step.
  const x = fromArray(gpu, randomFeatures(numNodes, D, seed + 1), [numNodes, D], { label: 'x' });
  const w = fromArray(gpu, randomArray(D * HF, seed + 2, -1 / Math.sqrt(D), 1 / Math.sqrt(D)), [D, HF], { label: 'W' });
  const z = noGrad(gpu, () => matmul(x, w));
  z.requiresGrad = true;
  const aSrc = fromArray(gpu, randomArray(HF, seed + 3, -0.5, 0.5), [H, F], { label: 'aSrc', requiresGrad: true });
  const aDst = fromArray(gpu, randomArray(HF, seed + 4, -0.5, 0.5), [H, F], { label: 'aDst', requiresGrad: true });
  const seedGrad = ones(gpu, [numNodes, HF]);
  await gpu.finish();

  const attention: GatAttentionOptions = { heads: H, dropout: p, seed: 7, step: 0 };
  const step = (op: Attention, stepIndex: number): void => {
    withScope(() => {
      const out = op(graph, z, aSrc, aDst, { ...attention, step: stepIndex });
      backward(out, seedGrad, accumulateGrad);
    });
    for (const t of [z, aSrc, aDst] as Tensor[]) {
      t.grad?.dispose();
      t.grad = null;
    }
  };

  const measure = async (op: Attention): Promise<GatPathResult> => {
    // Fresh: no cached free buffers, so every buffer the step needs is created and counted.
    gpu.pool.trim();
    gpu.pool.resetPeak();
    const before = gpu.pool.allocatedBytes;
    step(op, 0);
    await gpu.finish();
    const peakBytes = gpu.pool.peakAllocatedBytes - before;
    const times: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      const t0 = performance.now();
      step(op, i + 1);
      await gpu.finish();
      times.push(performance.now() - t0);
    }
    gpu.pool.trim();
    return { peakBytes, stepMs: median(times), stepMinMs: Math.min(...times) };
  };

  const fused = await measure(gatAttention);
  const unfused = await measure(gatAttentionUnfused);

  for (const t of [x, w, z, aSrc, aDst, seedGrad]) t.dispose();
  graph.dispose();
  gpu.pool.trim();
  return {
    numNodes,
    numEdges: E,
    heads: H,
    headFeatures: F,
    inFeatures: D,
    dropout: p,
    maxInDegree: graph.maxInDegree,
    edgeTensorBytes,
    maxStorageBinding: gpu.maxStorageBinding,
    fused,
    unfused,
    memoryRatio: fused.peakBytes / unfused.peakBytes,
    timeRatio: fused.stepMs / unfused.stepMs,
    repetitions,
    adapter: gpu.adapter.name,
    subgroups: gpu.hasSubgroups,
  };
}

/** Prints one result (here, not in report.ts: report.ts imports this file's types, so the arrow points one way). */
export function printGat(r: GatBenchResult): void {
  const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  console.log(
    `\nGAT attention training step on ${r.adapter} (subgroups ${r.subgroups ? 'on' : 'off'}): ${r.numNodes} nodes, ${r.numEdges} edges ` +
      `(undirected + self loops, max in-degree ${r.maxInDegree}), ${r.heads} heads × ${r.headFeatures} features, z = x·W from ${r.inFeatures}, ` +
      `attention dropout ${r.dropout}; one [E, H] f32 tensor = ${mib(r.edgeTensorBytes)} MiB (binding limit ${mib(r.maxStorageBinding)} MiB)\n` +
      `  fused:   peak ${mib(r.fused.peakBytes)} MiB, step ${f(r.fused.stepMs, 1)} ms (min ${f(r.fused.stepMinMs, 1)})\n` +
      `  unfused: peak ${mib(r.unfused.peakBytes)} MiB, step ${f(r.unfused.stepMs, 1)} ms (min ${f(r.unfused.stepMinMs, 1)})\n` +
      `  fused/unfused: memory ${f(r.memoryRatio, 3)}, time ${f(r.timeRatio, 3)}; medians of ${r.repetitions} steps`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSingleBench(
    process.argv.slice(2),
    (gpu, { number }) =>
      benchGat(gpu, {
        numNodes: number('--nodes'),
        numEdges: number('--edges'),
        heads: number('--heads'),
        headFeatures: number('--head-features'),
        inFeatures: number('--in-features'),
        dropout: number('--dropout'),
        repetitions: number('--reps'),
      }),
    printGat,
  );
}
