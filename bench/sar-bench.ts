// SAR memory and communication benchmark: peak GPU bytes per worker and bytes sent per worker per
// epoch for N = 1, 2, 4, 8 in-process workers, SAR beside the graph-parallel baseline (--no-remat), on a
// synthetic graph with locality (communityGraph) and random 128-d features, 3-layer GraphSAGE. One
// training epoch plus evaluation per configuration (the peak is reached in the first epoch: buffers are
// reused after it). Also the edge cut of the multilevel partition against a random one.
// Run: node --import ./scripts/register.mjs bench/sar-bench.ts [--nodes 200000] [--edges 3800000]
//        [--features 128] [--hidden 128] [--layers 3] [--workers 1,2,4,8] [--partition metis|random] [--json out.json]

import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalTransport } from '../src/dist/local-transport.ts';
import { builtinModel } from '../src/nn/models/builtin.ts';
import { SarEngine } from '../src/engines/sar/sar-engine.ts';
import { SarWorker } from '../src/engines/sar/sar-worker.ts';
import { communityGraph } from '../src/graph/community-graph.ts';
import { buildAdjacency } from '../src/graph/csr.ts';
import type { NodeDataset } from '../src/graph/node-dataset.ts';
import { edgeCut, randomPartition } from '../src/graph/partition.ts';
import { randomFeatures, randomLabels } from '../src/graph/synthetic.ts';
import { createNodeGpu } from '../src/node/node-gpu.ts';
import { placeForSar, type PartitionMethod } from '../src/engines/sar/placement.ts';
import { benchArgs } from './args.ts';

export interface SarBenchRow {
  workers: number;
  remat: boolean;
  /** Largest peak over the workers. */
  peakBytesPerWorker: number;
  peakBytes: number[];
  /** Mean over the workers. */
  bytesSentPerWorker: number;
  edgeCut: number;
  randomEdgeCut: number;
  epochSeconds: number;
  loss: number;
}

export function communityDataset(numNodes: number, numEdges: number, numFeatures: number, seed = 1): NodeDataset {
  const { src, dst } = communityGraph({ numNodes, numEdges, communities: 64, seed });
  const order = Array.from({ length: numNodes }, (_, i) => i);
  const split = (from: number, to: number) => Int32Array.from(order.slice(Math.floor(numNodes * from), Math.floor(numNodes * to)));
  return {
    name: `community-${numNodes}-${numEdges}`,
    numNodes,
    numFeatures,
    numClasses: 16,
    features: randomFeatures(numNodes, numFeatures, seed),
    labels: randomLabels(numNodes, 16, seed),
    // Labels are noise, so only cost matters; the split sizes are the usual 10/20/70.
    train: split(0, 0.1),
    val: split(0.1, 0.3),
    test: split(0.3, 1),
    edgeSrc: src,
    edgeDst: dst,
  };
}

export interface SarBenchOptions {
  nodes: number;
  edges: number;
  features: number;
  hidden: number;
  layers: number;
  workers: number[];
  /** How nodes are split (default metis); random shows SAR with large halos. */
  partition?: PartitionMethod;
  /** Epochs per configuration (default 1); the time reported is the last one's. */
  epochs?: number;
  /** SAR (true) and the keep-every-halo baseline (false), default both. */
  remats?: boolean[];
  log?: (line: string) => void;
}

/** One configuration in this process: N in-process workers, one epoch. */
async function measureOne(options: SarBenchOptions, workers: number, remat: boolean): Promise<SarBenchRow> {
  const dataset = communityDataset(options.nodes, options.edges, options.features);
  const adjacency = buildAdjacency(dataset.numNodes, dataset.edgeSrc, dataset.edgeDst, { undirected: true, selfLoops: 'remove' });
  const run = { model: 'sage' as const, hidden: options.hidden, layers: options.layers, dropout: 0.5, epochs: 1, patience: 0 };
  const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: false };
  const { placement, edgeCut: cut } = placeForSar(dataset, workers, options.partition ?? 'metis', 0);
  const randomCut = edgeCut(adjacency, randomPartition(dataset.numNodes, workers, 0));
  const gpus = await Promise.all(Array.from({ length: workers }, (_, r) => createNodeGpu({ label: `worker ${r}` })));
  const transports = LocalTransport.group(workers);
  const members = gpus.map((gpu, r) => new SarWorker(gpu, transports[r], dataset, placement, builtinModel(dataset, run), training, { remat }));
  const engine = new SarEngine(members);
  // The last epoch's time: the first also builds the operators and compiles the kernels.
  let started = performance.now();
  let seconds = 0;
  let last;
  for await (const m of engine.run(options.epochs ?? 1)) {
    last = m;
    seconds = (performance.now() - started) / 1000;
    started = performance.now();
  }
  return {
    workers,
    remat,
    peakBytesPerWorker: Math.max(...last!.peakGpuBytes),
    peakBytes: last!.peakGpuBytes,
    bytesSentPerWorker: last!.bytesSent!.reduce((a, b) => a + b, 0) / workers,
    edgeCut: cut,
    randomEdgeCut: randomCut,
    epochSeconds: seconds,
    loss: last!.loss,
  };
}

/**
 * Every configuration in a child process of its own: device memory of destroyed software devices is
 * not reliably returned to the OS within a process, and eight 200k-node runs in one process ran out
 * of memory on this 24 GiB machine.
 */
export async function runSarBench(options: SarBenchOptions): Promise<SarBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  log(`graph: communityGraph ${options.nodes} nodes, ${options.edges} edge-list entries, ${options.features} features; ${options.layers}-layer GraphSAGE, hidden ${options.hidden}`);
  const register = fileURLToPath(new URL('../scripts/register.mjs', import.meta.url));
  const rows: SarBenchRow[] = [];
  for (const workers of options.workers) {
    for (const remat of options.remats ?? [true, false]) {
      const args = ['--import', register, fileURLToPath(import.meta.url), '--one', `${workers}:${remat ? 1 : 0}`];
      for (const key of ['nodes', 'edges', 'features', 'hidden', 'layers'] as const) args.push(`--${key}`, String(options[key]));
      args.push('--epochs', String(options.epochs ?? 1));
      args.push('--partition', options.partition ?? 'metis');
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      const line = child.stdout.split('\n').filter((l) => l.startsWith('{')).at(-1);
      if (child.status !== 0 || !line) throw new Error(`sar-bench N=${workers} remat=${remat} failed (${child.status ?? child.signal}): ${child.stderr.split('\n').filter((l) => !l.includes('maxDynamic')).slice(-5).join(' | ')}`);
      const row = JSON.parse(line) as SarBenchRow;
      rows.push(row);
      log(
        `N=${workers} ${remat ? 'SAR     ' : 'no-remat'} peak/worker ${(row.peakBytesPerWorker / 2 ** 20).toFixed(1)} MiB · sent/worker/epoch ${(row.bytesSentPerWorker / 2 ** 20).toFixed(1)} MiB · ` +
          `edge cut ${row.edgeCut} (random ${row.randomEdgeCut}, ${(row.edgeCut / Math.max(1, row.randomEdgeCut)).toFixed(3)}×) · ${row.epochSeconds.toFixed(1)} s · loss ${row.loss.toFixed(5)}`,
      );
    }
  }
  const base = rows.find((r) => r.workers === 1 && r.remat);
  if (base) {
    for (const r of rows) log(`N=${r.workers} ${r.remat ? 'SAR' : 'no-remat'}: ${(r.peakBytesPerWorker / base.peakBytesPerWorker).toFixed(3)}× of N=1`);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = benchArgs(process.argv.slice(2));
  const one = args.value('--one');
  const options = {
    nodes: args.number('--nodes') ?? 200_000,
    // 3.8 M edge-list entries give 2.1 M distinct undirected edges (hubs repeat edges inside communities).
    edges: args.number('--edges') ?? 3_800_000,
    features: args.number('--features') ?? 128,
    hidden: args.number('--hidden') ?? 128,
    layers: args.number('--layers') ?? 3,
    workers: (args.value('--workers') ?? '1,2,4,8').split(',').map(Number),
    partition: (args.value('--partition') ?? 'metis') as PartitionMethod,
    epochs: args.number('--epochs') ?? 1,
  };
  if (one) {
    const [workers, remat] = one.split(':').map(Number);
    console.log(JSON.stringify(await measureOne(options, workers, remat === 1)));
  } else {
    const rows = await runSarBench(options);
    const out = args.value('--json');
    if (out) writeFileSync(out, JSON.stringify(rows, null, 2));
  }
  process.exit(0);
}
