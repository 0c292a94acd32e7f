// DistTGL on CollegeMsg (or its first --events): one trainer against memory, epoch and mini-batch
// parallelism at each worker count, the same seed and the same number of passes over the stream, every
// trainer on its own device in this process. Reports test AP at the best validation epoch and at the
// end, training events per second in total and per trainer, bytes per epoch per trainer (and how many
// of them are memory reads and writes), and validation AP against wall-clock seconds (convergence per
// time). On a 2-core machine several software devices share the cores: throughput cannot scale here.
// Run: node --import ./scripts/register.mjs bench/disttgl-bench.ts [--events 3000] [--passes 4]
//        [--workers 2,4] [--kinds memory,epoch,batch] [--batch-size 200] [--lr 2e-4] [--static] [--metric mrr] [--json out.json]

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalTransport } from '../src/dist/local-transport.ts';
import { TemporalEngine } from '../src/engines/temporal.ts';
import { createDistTglEngine } from '../src/engines/temporal/disttgl-run.ts';
import { describeLayout, parseParallel, type ParallelLayout } from '../src/engines/temporal/parallel-layout.ts';
import { firstEvents } from '../src/graph/event-stream-prefix.ts';
import { loadEventStream } from '../src/graph/event-stream.ts';
import { splitEvents } from '../src/graph/temporal-split.ts';
import type { Gpu } from '../src/gpu/gpu.ts';
import { Tgn, TGN_DEFAULTS } from '../src/nn/tgn/tgn.ts';
import { resolveEventStreamSource } from '../src/node/dataset-source.ts';
import { createNodeGpu } from '../src/node/node-gpu.ts';
import { learnStaticMemory } from '../src/node/static-memory-phase.ts';
import { benchArgs } from './args.ts';

export interface DistTglBenchRow {
  layout: string;
  /** Whether static node memory was added (phase one's time is not in the figures). */
  staticMemory: boolean;
  workers: number;
  passes: number;
  bestTestAp: number;
  finalTestAp: number;
  /** Test MRR at the best validation AP epoch (metric 'mrr' only). */
  bestTestMrr: number | null;
  /** Training events per second, all trainers together, and each trainer's (mean over epochs). */
  eventsPerSecond: number;
  eventsPerSecondPerTrainer: number[];
  bytesPerEpochPerTrainer: number[];
  memoryBytesPerEpochPerTrainer: number[];
  /** Validation AP after each epoch, against the wall-clock seconds of training so far. */
  curve: Array<{ seconds: number; passes: number; valAp: number }>;
}

export interface DistTglBenchOptions {
  events: number;
  passes: number;
  workers: number[];
  kinds: string[];
  batchSize: number;
  lr: number;
  seed: number;
  adapter?: string;
  /** 'mrr' also ranks evaluation events against 49 negatives (bestTestMrr). */
  metric?: 'ap' | 'mrr';
  /** Also learn static node memory (phase one, 5 epochs) and run N = 1 and the first layout of each N with it. */
  staticMemory?: boolean;
}

export async function runDistTglBench(options: DistTglBenchOptions): Promise<DistTglBenchRow[]> {
  const { source, eventsFile } = resolveEventStreamSource('collegemsg');
  const stream = firstEvents(await loadEventStream(source, { eventsFile }), options.events);
  const split = splitEvents(stream, { seed: options.seed });
  const config = { ...TGN_DEFAULTS, numNodes: stream.numNodes, edgeDim: stream.edgeDim };
  const most = Math.max(1, ...options.workers);
  const gpus: Gpu[] = [];
  for (let r = 0; r < most; r++) gpus.push(await createNodeGpu({ name: options.adapter, label: `disttgl bench ${r}` }));
  const rows: DistTglBenchRow[] = [];
  try {
    rows.push(await sequential(gpus[0], stream, split, config, options, undefined));
    for (const N of options.workers) {
      for (const kind of options.kinds) {
        const layout = parseParallel(kind, N);
        rows.push(await distributed(gpus.slice(0, N), layout, stream, split, config, options, undefined));
      }
    }
    if (options.staticMemory) {
      const { table } = await learnStaticMemory(stream, split, config, { epochs: 5, seed: options.seed, lr: options.lr, batchSize: options.batchSize, adapter: options.adapter });
      rows.push(await sequential(gpus[0], stream, split, config, options, table));
      for (const N of options.workers) rows.push(await distributed(gpus.slice(0, N), parseParallel(options.kinds[0], N), stream, split, config, options, table));
    }
  } finally {
    for (const g of gpus) g.destroy();
  }
  return rows;
}

type Stream = Awaited<ReturnType<typeof loadEventStream>>;
type Split = ReturnType<typeof splitEvents>;
type Config = ConstructorParameters<typeof Tgn>[0];

async function sequential(gpu: Gpu, stream: Stream, split: Split, config: Config, options: DistTglBenchOptions, staticMemory: Float32Array | undefined): Promise<DistTglBenchRow> {
  const engine = new TemporalEngine(gpu, new Tgn(config), stream, split, { seed: options.seed, lr: options.lr, batchSize: options.batchSize, staticMemory, metric: options.metric });
  const curve: DistTglBenchRow['curve'] = [];
  let seconds = 0;
  let best: { valAp: number; testAp: number; testMrr: number | null } = { valAp: -1, testAp: NaN, testMrr: null };
  let last = NaN;
  const rates: number[] = [];
  for await (const m of engine.run(options.passes)) {
    seconds += split.train.length / m.eventsPerSecond;
    curve.push({ seconds, passes: m.epoch, valAp: m.valAp });
    if (m.valAp > best.valAp) best = { valAp: m.valAp, testAp: m.testAp, testMrr: m.testMrr ?? null };
    last = m.testAp;
    rates.push(m.eventsPerSecond);
  }
  engine.dispose();
  const rate = mean(rates);
  return { layout: '1×1×1 (sequential engine)', staticMemory: staticMemory !== undefined, workers: 1, passes: options.passes, bestTestAp: best.testAp, finalTestAp: last, bestTestMrr: best.testMrr, eventsPerSecond: rate, eventsPerSecondPerTrainer: [rate], bytesPerEpochPerTrainer: [0], memoryBytesPerEpochPerTrainer: [0], curve };
}

async function distributed(gpus: Gpu[], layout: ParallelLayout, stream: Stream, split: Split, config: Config, options: DistTglBenchOptions, staticMemory: Float32Array | undefined): Promise<DistTglBenchRow> {
  const N = gpus.length;
  const { engine } = createDistTglEngine(gpus, LocalTransport.group(N), stream, split, () => new Tgn(config), { seed: options.seed, lr: options.lr, batchSize: options.batchSize, layout, staticMemory, metric: options.metric });
  const epochs = Math.ceil(options.passes / (layout.epoch * layout.memory));
  const curve: DistTglBenchRow['curve'] = [];
  let seconds = 0;
  let best: { valAp: number; testAp: number; testMrr: number | null } = { valAp: -1, testAp: NaN, testMrr: null };
  let last = NaN;
  const rates: number[] = [];
  const perTrainer: number[][] = [];
  let bytes: number[] = [];
  let memoryBytes: number[] = [];
  for await (const m of engine.run(epochs)) {
    seconds += m.events / m.eventsPerSecond;
    curve.push({ seconds, passes: m.passes, valAp: m.valAp });
    if (m.valAp > best.valAp) best = { valAp: m.valAp, testAp: m.testAp, testMrr: m.testMrr ?? null };
    last = m.testAp;
    rates.push(m.eventsPerSecond);
    perTrainer.push(m.eventsPerSecondPerTrainer);
    bytes = m.bytesSentPerTrainer;
    memoryBytes = m.memoryBytesSentPerTrainer;
  }
  await engine.dispose();
  return {
    layout: describeLayout(layout),
    staticMemory: staticMemory !== undefined,
    workers: N,
    passes: epochs * layout.epoch * layout.memory,
    bestTestAp: best.testAp,
    finalTestAp: last,
    bestTestMrr: best.testMrr,
    eventsPerSecond: mean(rates),
    eventsPerSecondPerTrainer: perTrainer[0].map((_, r) => mean(perTrainer.map((p) => p[r]))),
    bytesPerEpochPerTrainer: bytes,
    memoryBytesPerEpochPerTrainer: memoryBytes,
    curve,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = benchArgs(process.argv.slice(2));
  const list = (flag: string, fallback: string) => (args.value(flag) ?? fallback).split(',').filter(Boolean);
  const rows = await runDistTglBench({
    events: args.number('--events') ?? 3000,
    passes: args.number('--passes') ?? 4,
    workers: list('--workers', '2').map(Number),
    kinds: list('--kinds', 'memory,epoch,batch'),
    batchSize: args.number('--batch-size') ?? 200,
    lr: args.number('--lr') ?? 2e-4,
    seed: args.number('--seed') ?? 0,
    adapter: args.value('--adapter'),
    staticMemory: args.has('--static'),
    metric: args.value('--metric') === 'mrr' ? 'mrr' : 'ap',
  });
  for (const r of rows) {
    console.log(
      `${(r.layout + (r.staticMemory ? ' + static' : '')).padEnd(35)} N=${r.workers} passes ${r.passes}: test AP best ${r.bestTestAp.toFixed(4)} final ${r.finalTestAp.toFixed(4)}${r.bestTestMrr === null ? '' : ` MRR ${r.bestTestMrr.toFixed(4)}`} · ${r.eventsPerSecond.toFixed(0)} events/s (${r.eventsPerSecondPerTrainer.map((e) => e.toFixed(0)).join(' / ')} per trainer) · ${r.bytesPerEpochPerTrainer.map((b) => (b / 2 ** 20).toFixed(2)).join(' / ')} MiB/epoch per trainer (memory ${r.memoryBytesPerEpochPerTrainer.map((b) => (b / 2 ** 20).toFixed(2)).join(' / ')}) · val AP by time ${r.curve.map((c) => `${c.seconds.toFixed(0)}s:${c.valAp.toFixed(3)}`).join(' ')}`,
    );
  }
  const json = args.value('--json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
  process.exit(0);
}
