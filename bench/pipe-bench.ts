// GNNPipe (--mode pipe) beside SAR (--mode sar), issue 16 part 3. Every configuration runs in a child
// process of its own (as bench/sar-bench.ts: software devices do not give their memory back within a
// process), one after the other. Four figures, each pipe beside SAR in the same run:
//   bytes     bytes per epoch (sum of bytesSent over the workers; both directions as the transports count
//             them; the epoch includes its exact evaluation, for both modes), 4 workers, GCNII at
//             PIPE_LAYERS layers on Cora, and at PIPE_BIG_LAYERS layers on a synthetic community graph
//             (PIPE_BIG_NODES nodes, PIPE_BIG_EDGES edge-list entries, 32 random features, hidden 64).
//   accuracy  GCNII-16 on Cora (lr 0.01, dropout 0.6, hidden 64, wd 5e-4 linears / 0.01 convs), seeds
//             PIPE_SEEDS: test accuracy at the best validation accuracy (exact evaluation every epoch),
//             pipe (PIPE_STAGES stages, default tricks and chunks) and SAR (2 workers), at most
//             PIPE_EPOCHS epochs with patience PIPE_PATIENCE on validation accuracy.
//   time      epoch time, GCNII-16 on Cora, 2 and 4 workers, every stage or worker its own worker
//             thread (--transport threads), median of PIPE_TIME_EPOCHS
//             epochs after one warm-up; peak GPU bytes per worker, pipe with recompute on and off.
//   ablation  all tricks / none / without shuffle / without ×2 gradients / snapshot period 1, GCNII at
//             PIPE_ABLATION_LAYERS layers on Cora, seeds PIPE_ABLATION_SEEDS, same epochs and patience.
// Run: node --import ./scripts/register.mjs bench/pipe-bench.ts [--figures bytes,accuracy,time,ablation]
//        [--seeds 0,1,2,3,4] [--epochs 200] [--patience 100] [--stages 2] [--layers 4,8,16,32]
//        [--big-layers 16,32 | --no-big] [--big-nodes 200000] [--big-edges 1000000] [--big-graph community|powerlaw]
//        [--ablation-seeds 1] [--ablation-layers 16] [--time-epochs 3] [--plan profile|equal] [--json out.json] [--latest]
// --plan equal: pipe stages of equal layer counts instead of the measured profile (which differs from run
// to run on a busy machine, so recompute on/off would otherwise be compared over different cuts).
// --latest merges the figures measured into bench/results/latest.json's pipe key (other keys and figures kept).
// Cost on a 2-core machine with lavapipe (busy): Cora GCNII-16 epochs 2–7 s (SAR) and 4–16 s (pipe); one
// 200k-node pipe epoch at 4 layers 170 s after 140 s of setup (chunking, profile), SAR 83 s (8 layers 141 s),
// so the default 16- and 32-layer large-graph runs take about an hour; PIPE_BIG_LAYERS=4,8 or --no-big.
// Each flag has the environment variable PIPE_<FLAG> (PIPE_SEEDS=0,1 …; PIPE_BIG=0 for --no-big); flags win.
// `npm run bench -- --only pipe` runs this with the same defaults (the environment variables apply).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Engine } from '../src/engines/engine.ts';
import { TRICKS_OFF, type PipeOptions } from '../src/engines/pipe/pipe-options.ts';
import type { NodeTrainingOptions } from '../src/engines/training-state.ts';
import type { NodeDataset } from '../src/graph/node-dataset.ts';
import { modelConfigFor } from '../src/nn/models/builtin.ts';
import { createPipeRun } from '../src/node/pipe-setup.ts';
import { createSarEngine } from '../src/node/sar-setup.ts';
import { loadDataset } from '../src/node/train.ts';
import { benchArgs, type BenchArgs } from './args.ts';
import { communityDataset } from './sar-bench.ts';
import { syntheticNodeDataset } from '../src/graph/synthetic.ts';

export type BigGraph = 'community' | 'powerlaw';

function bigDataset(kind: BigGraph, nodes: number, edges: number): NodeDataset {
  return kind === 'community' ? communityDataset(nodes, edges, 32) : syntheticNodeDataset({ numNodes: nodes, numEdges: edges, numFeatures: 32, numClasses: 16, seed: 1 });
}

export type PipeFigure = 'bytes' | 'accuracy' | 'time' | 'ablation';
export const PIPE_FIGURES: PipeFigure[] = ['bytes', 'accuracy', 'time', 'ablation'];
export type Trickset = 'all' | 'none' | 'no-shuffle' | 'no-unbiased' | 'no-snapshot';
const TRICKSETS: Trickset[] = ['all', 'none', 'no-shuffle', 'no-unbiased', 'no-snapshot'];

export interface PipeBenchOptions {
  figures: PipeFigure[];
  seeds: number[];
  epochs: number;
  patience: number;
  stages: number;
  layers: number[];
  bigLayers: number[];
  bigNodes: number;
  bigEdges: number;
  /**
   * The large graph: 64 planted communities (partitions well: few boundary rows) or a power-law Chung–Lu
   * graph (partitions badly, as the papers' social graphs do: most rows are some worker's halo).
   */
  bigGraph: BigGraph;
  ablationSeeds: number[];
  ablationLayers: number;
  timeEpochs: number;
  /** Pipe stage sizes for every figure (pipeDefaults: 'profile'). */
  plan: 'profile' | 'equal';
  log?: (line: string) => void;
}

/** One child process's job. */
interface Job {
  kind: 'bytes' | 'train' | 'time';
  mode: 'pipe' | 'sar';
  graph: 'cora' | 'big';
  workers: number;
  layers: number;
  seed: number;
  epochs: number;
  patience: number;
  recompute: boolean;
  tricks: Trickset;
  bigNodes: number;
  bigEdges: number;
  bigGraph?: BigGraph;
  /** Pipe stage sizes: from the measured profile (default; noisy on a busy machine) or equal layer counts. */
  plan?: 'profile' | 'equal';
  /** How workers or stages talk (default 'local': devices of one process). */
  transport?: 'local' | 'threads';
  /** Pipe: replicas of every stage (hybrid, --graph-parallel; default 1). */
  graphParallel?: number;
}

export interface JobResult {
  job: Job;
  /** Sum over workers of the bytes sent in the (last) epoch. */
  bytesPerEpoch: number;
  bytesPerWorker: number[];
  peakGpuBytes: number[];
  epochMs: number[];
  setupSeconds: number;
  epochsRun: number;
  bestEpoch: number;
  bestValAcc: number;
  testAtBest: number;
  describe?: unknown;
}

const GCNII = { model: 'gcnii' as const, hidden: 64, dropout: 0.6 };
const trainingFor = (seed: number): NodeTrainingOptions => ({ optimizer: 'adam', lr: 0.01, weightDecay: 5e-4, seed, decayFirstLayerOnly: false });

function tricksFor(t: Trickset): Partial<PipeOptions> {
  switch (t) {
    case 'all':
      return {};
    case 'none':
      return { ...TRICKS_OFF };
    case 'no-shuffle':
      return { shuffle: false };
    case 'no-unbiased':
      return { unbiasedGradients: false };
    case 'no-snapshot':
      return { snapshotPeriod: 1 };
  }
}

async function engineFor(job: Job, dataset: NodeDataset): Promise<{ engine: Engine; release: () => Promise<void> | void; describe?: unknown }> {
  const model = { ...GCNII, layers: job.layers };
  const training = trainingFor(job.seed);
  const transport = job.transport ?? 'local';
  const spec = { builtin: modelConfigFor(dataset, model) };
  if (job.mode === 'sar') {
    const engine = await createSarEngine(dataset, spec, training, { workers: job.workers, transport, remat: true, partition: 'metis' });
    return { engine, release: () => engine.dispose() };
  }
  const options: Partial<PipeOptions> = { recompute: job.recompute, stages: job.plan ?? 'profile', graphParallel: job.graphParallel ?? 1, ...tricksFor(job.tricks) };
  const engine = await createPipeRun(dataset, spec, training, { workers: job.workers, transport }, options);
  return { engine, describe: engine.describe, release: () => engine.dispose() };
}

async function runJob(job: Job): Promise<JobResult> {
  const started = performance.now();
  const dataset = job.graph === 'cora' ? await loadDataset('cora') : bigDataset(job.bigGraph ?? 'community', job.bigNodes, job.bigEdges);
  const { engine, release, describe } = await engineFor(job, dataset);
  const setupSeconds = (performance.now() - started) / 1000;
  const result: JobResult = { job, bytesPerEpoch: 0, bytesPerWorker: [], peakGpuBytes: [], epochMs: [], setupSeconds, epochsRun: 0, bestEpoch: -1, bestValAcc: -1, testAtBest: NaN, describe };
  let sinceBest = 0;
  for await (const m of engine.run(job.epochs)) {
    result.epochsRun++;
    result.epochMs.push(m.epochMs);
    result.bytesPerWorker = m.bytesSent ?? [];
    result.bytesPerEpoch = result.bytesPerWorker.reduce((a, b) => a + b, 0);
    result.peakGpuBytes = m.peakGpuBytes.map((p, i) => Math.max(p, result.peakGpuBytes[i] ?? 0));
    if (m.evaluated !== false) {
      if (m.valAcc > result.bestValAcc) {
        result.bestValAcc = m.valAcc;
        result.testAtBest = m.testAcc;
        result.bestEpoch = m.epoch;
        sinceBest = 0;
      } else if (job.patience > 0 && ++sinceBest >= job.patience) break;
    }
  }
  await release();
  return result;
}

const register = fileURLToPath(new URL('../scripts/register.mjs', import.meta.url));

function spawnJob(job: Job): JobResult {
  const child = spawnSync(process.execPath, ['--import', register, fileURLToPath(import.meta.url), '--one', JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = child.stdout.split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (child.status !== 0 || !line) {
    throw new Error(`pipe-bench ${JSON.stringify(job)} failed (${child.status ?? child.signal}): ${child.stderr.split('\n').filter((l) => !l.includes('maxDynamic')).slice(-6).join(' | ')}`);
  }
  return JSON.parse(line) as JobResult;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const pct = (v: number) => (100 * v).toFixed(2);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);

function table(log: (l: string) => void, header: string[], rows: string[][]): void {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(width[i])).join(' | ') + ' |';
  log(line(header));
  log('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) log(line(r));
}

export interface BytesRow {
  graph: string;
  layers: number;
  workers: number;
  pipeBytes: number;
  sarBytes: number;
  /** sar / pipe. */
  ratio: number;
  pipeEpochSeconds: number;
  sarEpochSeconds: number;
}
export interface AccuracyRow {
  mode: 'pipe' | 'sar';
  workers: number;
  seeds: number[];
  testAtBest: number[];
  bestEpoch: number[];
  epochsRun: number[];
  meanTest: number;
  medianEpochMs: number;
}
export interface TimeRow {
  mode: 'pipe' | 'sar';
  workers: number;
  recompute: boolean | null;
  /** Pipe: replicas per stage (the hybrid row: 2 stages × 2). */
  graphParallel: number;
  medianEpochMs: number;
  peakGpuBytes: number[];
  bytesPerEpoch: number;
  /** Pipe: the stage plan the run used (blocks per stage). */
  plan?: unknown;
}
export interface AblationRow {
  tricks: Trickset;
  seeds: number[];
  testAtBest: number[];
  meanTest: number;
  bestEpoch: number[];
}
export interface PipeBenchResult {
  settings: Omit<PipeBenchOptions, 'log'>;
  transport: string;
  bytes?: BytesRow[];
  accuracy?: { epochs: number; patience: number; rows: AccuracyRow[]; gap: number };
  time?: TimeRow[];
  ablation?: { layers: number; rows: AblationRow[] };
}

export async function runPipeBench(options: PipeBenchOptions): Promise<PipeBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { log: _drop, ...settings } = options;
  const base: Job = { kind: 'bytes', mode: 'pipe', graph: 'cora', workers: 4, layers: 16, seed: 0, epochs: 1, patience: 0, recompute: true, tricks: 'all', bigNodes: options.bigNodes, bigEdges: options.bigEdges, bigGraph: options.bigGraph, plan: options.plan };
  const out: PipeBenchResult = { settings, transport: 'bytes, accuracy, ablation: in-process stages and workers (LocalTransport); time: worker threads, one per stage or worker' };
  const progress = (what: string, r: JobResult) =>
    log(`  · ${what}: ${r.epochsRun} epochs, setup ${r.setupSeconds.toFixed(1)} s, median epoch ${(median(r.epochMs) / 1000).toFixed(2)} s${r.bytesPerEpoch ? `, ${mib(r.bytesPerEpoch)} MiB/epoch` : ''}${r.bestEpoch >= 0 && r.job.kind === 'train' ? `, best val ${pct(r.bestValAcc)} at ${r.bestEpoch} → test ${pct(r.testAtBest)}` : ''}`);

  if (options.figures.includes('bytes')) {
    log(`\nPipe vs SAR: bytes per epoch (sum over 4 workers, training + exact evaluation), GCNII hidden 64`);
    const rows: BytesRow[] = [];
    const configs: Array<{ graph: 'cora' | 'big'; layers: number }> = [
      ...options.layers.map((layers) => ({ graph: 'cora' as const, layers })),
      ...options.bigLayers.map((layers) => ({ graph: 'big' as const, layers })),
    ];
    for (const c of configs) {
      const [pipe, sar] = (['pipe', 'sar'] as const).map((mode) => {
        const r = spawnJob({ ...base, ...c, mode, kind: 'bytes' });
        progress(`${mode} ${c.graph} L=${c.layers}`, r);
        return r;
      });
      rows.push({
        graph: c.graph === 'cora' ? 'Cora' : `${options.bigGraph} ${options.bigNodes}/${options.bigEdges}, 32 features`,
        layers: c.layers,
        workers: 4,
        pipeBytes: pipe.bytesPerEpoch,
        sarBytes: sar.bytesPerEpoch,
        ratio: sar.bytesPerEpoch / pipe.bytesPerEpoch,
        pipeEpochSeconds: pipe.epochMs[0] / 1000,
        sarEpochSeconds: sar.epochMs[0] / 1000,
      });
    }
    table(
      log,
      ['graph', 'layers', 'pipe MiB/epoch', 'sar MiB/epoch', 'sar/pipe', 'goal (L=32)', 'pipe s', 'sar s'],
      rows.map((r) => [r.graph, String(r.layers), mib(r.pipeBytes), mib(r.sarBytes), `${r.ratio.toFixed(2)}×`, r.layers === 32 ? (r.ratio >= 8 ? '≥ 8×: yes' : '≥ 8×: NO') : '', r.pipeEpochSeconds.toFixed(1), r.sarEpochSeconds.toFixed(1)]),
    );
    out.bytes = rows;
  }

  const trainRows = (mode: 'pipe' | 'sar', workers: number, seeds: number[], layers: number, tricks: Trickset) =>
    seeds.map((seed) => {
      const r = spawnJob({ ...base, kind: 'train', mode, workers, layers, seed, epochs: options.epochs, patience: options.patience, tricks });
      progress(`${mode}${mode === 'pipe' ? ` ${tricks}` : ''} seed ${seed}`, r);
      return r;
    });

  if (options.figures.includes('accuracy')) {
    log(`\nPipe vs SAR: GCNII-16 on Cora, test accuracy at best validation (exact evaluation every epoch), ≤ ${options.epochs} epochs, patience ${options.patience}, seeds ${options.seeds.join(',')}`);
    const rows: AccuracyRow[] = [];
    for (const [mode, workers] of [['pipe', options.stages], ['sar', 2]] as const) {
      const rs = trainRows(mode, workers, options.seeds, 16, 'all');
      rows.push({
        mode,
        workers,
        seeds: options.seeds,
        testAtBest: rs.map((r) => r.testAtBest),
        bestEpoch: rs.map((r) => r.bestEpoch),
        epochsRun: rs.map((r) => r.epochsRun),
        meanTest: mean(rs.map((r) => r.testAtBest)),
        medianEpochMs: median(rs.flatMap((r) => r.epochMs)),
      });
    }
    const gap = rows[0].meanTest - rows[1].meanTest;
    table(
      log,
      ['mode', 'workers', 'test % per seed', 'best epochs', 'mean test %', 'ms/epoch'],
      rows.map((r) => [r.mode, String(r.workers), r.testAtBest.map(pct).join(' '), r.bestEpoch.join(' '), pct(r.meanTest), r.medianEpochMs.toFixed(0)]),
    );
    log(`  pipe − sar: ${(100 * gap).toFixed(2)} points; goal pipe ≥ 84 % and within 1 point: ${rows[0].meanTest >= 0.84 && Math.abs(gap) <= 0.01 ? 'yes' : 'NO'}`);
    out.accuracy = { epochs: options.epochs, patience: options.patience, rows, gap };
  }

  if (options.figures.includes('time')) {
    log(`\nPipe vs SAR: epoch time and peak GPU bytes per worker, GCNII-16 on Cora, ${out.transport}; median of ${options.timeEpochs} epochs after 1 warm-up`);
    const rows: TimeRow[] = [];
    // N = 4 also as the hybrid: 2 stages, each on 2 workers (--graph-parallel 2).
    const runs = [2, 4].flatMap((workers) => [
      ...([['pipe', true, 1], ['pipe', false, 1]] as const).map(([mode, recompute, gp]) => ({ workers, mode, recompute, gp })),
      ...(workers === 4 ? [{ workers, mode: 'pipe' as const, recompute: true, gp: 2 }] : []),
      { workers, mode: 'sar' as const, recompute: null, gp: 1 },
    ]);
    for (const { workers, mode, recompute, gp } of runs) {
      const r = spawnJob({ ...base, kind: 'time', mode, workers, recompute: recompute ?? true, epochs: options.timeEpochs + 1, transport: 'threads', graphParallel: gp });
      progress(`${mode} N=${workers}${gp > 1 ? ` (${workers / gp} stages × ${gp})` : ''}${recompute === null ? '' : ` recompute ${recompute}`}`, r);
      rows.push({ mode, workers, recompute, graphParallel: gp, medianEpochMs: median(r.epochMs.slice(1)), peakGpuBytes: r.peakGpuBytes, bytesPerEpoch: r.bytesPerEpoch, plan: (r.describe as { plan?: unknown } | undefined)?.plan });
    }
    for (const r of rows) if (r.plan) log(`  plan, ${r.mode} N=${r.workers}${r.graphParallel > 1 ? ` × ${r.graphParallel} replicas` : ''} recompute ${r.recompute}: ${(r.plan as string[]).join('; ')}`);
    table(
      log,
      ['mode', 'workers', 'recompute', 'ms/epoch', 'peak MiB per worker', 'max peak MiB', 'MiB/epoch'],
      rows.map((r) => [r.graphParallel > 1 ? `pipe ${r.workers / r.graphParallel}×${r.graphParallel}` : r.mode, String(r.workers), r.recompute === null ? '(remat)' : String(r.recompute), r.medianEpochMs.toFixed(0), r.peakGpuBytes.map(mib).join(' '), mib(Math.max(...r.peakGpuBytes)), mib(r.bytesPerEpoch)]),
    );
    out.time = rows;
  }

  if (options.figures.includes('ablation')) {
    log(`\nPipe tricks ablation (research/gnnpipe.md §4): GCNII-${options.ablationLayers} on Cora, ${options.stages} stages, test % at best validation, seeds ${options.ablationSeeds.join(',')}, ≤ ${options.epochs} epochs, patience ${options.patience}`);
    const rows: AblationRow[] = [];
    for (const tricks of TRICKSETS) {
      const rs = trainRows('pipe', options.stages, options.ablationSeeds, options.ablationLayers, tricks);
      rows.push({ tricks, seeds: options.ablationSeeds, testAtBest: rs.map((r) => r.testAtBest), meanTest: mean(rs.map((r) => r.testAtBest)), bestEpoch: rs.map((r) => r.bestEpoch) });
    }
    table(
      log,
      ['tricks', 'test % per seed', 'mean test %', 'best epochs'],
      rows.map((r) => [r.tricks === 'no-snapshot' ? 'no-snapshot (period 1)' : r.tricks, r.testAtBest.map(pct).join(' '), pct(r.meanTest), r.bestEpoch.join(' ')]),
    );
    out.ablation = { layers: options.ablationLayers, rows };
  }
  return out;
}

/** The options from flags, then PIPE_* environment variables, then the issue's defaults. */
export function pipeBenchOptions(args: BenchArgs = benchArgs([]), env: NodeJS.ProcessEnv = process.env): PipeBenchOptions {
  const get = (flag: string) => args.value(`--${flag}`) ?? env[`PIPE_${flag.toUpperCase().replace(/-/g, '_')}`];
  const list = (flag: string, fallback: string) => (get(flag) ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const nums = (flag: string, fallback: string) =>
    list(flag, fallback).map((s) => {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new Error(`--${flag}: '${s}' is not a number`);
      return n;
    });
  const num = (flag: string, fallback: number) => nums(flag, String(fallback))[0];
  const figures = list('figures', PIPE_FIGURES.join(','));
  const bad = figures.filter((f) => !(PIPE_FIGURES as string[]).includes(f));
  if (bad.length) throw new Error(`--figures: unknown ${bad.join(', ')}; figures: ${PIPE_FIGURES.join(', ')}`);
  const noBig = args.has('--no-big') || env.PIPE_BIG === '0';
  return {
    figures: figures as PipeFigure[],
    seeds: nums('seeds', '0,1,2,3,4'),
    epochs: num('epochs', 200),
    patience: num('patience', 100),
    stages: num('stages', 2),
    layers: nums('layers', '4,8,16,32'),
    bigLayers: noBig ? [] : nums('big-layers', '16,32'),
    bigNodes: num('big-nodes', 200_000),
    bigEdges: num('big-edges', 1_000_000),
    bigGraph: (() => {
      const kind = get('big-graph') ?? 'community';
      if (kind !== 'community' && kind !== 'powerlaw') throw new Error(`--big-graph must be community or powerlaw, got '${kind}'`);
      return kind;
    })(),
    ablationSeeds: nums('ablation-seeds', '1'),
    ablationLayers: num('ablation-layers', 16),
    timeEpochs: num('time-epochs', 3),
    plan: (() => {
      const plan = get('plan') ?? 'profile';
      if (plan !== 'profile' && plan !== 'equal') throw new Error(`--plan must be profile or equal, got '${plan}'`);
      return plan;
    })(),
  };
}

/** Puts `result`'s figures into latest.json's pipe key, keeping the figures (and sections) it did not measure. */
export function mergeIntoLatest(result: PipeBenchResult, file = fileURLToPath(new URL('./results/latest.json', import.meta.url))): string {
  const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : { startedAt: new Date().toISOString(), rows: [] };
  const before = (report.pipe ?? {}) as Record<string, unknown>;
  const measured: Record<string, unknown> = Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
  // Bytes rows from several runs (Cora, the large graph) are kept side by side, a newer row replacing its twin.
  if (result.bytes && Array.isArray(before.bytes)) {
    const fresh = new Set(result.bytes.map((b) => `${b.graph}/${b.layers}`));
    measured.bytes = [...(before.bytes as BytesRow[]).filter((b) => !fresh.has(`${b.graph}/${b.layers}`)), ...result.bytes];
  }
  report.pipe = { ...before, ...measured, settings: { ...((before.settings as object) ?? {}), [result.settings.figures.join(',')]: result.settings } };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = benchArgs(process.argv.slice(2));
  const one = args.value('--one');
  if (one) {
    console.log(JSON.stringify(await runJob(JSON.parse(one) as Job)));
  } else {
    const result = await runPipeBench(pipeBenchOptions(args));
    const out = args.value('--json');
    if (out) writeFileSync(out, JSON.stringify(result, null, 2));
    if (args.has('--latest')) console.log(`results in ${mergeIntoLatest(result)}`);
  }
  process.exit(0);
}
