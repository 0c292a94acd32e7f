// Printing the benchmark results and writing them to bench/results/latest.json (git-ignored).

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatBenchResult } from './gat-bench.ts';
import type { GcnBenchResult, GcnProfile } from './gcn-epoch-bench.ts';
import type { MatmulBenchResult } from './matmul-bench.ts';
import type { PipeBenchResult } from './pipe-bench.ts';
import type { SpmmBenchResult } from './spmm-bench.ts';

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

/** The targets: webgnn against TF.js WebGPU on the same adapter, SpMM against a plain copy. */
export const GOALS = {
  matmul: { text: '≥ 1.0× tfjs GFLOP/s', met: (ratio: number) => ratio >= 1.0 },
  gcn: { text: '≤ 0.5× tfjs epoch time', met: (ratio: number) => ratio <= 0.5 },
  // The SpMM target is relative to the device's own copy bandwidth (no TF.js counterpart).
  spmm: { text: '≥ 0.5× copy GB/s', met: (ratio: number) => ratio >= 0.5 },
  // Fused graph attention against the unfused path that materialises [E, H] tensors (issue 4).
  gatMemory: { text: '≤ 0.4× unfused peak bytes', met: (ratio: number) => ratio <= 0.4 },
  gatTime: { text: '≤ 1.0× unfused step time', met: (ratio: number) => ratio <= 1.0 },
} as const;

export interface Row {
  who: string;
  what: string;
  figure: string;
  ratio: string;
  goal: string;
  met: string;
}

export interface AdapterLine {
  runtime: string;
  description: string;
  detail: string;
}

/** Loose shape of bench/spmm-bench.ts's result (owned elsewhere; only these fields are printed). */
export interface BenchReport {
  startedAt: string;
  seconds: number;
  machine: { cpus: number; loadAverageStart: number[]; loadAverageEnd: number[]; node: string };
  adapters: AdapterLine[];
  matmul?: MatmulBenchResult | { skipped: string };
  gcn?: (GcnBenchResult & { profile: GcnProfile | null }) | { skipped: string };
  spmm?: SpmmBenchResult;
  gat?: GatBenchResult;
  /** Distributed sections (partition, transport, sar): their own row types, kept as measured. */
  [section: string]: unknown;
  rows: Row[];
}

const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const yesNo = (ok: boolean) => (ok ? 'yes' : 'NO');

export function machineInfo(): { cpus: number; load: number[]; node: string } {
  return { cpus: cpus().length, load: loadavg().map((v) => Math.round(v * 100) / 100), node: process.version };
}

export function printAdapters(adapters: AdapterLine[]): void {
  console.log('Adapters in use:');
  for (const a of adapters) console.log(`  ${a.runtime.padEnd(7)} ${a.description}  (${a.detail})`);
  const descriptions = new Set(adapters.map((a) => a.description));
  if (adapters.length > 1) {
    console.log(descriptions.size === 1 ? '  → same adapter for both runtimes' : '  → WARNING: the runtimes are on DIFFERENT adapters');
  }
}

export function matmulRows(r: MatmulBenchResult): Row[] {
  const what = `matmul ${r.M}×${r.K}·${r.K}×${r.N} f32`;
  const rows: Row[] = [{ who: 'webgnn', what, figure: `${f(r.webgnn.ms, 1)} ms, ${f(r.webgnn.gflops)} GFLOP/s`, ratio: '', goal: '', met: '' }];
  if (r.tfjs && r.ratio !== null) {
    rows.push({ who: 'tfjs', what, figure: `${f(r.tfjs.ms, 1)} ms, ${f(r.tfjs.gflops)} GFLOP/s`, ratio: '', goal: '', met: '' });
    rows.push({
      who: 'webgnn/tfjs',
      what: 'matmul GFLOP/s',
      figure: '',
      ratio: `${f(r.ratio)}×`,
      goal: GOALS.matmul.text,
      met: yesNo(GOALS.matmul.met(r.ratio)),
    });
  }
  return rows;
}

export function printMatmul(r: MatmulBenchResult): void {
  console.log(`\nMatmul ${r.M}×${r.K} · ${r.K}×${r.N} (f32), median of ${r.webgnn.allMs.length} repetitions; ${r.timing}`);
  console.log(`  webgnn ${f(r.webgnn.ms, 1)} ms  ${f(r.webgnn.gflops)} GFLOP/s   (all: ${r.webgnn.allMs.map((v) => f(v, 0)).join(', ')})`);
  if (r.tfjs) console.log(`  tfjs   ${f(r.tfjs.ms, 1)} ms  ${f(r.tfjs.gflops)} GFLOP/s   (all: ${r.tfjs.allMs.map((v) => f(v, 0)).join(', ')})`);
  if (r.maxAbsDiff !== null) console.log(`  agreement: max |webgnn − tfjs| = ${r.maxAbsDiff.toExponential(2)} (max |C| = ${f(r.maxAbs)})`);
  console.log(`  webgnn vs float64 reference (256 sampled entries): max abs error ${r.maxAbsErrSampled.toExponential(2)}`);
}

export function gcnRows(r: GcnBenchResult): Row[] {
  const what = `GCN epoch, ${r.dataset}`;
  const rows: Row[] = [{ who: 'webgnn', what, figure: `${f(r.webgnn.medianMs, 1)} ms/epoch`, ratio: '', goal: '', met: '' }];
  if (r.tfjs && r.ratio !== null) {
    rows.push({ who: 'tfjs', what, figure: `${f(r.tfjs.medianMs, 1)} ms/epoch`, ratio: '', goal: '', met: '' });
    rows.push({
      who: 'webgnn/tfjs',
      what: 'GCN epoch time',
      figure: '',
      ratio: `${f(r.ratio)}×`,
      goal: GOALS.gcn.text,
      met: yesNo(GOALS.gcn.met(r.ratio)),
    });
  }
  return rows;
}

export function printGcn(r: GcnBenchResult, profile: GcnProfile | null): void {
  console.log(
    `\nGCN epoch on ${r.dataset} (${r.numNodes} nodes, ${r.nnz} adjacency entries with self loops, ` +
      `${r.numFeatures} → ${r.hidden} → ${r.numClasses}), median of ${r.epochs} epochs after ${r.warmup} warm-up; ${r.timing}`,
  );
  const acc = (s: { final: { loss: number; trainAcc: number; valAcc: number; testAcc: number } }) =>
    `after ${r.warmup + r.epochs} epochs: loss ${f(s.final.loss, 3)}, train ${f(s.final.trainAcc, 3)}, val ${f(s.final.valAcc, 3)}, test ${f(s.final.testAcc, 3)}`;
  console.log(`  webgnn ${f(r.webgnn.medianMs, 1)} ms/epoch   ${acc(r.webgnn)}`);
  if (r.tfjs) console.log(`  tfjs   ${f(r.tfjs.medianMs, 1)} ms/epoch   ${acc(r.tfjs)}`);
  if (profile) {
    console.log(
      `  webgnn epoch by kernel (timestamp queries, ${profile.epochs} epochs; profiled wall ${f(profile.wallMsPerEpoch, 1)} ms/epoch, ` +
        `GPU ${f(profile.gpuMsPerEpoch, 1)} ms/epoch):`,
    );
    for (const k of profile.kernels.filter((k) => k.share >= 0.005)) {
      console.log(`    ${k.kernel.padEnd(28)} ${f(k.msPerEpoch, 1).padStart(7)} ms  ${f(100 * k.share, 1).padStart(5)}%  (${k.callsPerEpoch} calls)`);
    }
  }
}

export function spmmRows(r: SpmmBenchResult): Row[] {
  return [
    {
      who: 'webgnn',
      what: `spmm ${r.numRows} rows, nnz ${r.nnz}, F ${r.features}`,
      figure: `${f(r.spmmMs, 1)} ms, ${f(r.spmmGBs)} GB/s (copy ${f(r.copyGBs)} GB/s)`,
      ratio: `${f(r.ratio)}×`,
      goal: GOALS.spmm.text,
      met: yesNo(GOALS.spmm.met(r.ratio)),
    },
  ];
}

export function printSpmm(r: SpmmBenchResult): void {
  console.log(`\nSpMM Y = A·X, ${r.numRows} rows, nnz ${r.nnz}, F ${r.features} (bytes: ${r.bytesFormula})`);
  console.log(`  spmm ${f(r.spmmMs, 1)} ms, ${f(r.spmmGBs)} GB/s; copy of the same bytes ${f(r.copyGBs)} GB/s; ratio ${f(r.ratio, 3)}`);
}

export function gatRows(r: GatBenchResult): Row[] {
  const what = `GAT step, ${r.numEdges} edges, ${r.heads} heads`;
  return [
    { who: 'fused/unfused', what: `${what}: peak bytes`, figure: `${(r.fused.peakBytes / 2 ** 20).toFixed(1)} vs ${(r.unfused.peakBytes / 2 ** 20).toFixed(1)} MiB`, ratio: `${f(r.memoryRatio)}×`, goal: GOALS.gatMemory.text, met: yesNo(GOALS.gatMemory.met(r.memoryRatio)) },
    { who: 'fused/unfused', what: `${what}: time`, figure: `${f(r.fused.stepMs, 1)} vs ${f(r.unfused.stepMs, 1)} ms`, ratio: `${f(r.timeRatio)}×`, goal: GOALS.gatTime.text, met: yesNo(GOALS.gatTime.met(r.timeRatio)) },
  ];
}

/** GNNPipe beside SAR (issue 16): bytes ratio (goal ≥ 8× at 32 layers), accuracy (≥ 84 %, within 1 point), time, memory, ablation. */
export function pipeRows(r: PipeBenchResult): Row[] {
  const rows: Row[] = [];
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  for (const b of r.bytes ?? []) {
    rows.push({
      who: 'pipe/sar',
      what: `bytes/epoch, 4 workers, GCNII-${b.layers}, ${b.graph}`,
      figure: `${mib(b.pipeBytes)} vs ${mib(b.sarBytes)}`,
      ratio: `${f(b.ratio)}× less`,
      goal: b.layers === 32 ? '≥ 8× less' : '',
      met: b.layers === 32 ? yesNo(b.ratio >= 8) : '',
    });
  }
  if (r.accuracy) {
    const [pipe, sar] = r.accuracy.rows;
    rows.push({
      who: 'pipe/sar',
      what: `GCNII-16 Cora test % at best val, seeds ${pipe.seeds.join(',')}, ≤ ${r.accuracy.epochs} epochs (pipe ${pipe.workers} stages, sar ${sar.workers})`,
      figure: `${f(100 * pipe.meanTest)} vs ${f(100 * sar.meanTest)}`,
      ratio: `${r.accuracy.gap >= 0 ? '+' : ''}${f(100 * r.accuracy.gap)} points`,
      goal: '≥ 84, within 1 point',
      met: yesNo(pipe.meanTest >= 0.84 && Math.abs(r.accuracy.gap) <= 0.01),
    });
  }
  for (const t of r.time ?? []) {
    rows.push({
      who: t.mode,
      what: `GCNII-16 Cora epoch, ${t.workers} workers${t.recompute === null ? '' : `, recompute ${t.recompute ? 'on' : 'off'}`}: ms, max peak/worker`,
      figure: `${f(t.medianEpochMs, 0)} ms, ${mib(Math.max(...t.peakGpuBytes))}`,
      ratio: '',
      goal: '',
      met: '',
    });
  }
  if (r.ablation) {
    const all = r.ablation.rows.find((a) => a.tricks === 'all');
    for (const a of r.ablation.rows) {
      rows.push({
        who: 'pipe',
        what: `tricks ${a.tricks}, GCNII-${r.ablation.layers} Cora test % at best val, seeds ${a.seeds.join(',')}`,
        figure: f(100 * a.meanTest),
        ratio: all && a !== all ? `${a.meanTest >= all.meanTest ? '+' : ''}${f(100 * (a.meanTest - all.meanTest))} vs all` : '',
        goal: '',
        met: '',
      });
    }
  }
  return rows;
}

export function printTable(rows: Row[]): void {
  const header: Row = { who: 'who', what: 'what', figure: 'figure', ratio: 'ratio', goal: 'goal', met: 'met?' };
  const keys = Object.keys(header) as Array<keyof Row>;
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(...[header, ...rows].map((r) => r[k].length))])) as Record<keyof Row, number>;
  const line = (r: Row) => '| ' + keys.map((k) => r[k].padEnd(width[k])).join(' | ') + ' |';
  console.log('\n' + line(header));
  console.log('|' + keys.map((k) => '-'.repeat(width[k] + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

export function writeReport(report: BenchReport): string {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(report, null, 2) + '\n');
  return RESULTS_FILE;
}
