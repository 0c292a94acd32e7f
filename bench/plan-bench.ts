// The cost model against measurement and against the papers' tables, in one run:
//  1. this machine: `webgnn profile` first (the plan's rates come from it), then SAR with 1, 2, 4, 8 workers
//     on Cora (GCN) and on the 200k-node community graph (3-layer GraphSAGE, as bench/sar-bench.ts), a
//     4-stage pipe (GCNII-16 on Cora) and TGN / DistTGL on CollegeMsg's first 6,000 events, each measured by
//     the engine and predicted by the plan: peak bytes per worker, bytes sent per epoch, epoch time;
//  2. the papers: SAR's 3-layer GraphSAGE (hidden 256) on ogbn-papers100M on 32/64/128 machines and
//     GNNPipe's GCNII-32 on Reddit with 8 GPUs, their hardware as published profiles;
//  3. projections: ogbn-papers100M on 64 … 1024 browser tabs, and the largest graph 8 and 64 tabs of 4 GiB train.
// Run: node --import ./scripts/register.mjs bench/plan-bench.ts [--skip-200k] [--json out.json]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadNodeDataset } from '../src/graph/node-dataset.ts';
import { splitEvents } from '../src/graph/temporal-split.ts';
import { parseParallel, type ParallelLayout } from '../src/engines/temporal/parallel-layout.ts';
import { resolveDatasetSource } from '../src/node/dataset-source.ts';
import { loadProfile } from '../src/node/plan-command.ts';
import { loadStreamPrefix } from '../src/node/temporal-workload.ts';
import { parseDeviceProfileText, type DeviceProfile } from '../src/plan/device-profile.ts';
import { largestFitting } from '../src/plan/largest-fitting.ts';
import { planGraph, planTemporal, type Cluster, type GraphPlanRequest } from '../src/plan/plan.ts';
import type { PlanRow } from '../src/plan/plan-types.ts';
import { EVENT_PRESETS, GRAPH_PRESETS } from '../src/plan/presets.ts';
import { TEMPORAL_DEFAULTS, tgnEpochSeconds } from '../src/plan/temporal-cost.ts';
import { eventWorkloadOf, graphWorkloadOf, type EventWorkload, type GraphWorkload } from '../src/plan/workload.ts';
import { benchArgs } from './args.ts';
import { communityDataset, runSarBench } from './sar-bench.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const GiB = 2 ** 30;

export interface ValidationRow {
  config: string;
  measured: { peakBytes: number; bytesSent: number; epochSeconds: number };
  predicted: { peakBytes: number; bytesSent: number; epochSeconds: number };
}

export interface PaperRow {
  config: string;
  quantity: string;
  published: string;
  predicted: string;
  ratio: number;
  note: string;
}

export interface PlanBenchResult {
  profile: string;
  validation: ValidationRow[];
  papers: PaperRow[];
  projection: Array<{ profile: string; workers: number; peakBytes: number; bytesSent: number; epochSeconds: number; fits: boolean }>;
  largest: Array<{ mode: string; model: string; tabs: number; nodes: number; nnz: number }>;
}

function cli(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/webgnn.mjs'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 1_200_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`webgnn ${args.join(' ')} failed (${r.status}): ${r.stderr.split('\n').slice(-4).join(' | ')}`);
  return JSON.parse(line);
}

const max = (xs: number[]) => Math.max(...xs);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function predictedOf(row: PlanRow): ValidationRow['predicted'] {
  return { peakBytes: row.peak_bytes_per_worker, bytesSent: mean(row.per_worker.map((w) => w.bytes_sent_per_epoch)), epochSeconds: row.epoch_s };
}

async function validateHere(profile: DeviceProfile, log: (s: string) => void, skip200k: boolean): Promise<ValidationRow[]> {
  const rows: ValidationRow[] = [];
  const cluster: Cluster = { device: profile, link: profile.links.local, linkName: 'local', colocated: profile.device.shared_processor };
  const cora = graphWorkloadOf(await loadNodeDataset(resolveDatasetSource('cora')));
  for (const workers of [1, 2, 4, 8]) {
    const m = cli(['train', '--mode', 'sar', '--workers', String(workers), '--epochs', '6', '--patience', '0', '--json', '--no-progress']) as { peak_gpu_bytes_per_worker: number[]; bytes_sent_per_worker_per_epoch: number[]; epoch_ms_median: number };
    const [p] = planGraph({ graph: cora, model: { kind: 'gcn', layers: 2, hidden: 16, heads: 1, dropout: 0.5 }, mode: 'sar', workers: [workers], cluster }).rows;
    rows.push({ config: `SAR GCN Cora N=${workers}`, measured: { peakBytes: max(m.peak_gpu_bytes_per_worker), bytesSent: mean(m.bytes_sent_per_worker_per_epoch), epochSeconds: m.epoch_ms_median / 1000 }, predicted: predictedOf(p) });
    log(`measured ${rows.at(-1)!.config}`);
  }
  if (!skip200k) {
    const options = { nodes: 200_000, edges: 3_800_000, features: 128, hidden: 128, layers: 3, workers: [1, 2, 4, 8], epochs: 2, remats: [true], log };
    const measured = await runSarBench(options);
    const graph: GraphWorkload = graphWorkloadOf(communityDataset(options.nodes, options.edges, options.features));
    for (const m of measured) {
      const [p] = planGraph({ graph, model: { kind: 'sage', layers: 3, hidden: 128, heads: 1, dropout: 0.5 }, mode: 'sar', workers: [m.workers], cluster }).rows;
      rows.push({ config: `SAR SAGE-3 200k-node graph N=${m.workers}`, measured: { peakBytes: m.peakBytesPerWorker, bytesSent: m.bytesSentPerWorker, epochSeconds: m.epochSeconds }, predicted: predictedOf(p) });
    }
  }
  {
    const m = cli(['train', '--mode', 'pipe', '--workers', '4', '--model', 'gcnii', '--epochs', '4', '--patience', '0', '--json', '--no-progress']) as { peak_gpu_bytes_per_worker: number[]; bytes_sent_per_worker_per_epoch: number[]; epoch_ms_median: number; pipe: { stageBlocks: Array<[number, number]> } };
    const stages = m.pipe.stageBlocks;
    const [p] = planGraph({ graph: cora, model: { kind: 'gcnii', layers: 16, hidden: 64, heads: 1, dropout: 0.6 }, mode: 'pipe', workers: [4], cluster, pipe: { stages } }).rows;
    rows.push({ config: 'pipe GCNII-16 Cora, 4 stages', measured: { peakBytes: max(m.peak_gpu_bytes_per_worker), bytesSent: mean(m.bytes_sent_per_worker_per_epoch), epochSeconds: m.epoch_ms_median / 1000 }, predicted: predictedOf(p) });
    log(`measured ${rows.at(-1)!.config}`);
  }
  const stream = await loadStreamPrefix('collegemsg', 6000);
  const workload = eventWorkloadOf(stream, splitEvents(stream, { seed: 0 }));
  for (const [workers, parallel] of [[1, 'memory'], [2, 'memory'], [2, 'epoch'], [2, 'batch']] as const) {
    const m = cli(['train-temporal', '--events', '6000', '--epochs', '2', '--patience', '0', '--workers', String(workers), ...(workers > 1 ? ['--parallel', parallel] : []), '--json', '--no-progress']) as {
      peak_gpu_bytes_per_worker: number[];
      bytes_sent_per_trainer_per_epoch?: number[];
      events_per_s: number;
      train_events: number;
    };
    const layout = parseParallel(parallel, workers);
    const [p] = planTemporal({ stream: workload, workers: [workers], cluster, options: TEMPORAL_DEFAULTS, layouts: [layout] }).rows;
    // The engine reports training throughput: compare the training part of an epoch.
    const trainSeconds = m.train_events / m.events_per_s;
    rows.push({
      config: `TGN CollegeMsg 6k events, ${workers === 1 ? 'one trainer' : `DistTGL ${parallel} N=${workers}`}`,
      measured: { peakBytes: max(m.peak_gpu_bytes_per_worker), bytesSent: m.bytes_sent_per_trainer_per_epoch ? mean(m.bytes_sent_per_trainer_per_epoch) : 0, epochSeconds: trainSeconds },
      predicted: { ...predictedOf(p), epochSeconds: p.epoch_s * trainShare(workload, cluster, layout) },
    });
    log(`measured ${rows.at(-1)!.config}`);
  }
  return rows;
}

/** The share of a TGN epoch's predicted compute that is training, as the plan splits it. */
function trainShare(stream: EventWorkload, cluster: Cluster, layout: ParallelLayout): number {
  const { training, evaluation } = tgnEpochSeconds(stream, cluster.device.device, TEMPORAL_DEFAULTS, layout);
  return training / (training + evaluation);
}

const fmtGB = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

function papers(log: (s: string) => void): PaperRow[] {
  const rows: PaperRow[] = [];
  const xeon = loadProfile('xeon-icelake-2s-hdr');
  const sar: GraphPlanRequest = {
    graph: { ...GRAPH_PRESETS['ogbn-papers100M'] },
    model: { kind: 'sage', layers: 3, hidden: 256, heads: 1, dropout: 0.5 },
    mode: 'sar',
    workers: [32, 64, 128],
    cluster: { device: xeon, link: xeon.links['infiniband-hdr'], linkName: 'infiniband-hdr' },
  };
  const published = { 32: [95, 7.4], 64: [47, 5.1], 128: [25, 3.8] } as Record<number, [number, number]>;
  for (const r of planGraph(sar).rows) {
    const [gb, s] = published[r.workers];
    rows.push({ config: `SAR SAGE-3 h256 ogbn-papers100M, ${r.workers} machines`, quantity: 'memory per machine', published: `${gb} GB`, predicted: fmtGB(r.peak_bytes_per_worker), ratio: r.peak_bytes_per_worker / (gb * 1e9), note: `activations ${fmtGB(r.memory.activations)}; no batch norm in our SAGE (SAR's has it)` });
    rows.push({ config: `SAR SAGE-3 h256 ogbn-papers100M, ${r.workers} machines`, quantity: 'epoch time', published: `${s} s`, predicted: `${r.epoch_s.toFixed(2)} s`, ratio: r.epoch_s / s, note: `compute ${r.compute_s.toFixed(2)} s, communication ${r.communication_s.toFixed(2)} s (${r.partition.replace(/ \(.*$/, '')})` });
  }
  const a5000 = loadProfile('nvidia-rtx-a5000');
  const reddit: GraphPlanRequest = {
    graph: { ...GRAPH_PRESETS.reddit },
    model: { kind: 'gcnii', layers: 32, hidden: 100, heads: 1, dropout: 0.5 },
    mode: 'pipe',
    workers: [8],
    cluster: { device: a5000, link: a5000.links['pcie-nccl'], linkName: 'pcie-nccl' },
    // GNNPipe evaluates every 50 epochs: its per-epoch figures are training epochs.
    pipe: { evalEvery: 50 },
  };
  const [pipe] = planGraph(reddit).rows;
  const [graphParallel] = planGraph({ ...reddit, mode: 'sar', remat: false, evaluate: false }).rows;
  const totalSent = (r: PlanRow) => r.per_worker.reduce((s, w) => s + w.bytes_sent_per_epoch, 0);
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, pipelined', quantity: 'communication per epoch', published: '2.43 GB', predicted: `${(totalSent(pipe) / GiB).toFixed(2)} GiB`, ratio: totalSent(pipe) / GiB / 2.43, note: 'Mithril logs GiB; 2·(P−1)·|V|·2h·4 bytes ([H ‖ h0] between stages)' });
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, graph-parallel', quantity: 'communication per epoch', published: '14.50 GB', predicted: `${(totalSent(graphParallel) / GiB).toFixed(2)} GiB`, ratio: totalSent(graphParallel) / GiB / 14.5, note: graphParallel.partition.replace(/ \(.*$/, '') });
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, pipelined', quantity: 'memory per GPU', published: '6.3 GB', predicted: `${(pipe.peak_bytes_per_worker / GiB).toFixed(2)} GiB`, ratio: pipe.peak_bytes_per_worker / GiB / 6.3, note: 'whole-graph structure, history and features on stage 0' });
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, graph-parallel', quantity: 'memory per GPU', published: '16.5 GB', predicted: `${(graphParallel.peak_bytes_per_worker / GiB).toFixed(2)} GiB`, ratio: graphParallel.peak_bytes_per_worker / GiB / 16.5, note: 'our keep-every-halo baseline' });
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, pipelined', quantity: 'epoch time', published: '0.415 s', predicted: `${pipe.epoch_s.toFixed(3)} s`, ratio: pipe.epoch_s / 0.415, note: `compute ${pipe.compute_s.toFixed(3)} s` });
  rows.push({ config: 'GNNPipe GCNII-32 h100 Reddit, 8 GPUs, graph-parallel', quantity: 'epoch time', published: '0.902 s', predicted: `${graphParallel.epoch_s.toFixed(3)} s`, ratio: graphParallel.epoch_s / 0.902, note: `compute ${graphParallel.compute_s.toFixed(3)} s, communication ${graphParallel.communication_s.toFixed(3)} s` });
  for (const r of rows) log(`${r.config}: ${r.quantity} published ${r.published}, predicted ${r.predicted} (${r.ratio.toFixed(2)}×)`);
  return rows;
}

/** Tabs of a device profile with `memory` each, all linked by the laptop profile's stated home-network
 * WebRTC link (100 Mbit/s, 10 ms), so that projections of different devices differ by the device alone. */
function tabCluster(name: string, memory: number): Cluster {
  const device = loadProfile(name);
  device.device = { ...device.device, memory_bytes: memory };
  return { device, link: loadProfile('nvidia-rtx-3060-laptop').links.webrtc, linkName: 'webrtc (home network, stated)' };
}

function projection(): PlanBenchResult['projection'] {
  const out: PlanBenchResult['projection'] = [];
  for (const name of ['nvidia-rtx-3060-laptop', 'browser-tab-swiftshader']) {
    const rows = planGraph({ graph: { ...GRAPH_PRESETS['ogbn-papers100M'] }, model: { kind: 'sage', layers: 3, hidden: 256, heads: 1, dropout: 0.5 }, mode: 'sar', workers: [64, 128, 256, 512, 1024], cluster: tabCluster(name, 4 * GiB) }).rows;
    for (const r of rows) out.push({ profile: name, workers: r.workers, peakBytes: r.peak_bytes_per_worker, bytesSent: r.bytes_sent_per_worker_per_epoch, epochSeconds: r.epoch_s, fits: r.fits });
  }
  return out;
}

function largest(): PlanBenchResult['largest'] {
  const out: PlanBenchResult['largest'] = [];
  const cluster = tabCluster('nvidia-rtx-3060-laptop', 4 * GiB);
  const graph = { ...GRAPH_PRESETS['ogbn-papers100M'] };
  const configs: Array<[string, GraphPlanRequest['model'], GraphPlanRequest['mode']]> = [
    ['SAGE-3 h256', { kind: 'sage', layers: 3, hidden: 256, heads: 1, dropout: 0.5 }, 'sar'],
    ['GCNII-64 h64', { kind: 'gcnii', layers: 64, hidden: 64, heads: 1, dropout: 0.5 }, 'sar'],
    ['GCNII-64 h64', { kind: 'gcnii', layers: 64, hidden: 64, heads: 1, dropout: 0.5 }, 'pipe'],
  ];
  for (const tabs of [8, 64]) {
    for (const [model, spec, mode] of configs) {
      const fit = largestFitting({ graph, model: spec, mode, workers: [tabs], cluster }, tabs);
      out.push({ mode, model, tabs, nodes: fit.nodes, nnz: fit.nnz });
    }
    // TGN: every trainer holds the whole node memory (memory parallelism), so the node count that fits does not grow with tabs.
    let lo = 1;
    let hi = 1e12;
    for (let i = 0; i < 80 && hi / lo > 1.001; i++) {
      const mid = Math.sqrt(lo * hi);
      const stream = { ...EVENT_PRESETS.wikipedia, nodes: mid, events: mid * 17 };
      if (planTemporal({ stream, workers: [tabs], cluster, options: TEMPORAL_DEFAULTS }).rows[0].fits) lo = mid;
      else hi = mid;
    }
    out.push({ mode: 'temporal (DistTGL memory parallel)', model: 'TGN, Wikipedia-shaped (172 edge features, 17 events per node)', tabs, nodes: Math.round(lo), nnz: Math.round(lo * 17) });
  }
  return out;
}

export async function runPlanBench(options: { skip200k?: boolean; log?: (s: string) => void } = {}): Promise<PlanBenchResult> {
  const log = options.log ?? ((s: string) => console.log(s));
  const dir = mkdtempSync(join(tmpdir(), 'webgnn-plan-bench-'));
  const file = join(dir, 'profile.json');
  cli(['profile', '--out', file, '--json', '--no-progress']);
  const profile = parseDeviceProfileText(readFileSync(file, 'utf8'), file);
  log(`profiled this machine: ${profile.name}`);
  const validation = await validateHere(profile, log, options.skip200k ?? false);
  for (const v of validation) {
    const r = (a: number, b: number) => (b ? (a / b).toFixed(3) : '-');
    log(`${v.config}: peak ${(v.measured.peakBytes / 2 ** 20).toFixed(1)} MiB measured, ${r(v.predicted.peakBytes, v.measured.peakBytes)}× predicted; sent ${(v.measured.bytesSent / 2 ** 20).toFixed(2)} MiB, ${r(v.predicted.bytesSent, v.measured.bytesSent)}×; epoch ${v.measured.epochSeconds.toFixed(3)} s, ${r(v.predicted.epochSeconds, v.measured.epochSeconds)}×`);
  }
  return { profile: profile.reference, validation, papers: papers(log), projection: projection(), largest: largest() };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = benchArgs(process.argv.slice(2));
  const result = await runPlanBench({ skip200k: args.has('--skip-200k') });
  for (const p of result.projection) console.log(`projection ${p.profile} ${p.workers} tabs: ${(p.peakBytes / GiB).toFixed(2)} GiB/tab, ${(p.bytesSent / GiB).toFixed(2)} GiB sent/tab/epoch, ${p.epochSeconds.toFixed(1)} s/epoch${p.fits ? '' : ' (does not fit)'}`);
  for (const l of result.largest) console.log(`largest ${l.mode} ${l.model} on ${l.tabs} tabs of 4 GiB: ${l.nodes.toExponential(3)} nodes, ${l.nnz.toExponential(3)} non-zeros`);
  const out = args.value('--json');
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  process.exit(0);
}
