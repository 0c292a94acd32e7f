// The model contract: any Module with forward(graph, x) trains on one device and under SAR (in-process
// and worker threads) with the same losses; names come from fields; checkpoints are checked by name and
// shape; training mode switches dropout; SAR refuses, before training, an op it cannot partition; a wrong
// shape is an error naming the layer.
//
// Tolerance: SAR vs one device differ only in the order of f32 additions (see sar.test.ts): losses agree
// to relative 1e-5 per epoch, as for the built-in models.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loopOptions, trainToEnd } from '../../src/engines/node-classification.ts';
import { PartitionError } from '../../src/engines/sar/partition-check.ts';
import { SingleEngine } from '../../src/engines/single.ts';
import { losses } from './fixtures/engine-losses.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { syntheticNodeDataset } from '../../src/graph/synthetic.ts';
import { ReLU } from '../../src/nn/activation.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { GCNConv } from '../../src/nn/gcn-conv.ts';
import { GraphInput } from '../../src/nn/graph-input.ts';
import { blocksOf } from '../../src/nn/graph-module.ts';
import { ShapeError } from '../../src/nn/input-checks.ts';
import { Linear } from '../../src/nn/linear.ts';
import { ParameterMismatchError } from '../../src/nn/module.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { createSarEngine } from '../../src/node/sar-setup.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { FirstRowsModel } from './fixtures/first-rows-model.ts';
import { ResidualGCN } from './fixtures/residual-gcn.ts';

const dataset = syntheticNodeDataset({ numNodes: 300, numEdges: 1200, numFeatures: 20, numClasses: 4, seed: 11 });
const options = { epochs: 4, patience: 0, lr: 0.01, seed: 3 };
const training = loopOptions(options).training;

let shared: Gpu | null = null;
async function gpu(): Promise<Gpu> {
  shared ??= await createNodeGpu({ label: 'model contract' });
  return shared;
}

function maxRelative(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(1e-12, Math.abs(b[i]))));
}

const make = () => new ResidualGCN(dataset.numFeatures, 16, dataset.numClasses);

test('parameters of a model of one\'s own are named by its fields', () => {
  assert.deepEqual(
    make().parameterShapes().map(([n]) => n),
    ['conv1.bias', 'conv1.lin.weight', 'conv2.bias', 'conv2.lin.weight', 'conv3.bias', 'conv3.lin.weight'],
  );
  const seq = new Sequential({ drop: new Dropout(0.5), conv: new GCNConv(4, 3), act: new ReLU(), head: new Linear(3, 2) });
  assert.deepEqual(seq.parameterShapes(), [['conv.bias', [3]], ['conv.lin.weight', [4, 3]], ['head.weight', [3, 2]], ['head.bias', [2]]]);
  assert.equal(blocksOf(seq).length, 4);
  assert.equal((seq.blocks()[1] as GCNConv).path, 'conv');
  assert.equal(blocksOf(make()).length, 1);
});

test('a user model trains on one device, and SAR (2 and 4 workers, in-process) gives the same losses within 1e-5', async () => {
  const reference = await losses(new SingleEngine(await gpu(), make(), dataset, training), options.epochs);
  assert.ok(reference[reference.length - 2] < reference[0], `training loss should fall: ${reference}`);
  for (const workers of [2, 4]) {
    const sar = await createSarEngine(dataset, make, training, { workers, transport: 'local', remat: true, partition: 'metis' });
    const diff = maxRelative(await losses(sar, options.epochs), reference);
    assert.ok(diff < 1e-5, `${workers} workers: max relative loss difference ${diff}`);
  }
});

test('SAR over worker threads rebuilds the user model from its module and gives the same losses', async () => {
  const reference = await losses(new SingleEngine(await gpu(), make(), dataset, training), 2);
  const source = { module: new URL('./fixtures/residual-gcn.ts', import.meta.url).href, export: 'ResidualGCN', args: [dataset.numFeatures, 16, dataset.numClasses] };
  const sar = await createSarEngine(dataset, source, training, { workers: 2, transport: 'threads', remat: true, partition: 'metis' });
  const diff = maxRelative(await losses(sar, 2), reference);
  assert.ok(diff < 1e-5, `threads: max relative loss difference ${diff}`);
  await assert.rejects(
    createSarEngine(dataset, make, training, { workers: 2, transport: 'threads', remat: true, partition: 'metis' }),
    /worker threads \(SAR or pipe\) builds the model inside each thread.*module/,
  );
});

test('SAR refuses, before training starts, an op it cannot partition, naming the op and the layer', async () => {
  await assert.rejects(
    createSarEngine(dataset, () => new FirstRowsModel(dataset.numFeatures, dataset.numClasses), training, { workers: 2, transport: 'local', remat: true, partition: 'metis' }),
    (error: Error) => error instanceof PartitionError && /op 'sliceRows' in layer 'FirstRowsModel'/.test(error.message),
  );
  // Over worker threads too, refused in the thread, and the threads still end cleanly.
  await assert.rejects(
    createSarEngine(dataset, { module: new URL('./fixtures/first-rows-model.ts', import.meta.url).href, export: 'FirstRowsModel', args: [dataset.numFeatures, dataset.numClasses] }, training, { workers: 2, transport: 'threads', remat: true, partition: 'metis' }),
    /SAR cannot partition op 'sliceRows' in layer 'FirstRowsModel'/,
  );
  // The same model is fine on one device.
  const engine = new SingleEngine(await gpu(), new FirstRowsModel(dataset.numFeatures, dataset.numClasses), dataset, training);
  const out = await losses(engine, 1);
  assert.ok(out.every(Number.isFinite));
});

test('a checkpoint whose parameter names or shapes differ from the model is refused, naming each', async () => {
  const first = new SingleEngine(await gpu(), make(), dataset, training);
  for await (const _ of first.run(1));
  const saved = await first.snapshot();
  first.dispose();
  // Same names, other widths.
  const wider = new ResidualGCN(dataset.numFeatures, 32, dataset.numClasses);
  assert.throws(
    () => new SingleEngine(shared!, wider, dataset, training, saved),
    (e: Error) => e instanceof ParameterMismatchError && /'conv1\.lin\.weight' is \[20,32\] in the model but \[20,16\]/.test(e.message),
  );
  // Other names.
  const other = new Sequential({ a: new GCNConv(dataset.numFeatures, 16), b: new GCNConv(16, dataset.numClasses) });
  assert.throws(
    () => new SingleEngine(shared!, other, dataset, training, saved),
    (e: Error) => e instanceof ParameterMismatchError && /no values for parameter 'a\.lin\.weight'/.test(e.message) && /'conv3\.bias' is not a parameter/.test(e.message),
  );
  // The matching model resumes.
  const resumed = new SingleEngine(shared!, make(), dataset, training, saved);
  assert.equal(resumed.currentEpoch, 1);
  resumed.dispose();
});

test('training mode is real state: dropout drops in training and is the identity in eval mode', async () => {
  const g = await gpu();
  const graph = new GraphInput(g, 8, Int32Array.of(0, 1), Int32Array.of(1, 2));
  graph.random = { seed: 1, step: 0 };
  const model = new Sequential([new Dropout(0.5)]);
  const x = fromArray(g, new Float32Array(64).fill(1), [8, 8]);
  model.train();
  assert.equal(model.blocks()[0].training, true);
  const dropped = Array.from(await (await model.forward(graph, x)).toArray());
  assert.ok(dropped.some((v) => v === 0) && dropped.some((v) => v === 2), `training: zeros and 2s expected, got ${dropped.slice(0, 8)}`);
  model.eval();
  assert.equal(model.blocks()[0].training, false);
  assert.deepEqual(Array.from(await (await model.forward(graph, x)).toArray()), new Array(64).fill(1));
  graph.dispose();
});

test('typed errors: a wrong input width, a row count that is not the graph\'s, an output that does not match the classes', async () => {
  const g = await gpu();
  const graph = new GraphInput(g, 5, Int32Array.of(0, 1), Int32Array.of(1, 2));
  const model = new Sequential({ conv1: new GCNConv(6, 4), act: new ReLU(), conv2: new GCNConv(4, 3) }).materialize(g, 0);
  await assert.rejects(
    async () => model.forward(graph, fromArray(g, new Float32Array(5 * 7), [5, 7])),
    (e: Error) => e instanceof ShapeError && /'conv1' \(GCNConv\): input .*has 7 columns, the layer expects 6/.test(e.message),
  );
  await assert.rejects(
    async () => model.forward(graph, fromArray(g, new Float32Array(4 * 6), [4, 6])),
    (e: Error) => e instanceof ShapeError && /'conv1' \(GCNConv\): input .*has 4 rows but the graph has 5 nodes/.test(e.message),
  );
  model.dispose();
  graph.dispose();
  const narrow = new ResidualGCN(dataset.numFeatures, 16, dataset.numClasses + 1);
  await assert.rejects(
    trainToEnd(new SingleEngine(g, narrow, dataset, training), { epochs: 1, patience: 0 }),
    (e: Error) => e instanceof ShapeError && /should be \[300, 4\].*make the last layer's output width 4/.test(e.message),
  );
});

test.after(() => shared?.destroy());

test('webgnn train --model FILE: a model of one\'s own from the command line, --mode sar --workers 4 ends at the single-device loss', async () => {
  const file = fileURLToPath(new URL('./fixtures/residual-gcn.ts', import.meta.url));
  const run = (extra: string[]) => {
    const out = execFileSync(process.execPath, ['scripts/webgnn.mjs', 'train', '--model', file, '--epochs', '3', '--patience', '0', '--json', '--no-progress', ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').at(-1)!) as { final_loss: number; mode: string; workers: number; model: string };
  };
  const single = run([]);
  const sar = run(['--mode', 'sar', '--workers', '4']);
  assert.equal(sar.workers, 4);
  assert.equal(single.model, file);
  assert.ok(Math.abs(sar.final_loss - single.final_loss) <= 1e-5 * single.final_loss, `SAR ${sar.final_loss} vs one device ${single.final_loss}`);
  assert.throws(
    () => execFileSync(process.execPath, ['scripts/webgnn.mjs', 'train', '--model', 'transformer', '--epochs', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    (e: Error & { stderr: string }) => /--model must be gcn, sage, gat, gcnii, resgcn or a module file/.test(e.stderr),
  );
});
