// SpMM micro-benchmark: Y = A·X on a power-law graph against a plain buffer copy of the same byte
// count on the same device. Run: node --import ./scripts/register.mjs bench/spmm-bench.ts
//   [--nodes N] [--edges E] [--features F] [--reps R] [--adapter lavapipe|swiftshader] [--no-subgroups]
//
// Effective bytes of one SpMM (the formula reported as `bytesFormula`):
//   nnz·(4 index + 4 value)  +  nnz·F·4 (one X row gathered per nonzero)  +  rows·F·4 (Y written).
// The copy moves a buffer of exactly that many bytes (copyBufferToBuffer), so
// ratio = spmmGBs / copyGBs = copy time / SpMM time. Repetitions alternate SpMM and copy and the
// medians are reported, so a busy machine disturbs both alike.

import { runSingleBench } from './args.ts';
import { pathToFileURL } from 'node:url';
import type { Gpu } from '../src/gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency } from '../src/graph/csr.ts';
import { powerLawGraph, randomFeatures } from '../src/graph/synthetic.ts';
import { fromArray } from '../src/tensor/create.ts';
import { spmm } from '../src/tensor/ops/spmm.ts';
import { SparseMatrix } from '../src/tensor/sparse-matrix.ts';
import { withScope } from '../src/tensor/scope.ts';
import { median } from '../src/tensor/stats.ts';

export interface SpmmBenchOptions {
  numNodes?: number;
  /** Edge-list entries; stored undirected, so nnz ≈ 2·numEdges (+ self loops). */
  numEdges?: number;
  features?: number;
  repetitions?: number;
  warmup?: number;
  seed?: number;
}

export interface SpmmBenchResult {
  numRows: number;
  nnz: number;
  features: number;
  maxDegree: number;
  /** Median time of one SpMM (record, submit, wait for the device). */
  spmmMs: number;
  spmmGBs: number;
  /** Median time of the copy of the same byte count. */
  copyMs: number;
  copyGBs: number;
  /** spmmGBs / copyGBs. */
  ratio: number;
  /** Fastest repetitions, and their ratio: less disturbed by other load on a shared machine. */
  spmmMinMs: number;
  copyMinMs: number;
  ratioOfMinimums: number;
  bytes: number;
  bytesFormula: string;
  repetitions: number;
  adapter: string;
  subgroups: boolean;
}

const BYTES_FORMULA = 'nnz·(4 index + 4 value) + nnz·F·4 gathered + rows·F·4 written';

async function timeOnce(gpu: Gpu, body: () => void): Promise<number> {
  const t0 = performance.now();
  body();
  await gpu.finish();
  return performance.now() - t0;
}

export async function benchSpmm(gpu: Gpu, options: SpmmBenchOptions = {}): Promise<SpmmBenchResult> {
  const numNodes = options.numNodes ?? 100_000;
  const numEdges = options.numEdges ?? 1_000_000;
  const F = options.features ?? 64;
  const repetitions = options.repetitions ?? 7;
  const warmup = options.warmup ?? 2;
  const seed = options.seed ?? 1;
  const { src, dst } = powerLawGraph({ numNodes, numEdges, seed });
  const csr = normalizedAdjacency(buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'add' }), 'gcn');
  let maxDegree = 0;
  for (let i = 0; i < csr.numRows; i++) maxDegree = Math.max(maxDegree, csr.rowPtr[i + 1] - csr.rowPtr[i]);
  const a = SparseMatrix.fromCsr(gpu, csr, 'bench');
  const x = fromArray(gpu, randomFeatures(numNodes, F, seed + 1), [numNodes, F], { label: 'x' });
  const nnz = a.nnz;
  const bytes = nnz * 8 + nnz * F * 4 + csr.numRows * F * 4;

  // The copy moves the same number of bytes, in chunks where one buffer that large is not allowed.
  const totalCopy = Math.ceil(bytes / 4) * 4;
  const chunk = Math.min(totalCopy, Math.floor(Number(gpu.device.limits.maxBufferSize) / 4) * 4, 256 * 1024 * 1024);
  const from = gpu.allocate(chunk, 'copy source');
  const to = gpu.allocate(chunk, 'copy target');
  const copy = () => {
    for (let done = 0; done < totalCopy; done += chunk) gpu.encoder.copy(from, 0, to, 0, Math.min(chunk, totalCopy - done));
  };
  const product = () => withScope(() => void spmm(a, x));

  // Alternate the two so both see the same machine conditions; report medians.
  const spmmTimes: number[] = [];
  const copyTimes: number[] = [];
  for (let i = 0; i < warmup + repetitions; i++) {
    const ts = await timeOnce(gpu, product);
    const tc = await timeOnce(gpu, copy);
    if (i >= warmup) {
      spmmTimes.push(ts);
      copyTimes.push(tc);
    }
  }
  gpu.release(from);
  gpu.release(to);
  x.dispose();
  a.dispose();
  gpu.pool.trim();

  const spmmMs = median(spmmTimes);
  const copyMs = median(copyTimes);
  const spmmGBs = bytes / 1e9 / (spmmMs / 1e3);
  const copyGBs = totalCopy / 1e9 / (copyMs / 1e3);
  return {
    numRows: csr.numRows,
    nnz,
    features: F,
    maxDegree,
    spmmMs,
    spmmGBs,
    copyMs,
    copyGBs,
    ratio: spmmGBs / copyGBs,
    spmmMinMs: Math.min(...spmmTimes),
    copyMinMs: Math.min(...copyTimes),
    ratioOfMinimums: (bytes / Math.min(...spmmTimes)) / (totalCopy / Math.min(...copyTimes)),
    bytes,
    bytesFormula: BYTES_FORMULA,
    repetitions,
    adapter: gpu.adapter.name,
    subgroups: gpu.hasSubgroups,
  };
}

function printSpmmRun(result: SpmmBenchResult): void {
  const f = (v: number, d = 2) => v.toFixed(d);
  console.log(
    `spmm on ${result.adapter} (subgroups ${result.subgroups ? 'on' : 'off'}): ${result.numRows} rows, nnz ${result.nnz}, ` +
      `F ${result.features}, max degree ${result.maxDegree}\n` +
      `  spmm ${f(result.spmmMs)} ms, ${f(result.spmmGBs)} GB/s effective (${result.bytesFormula} = ${(result.bytes / 1e6).toFixed(1)} MB)\n` +
      `  copy of the same bytes ${f(result.copyMs)} ms, ${f(result.copyGBs)} GB/s\n` +
      `  ratio ${f(result.ratio, 3)} (medians of ${result.repetitions} alternating runs; fastest runs: spmm ${f(result.spmmMinMs)} ms, ` +
      `copy ${f(result.copyMinMs)} ms, ratio ${f(result.ratioOfMinimums, 3)})`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSingleBench(
    process.argv.slice(2),
    (gpu, { number }) => benchSpmm(gpu, { numNodes: number('--nodes'), numEdges: number('--edges'), features: number('--features'), repetitions: number('--reps') }),
    printSpmmRun,
  );
}
