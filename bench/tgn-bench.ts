// TGN on CollegeMsg under MSPipe settings, side by side in one process with the same seed: node memory
// on the device (sequential), in host RAM with staleness 0 (the sequential algorithm, by readback), and
// in host RAM with --staleness auto (and any fixed k asked for). Reports training events per second
// (training passes only), test and inductive AP at the last epoch, the chosen k, the CPU stage time and
// the time the CPU spent waiting for the device (whose ratio bounds what any overlap can gain), and peak
// GPU bytes.
// Run: node --import ./scripts/register.mjs bench/tgn-bench.ts [--epochs 2] [--events N] [--settings device,0,auto,2]
//        [--lr 1e-4] [--batch-size 200] [--stale-self-weight λ (1: no staleness mitigation)] [--json out.json]

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { firstEvents } from '../src/graph/event-stream-prefix.ts';
import { parseStaleness } from '../src/engines/staleness-policy.ts';
import { TemporalEngine, type TemporalEpochMetrics } from '../src/engines/temporal.ts';
import { loadEventStream } from '../src/graph/event-stream.ts';
import { splitEvents } from '../src/graph/temporal-split.ts';
import { Tgn, TGN_DEFAULTS } from '../src/nn/tgn/tgn.ts';
import { resolveEventStreamSource } from '../src/node/dataset-source.ts';
import { createNodeGpu } from '../src/node/node-gpu.ts';
import { benchArgs } from './args.ts';

export interface TgnBenchRow {
  setting: string;
  memory: 'device' | 'host';
  epochs: number;
  eventsPerSecond: number;
  testAp: number;
  inductiveAp: number;
  stalenessMean: number;
  stalenessMax: number;
  waitSeconds: number;
  /** CPU stage time per epoch's training pass (sample, fetch, record): what a pipeline can hide behind the device. */
  cpuSeconds: number;
  /** The most any pipeline could gain over this run: (CPU + wait) / max(CPU, wait). */
  overlapBound: number;
  peakGpuBytes: number;
}

export interface TgnBenchOptions {
  epochs: number;
  events?: number;
  settings: string[];
  lr: number;
  batchSize: number;
  seed: number;
  adapter?: string;
  /** Weight λ of a stale node's own memory in the mitigation blend (default the engine's; 1 turns mitigation off). */
  staleSelfWeight?: number;
}

export async function runTgnBench(options: TgnBenchOptions): Promise<TgnBenchRow[]> {
  const { source, eventsFile } = resolveEventStreamSource('collegemsg');
  const full = await loadEventStream(source, { eventsFile });
  const stream = options.events ? firstEvents(full, options.events) : full;
  const split = splitEvents(stream, { seed: options.seed });
  const rows: TgnBenchRow[] = [];
  for (const setting of options.settings) {
    // A fresh device per setting: peaks and buffer pools do not carry over.
    const gpu = await createNodeGpu({ name: options.adapter });
    const memory = setting === 'device' ? 'device' : 'host';
    const staleness = setting === 'device' ? 0 : parseStaleness(setting);
    const engine = new TemporalEngine(gpu, new Tgn({ ...TGN_DEFAULTS, numNodes: stream.numNodes, edgeDim: stream.edgeDim }), stream, split, {
      seed: options.seed,
      lr: options.lr,
      batchSize: options.batchSize,
      memory,
      staleness,
      ...(options.staleSelfWeight === undefined ? {} : { staleSelfWeight: options.staleSelfWeight }),
    });
    const epochs: TemporalEpochMetrics[] = [];
    for await (const m of engine.run(options.epochs)) {
      epochs.push(m);
      console.log(`  tgn ${setting}: epoch ${m.epoch} · ${m.eventsPerSecond.toFixed(0)} events/s · test AP ${m.testAp.toFixed(4)} · k ${m.staleness.mean.toFixed(2)} (max ${m.staleness.max}) · wait ${(m.stageMs.wait / 1000).toFixed(1)} s`);
    }
    const last = epochs.at(-1)!;
    rows.push({
      setting,
      memory,
      epochs: epochs.length,
      eventsPerSecond: epochs.reduce((a, m) => a + m.eventsPerSecond, 0) / epochs.length,
      testAp: last.testAp,
      inductiveAp: last.inductiveAp,
      stalenessMean: epochs.reduce((a, m) => a + m.staleness.mean, 0) / epochs.length,
      stalenessMax: Math.max(...epochs.map((m) => m.staleness.max)),
      waitSeconds: epochs.reduce((a, m) => a + m.stageMs.wait, 0) / epochs.length / 1000,
      cpuSeconds: epochs.reduce((a, m) => a + m.stageMs.sample + m.stageMs.fetch + m.stageMs.train + m.stageMs.write, 0) / epochs.length / 1000,
      overlapBound: NaN,
      peakGpuBytes: gpu.pool.peakAllocatedBytes,
    });
    const row = rows.at(-1)!;
    row.overlapBound = (row.cpuSeconds + row.waitSeconds) / Math.max(row.cpuSeconds, row.waitSeconds);
    engine.dispose();
    gpu.destroy();
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = benchArgs(process.argv.slice(2));
  const rows = await runTgnBench({
    epochs: args.number('--epochs') ?? 2,
    events: args.number('--events'),
    settings: (args.value('--settings') ?? 'device,0,auto').split(','),
    lr: args.number('--lr') ?? 1e-4,
    batchSize: args.number('--batch-size') ?? 200,
    seed: args.number('--seed') ?? 0,
    adapter: args.value('--adapter'),
    staleSelfWeight: args.number('--stale-self-weight'),
  });
  console.table(rows);
  const out = args.value('--json');
  if (out) writeFileSync(out, JSON.stringify(rows, null, 2));
}
