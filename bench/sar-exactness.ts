// SAR exactness on Cora: the per-epoch training and validation losses of N = 2 and 4 SAR workers against
// the single-device engine (N = 1) from the same seed, largest relative difference over the run.
// Run: node --import ./scripts/register.mjs bench/sar-exactness.ts [--epochs 100] [--model gcn|sage|gat] [--workers 2,4]

import { pathToFileURL } from 'node:url';
import { type NodeRunOptions } from '../src/engines/node-classification.ts';
import { SingleEngine } from '../src/engines/single.ts';
import { builtinModel, modelConfigFor } from '../src/nn/models/builtin.ts';
import type { Engine } from '../src/engines/engine.ts';
import { loadNodeDataset } from '../src/graph/node-dataset.ts';
import { resolveDatasetSource } from '../src/node/dataset-source.ts';
import { createNodeGpu } from '../src/node/node-gpu.ts';
import { createSarEngine } from '../src/node/sar-setup.ts';
import { benchArgs } from './args.ts';

export interface ExactnessRow {
  model: string;
  workers: number;
  epochs: number;
  maxRelativeLossDifference: number;
  finalLoss: number;
  referenceFinalLoss: number;
}

async function lossCurve(engine: Engine, epochs: number): Promise<number[]> {
  const out: number[] = [];
  for await (const m of engine.run(epochs)) out.push(m.loss, m.valLoss);
  engine.dispose();
  return out;
}

export async function benchSarExactness(model: 'gcn' | 'sage' | 'gat', epochs: number, workerCounts: number[]): Promise<ExactnessRow[]> {
  const dataset = await loadNodeDataset(resolveDatasetSource('cora'));
  // Each model's published Cora hyperparameters, as the CLI's defaults.
  const gat = model === 'gat';
  const options: NodeRunOptions = {
    model,
    hidden: gat ? 8 : 16,
    heads: 8,
    dropout: gat ? 0.6 : 0.5,
    epochs,
    patience: 0,
    training: { optimizer: 'adam', lr: gat ? 0.005 : 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: model === 'gcn' },
  };
  const gpu = await createNodeGpu({});
  const reference = await lossCurve(new SingleEngine(gpu, builtinModel(dataset, options), dataset, options.training), epochs);
  gpu.destroy();
  const rows: ExactnessRow[] = [];
  for (const workers of workerCounts) {
    const engine = await createSarEngine(dataset, { builtin: modelConfigFor(dataset, options) }, options.training, { workers, transport: 'local', remat: true, partition: 'metis' });
    const got = await lossCurve(engine, epochs);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - reference[i]) / Math.abs(reference[i])));
    rows.push({ model, workers, epochs, maxRelativeLossDifference: worst, finalLoss: got.at(-2)!, referenceFinalLoss: reference.at(-2)! });
    console.log(`${model} on Cora, ${epochs} epochs: N=${workers} vs N=1 largest relative loss difference ${worst.toExponential(2)} (final train loss ${got.at(-2)} vs ${reference.at(-2)})`);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = benchArgs(process.argv.slice(2));
  const model = (args.value('--model') ?? 'gcn') as 'gcn' | 'sage' | 'gat';
  await benchSarExactness(model, args.number('--epochs') ?? 100, (args.value('--workers') ?? '2,4').split(',').map(Number));
  process.exit(0);
}
