// The deep models (GCNII, ResGCN+, residual GCN and GraphSAGE) against float64 CPU references: the GCNII
// and res+ blocks forward and backward (gradients by central differences of the reference), a whole
// GCNII-4 forward, SAR over 2 workers against one device, the CLI, the two weight decays, checkpoints,
// and the block contract a pipeline relies on (one tensor in and out, at most one aggregation per block).
//
// Tolerances.
// - Forward: the GPU computes in f32 what the reference computes in float64; inputs and weights are O(1),
//   sums have at most ~2·hidden terms per layer, so values agree to a few f32 ulps of O(1) per layer, and
//   the errors add up over GCNII-4's 6 blocks: abs 1e-5 + rel 1e-4 for both (measured: ≤ 3.6e-7 for one
//   block, ≤ 1.2e-7 for GCNII-4).
// - Gradients: ⟨∇L, v⟩ of the GPU backward against (L(p + εv) − L(p − εv)) / 2ε of the float64 reference
//   (ε = 1e-5: truncation O(ε²) and float64 rounding are far below f32's), along a random direction v with
//   L = Σ w·f and random w; the GPU gradient is f32, summed over ≤ 12·(2·hidden) terms: abs 1e-5 + rel 1e-4
//   (measured: relative ≤ 1.5e-7).
//   ReLU's kink does not bite: no pre-activation of these random inputs lies within ε of 0 (the check
//   would show a jump far above the tolerance).
// - SAR vs one device: only the order of f32 additions differs (sar.test.ts): losses within 1e-4 as asked
//   (measured ≤ 2.4e-7).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { losses } from './fixtures/engine-losses.ts';
import { SingleEngine } from '../../src/engines/single.ts';
import { buildOptimizer } from '../../src/engines/training-state.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { syntheticNodeDataset } from '../../src/graph/synthetic.ts';
import type { Csr } from '../../src/graph/csr.ts';
import { gcniiTheta } from '../../src/nn/gcnii-conv.ts';
import { GraphInput, type Aggregation, type NodeGraph } from '../../src/nn/graph-input.ts';
import { blocksOf, type GraphModule } from '../../src/nn/graph-module.ts';
import { Module, nameHash } from '../../src/nn/module.ts';
import { builtinModel, modelConfigFor, resolveModelConfig } from '../../src/nn/models/builtin.ts';
import { GCNII, GCNIIBlock, GCNII_DEFAULTS } from '../../src/nn/models/gcnii.ts';
import { NodeClassifier, type NodeModelConfig } from '../../src/nn/models/node-classifier.ts';
import { ResGCNPlusBlock } from '../../src/nn/models/resgcn.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/nn/checkpoint.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { createSarEngine } from '../../src/node/sar-setup.ts';
import { fromArray } from '../../src/tensor/create.ts';
import { dropoutReference } from '../../src/tensor/ops/dropout.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import { layerNormReference } from '../../src/tensor/ops/layer-norm.ts';
import { matmulReference } from '../../src/tensor/ops/matmul.ts';
import { spmmReference } from '../../src/tensor/ops/spmm.ts';
import { RNG_STREAM } from '../../src/tensor/random.ts';
import { withScopeAsync } from '../../src/tensor/scope.ts';
import { backwardAsync } from '../../src/tensor/tape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { randomArray } from '../cases/harness.ts';
import { webgnn } from './cli-run.ts';

let shared: Gpu | null = null;
async function gpu(): Promise<Gpu> {
  shared ??= await createNodeGpu({ label: 'deep models' });
  return shared;
}
after(() => shared?.destroy());

// A small random graph: 12 nodes, 30 undirected edges.
const N = 12;
const edges = randomArray(60, 21, 0, N);
const SRC = Int32Array.from(edges.subarray(0, 30), Math.floor);
const DST = Int32Array.from(edges.subarray(30), Math.floor);
const KEY = { seed: 4, step: 2 };

type Params = Map<string, Float64Array>;
type Reference = (x: Float64Array, p: Params) => Float64Array;

/** float64 helpers over row-major [rows, cols] arrays. */
const ref = {
  cols: (x: ArrayLike<number>, cols: number, start: number, count: number) =>
    Float64Array.from({ length: (x.length / cols) * count }, (_, i) => x[Math.floor(i / count) * cols + start + (i % count)]),
  concat: (a: Float64Array, b: Float64Array, ca: number, cb: number) =>
    Float64Array.from({ length: a.length + b.length }, (_, i) => {
      const r = Math.floor(i / (ca + cb));
      const c = i % (ca + cb);
      return c < ca ? a[r * ca + c] : b[r * cb + c - ca];
    }),
  relu: (x: Float64Array) => x.map((v) => Math.max(v, 0)),
  axpy: (a: Float64Array, b: Float64Array, alpha: number, beta = 1) => a.map((v, i) => beta * v + alpha * b[i]),
  bias: (x: Float64Array, b: Float64Array) => x.map((v, i) => v + b[i % b.length]),
  mm: (x: Float64Array, w: Float64Array, k: number, n: number) => matmulReference(x, w, x.length / k, n, k),
  /** The Dropout module at `path`, first call of a step keyed by KEY (rows are global ids 0..n-1). */
  dropout: (x: Float64Array, cols: number, p: number, path: string) =>
    dropoutReference(x, x.length / cols, cols, { p, seed: KEY.seed, step: KEY.step, stream: (RNG_STREAM.dropout ^ nameHash(path)) >>> 0 }),
};

/** The GCNII block at `path` (layer l): [H ‖ h0] → [ReLU(θ·S·W + (1 − θ)·S) ‖ h0], S = (1 − α)·Â·drop(H) + α·h0. */
function gcniiBlockReference(adj: Csr, hidden: number, dropout: number, layer: number, path: string): Reference {
  const { alpha, lambda } = GCNII_DEFAULTS;
  const theta = gcniiTheta(lambda, layer);
  return (x, p) => {
    const h = ref.dropout(ref.cols(x, 2 * hidden, 0, hidden), hidden, dropout, `${path}drop`);
    const h0 = ref.cols(x, 2 * hidden, hidden, hidden);
    const s = ref.axpy(spmmReference(adj, h, hidden), h0, alpha, 1 - alpha);
    const out = ref.relu(ref.axpy(ref.mm(s, p.get(`${path}conv.weight`)!, hidden, hidden), s, 1 - theta, theta));
    return ref.concat(out, h0, hidden, hidden);
  };
}

/** The res+ block at `path`: x + GCNConv(drop(ReLU(LayerNorm(x)))). */
function resPlusReference(adj: Csr, channels: number, dropout: number, path: string): Reference {
  return (x, p) => {
    const normed = layerNormReference.forward(x, p.get(`${path}norm.weight`)!, p.get(`${path}norm.bias`)!);
    const h = ref.dropout(ref.relu(normed), channels, dropout, `${path}drop`);
    const conv = ref.bias(spmmReference(adj, ref.mm(h, p.get(`${path}conv.lin.weight`)!, channels, channels), channels), p.get(`${path}conv.bias`)!);
    return ref.axpy(x, conv, 1);
  };
}

/** GCNII with `layers` convolutions, every dropout keyed as the model's Dropout modules are. */
function gcniiReference(adj: Csr, c: { inChannels: number; hiddenChannels: number; outChannels: number; layers: number; dropout: number }): Reference {
  const hidden = c.hiddenChannels;
  const blocks = Array.from({ length: c.layers }, (_, i) => gcniiBlockReference(adj, hidden, c.dropout, i + 1, `conv${i + 1}.`));
  return (x, p) => {
    const xd = ref.dropout(x, c.inChannels, c.dropout, 'input.drop');
    const h0 = ref.relu(ref.bias(ref.mm(xd, p.get('input.lin.weight')!, c.inChannels, hidden), p.get('input.lin.bias')!));
    let h: Float64Array = ref.concat(h0, h0, hidden, hidden);
    for (const block of blocks) h = block(h, p);
    const top = ref.dropout(ref.cols(h, 2 * hidden, 0, hidden), hidden, c.dropout, 'output.drop');
    return ref.bias(ref.mm(top, p.get('output.lin.weight')!, hidden, c.outChannels), p.get('output.lin.bias')!);
  };
}

function graphOn(g: Gpu): GraphInput {
  const graph = new GraphInput(g, N, SRC, DST);
  graph.random = { ...KEY };
  return graph;
}

async function parameterValues(m: Module): Promise<Params> {
  const out: Params = new Map();
  for (const [name, t] of m.namedParameters()) out.set(name, Float64Array.from(await t.toArray()));
  return out;
}

function assertClose(got: ArrayLike<number>, expected: ArrayLike<number>, tol: { abs: number; rel: number }, what: string): number {
  assert.equal(got.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - expected[i]);
    assert.ok(err <= tol.abs + tol.rel * Math.abs(expected[i]), `${what}[${i}]: ${got[i]} vs ${expected[i]} (|err| ${err.toExponential(2)})`);
    worst = Math.max(worst, err);
  }
  return worst;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * The block's forward (training mode, dropout on) equals `reference`, and its backward — with respect to
 * the input and every parameter — equals central differences of the reference along random directions.
 */
async function checkBlock(block: GraphModule, inWidth: number, reference: Reference, what: string, randomized: string[] = []): Promise<void> {
  const g = await gpu();
  const graph = graphOn(g);
  block.materialize(g, 9).train();
  if (randomized.length) {
    // Parameters that start at 1 or 0 get random values, so that the forward depends on them.
    const values = new Map<string, Float32Array>();
    for (const [name, t] of block.namedParameters()) values.set(name, randomized.includes(name) ? randomArray(t.size, 60 + values.size, 0.5, 1.5) : Float32Array.from(await t.toArray()));
    block.materialize(g, 9, values);
  }
  const x = Float64Array.from(randomArray(N * inWidth, 31));
  const params = await parameterValues(block);
  const expected = reference(x, params);
  const w = Float64Array.from(randomArray(expected.length, 32));
  const { out, grads } = await withScopeAsync(g, async () => {
    const xt = fromArray(g, Float32Array.from(x), [N, inWidth], { requiresGrad: true });
    const y = await block.forward(graph, xt);
    await backwardAsync(y, fromArray(g, Float32Array.from(w), y.shape), accumulateGrad);
    const grads = new Map<string, Float32Array>([['input', Float32Array.from(await xt.grad!.toArray())]]);
    for (const [name, t] of block.namedParameters()) {
      grads.set(name, Float32Array.from(await t.grad!.toArray()));
      t.grad!.dispose();
      t.grad = null;
    }
    xt.grad!.dispose();
    return { out: Float32Array.from(await y.toArray()), grads };
  });
  assertClose(out, expected, { abs: 1e-5, rel: 1e-4 }, `${what} forward`);
  const eps = 1e-5;
  for (const [name, grad] of grads) {
    const v = Float64Array.from(randomArray(grad.length, 40 + grads.size + name.length));
    const shifted = (sign: number) => {
      if (name === 'input') return dot(w, reference(ref.axpy(x, v, sign * eps), params));
      const p = new Map(params);
      p.set(name, ref.axpy(params.get(name)!, v, sign * eps));
      return dot(w, reference(x, p));
    };
    const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
    assertClose([dot(grad, v)], [numeric], { abs: 1e-5, rel: 1e-4 }, `${what}: directional derivative w.r.t. ${name}`);
  }
  graph.dispose();
  block.dispose();
}

test('GCNII block: forward equals the float64 reference, gradients (input and weight) equal its central differences', async () => {
  const hidden = 8;
  const graph = graphOn(await gpu());
  const adj = graph.csr('gcn');
  graph.dispose();
  // Layer 3: θ = log(0.5/3 + 1); dropout 0.3 on H only.
  await checkBlock(new GCNIIBlock(hidden, { dropout: 0.3, layer: 3 }), 2 * hidden, gcniiBlockReference(adj, hidden, 0.3, 3, ''), 'GCNII block');
});

test('ResGCN+ block: forward equals the float64 reference, gradients (input, norm, conv) equal its central differences', async () => {
  const channels = 8;
  const graph = graphOn(await gpu());
  const adj = graph.csr('gcn');
  graph.dispose();
  // A fresh LayerNorm is (1, 0) and a fresh bias 0: they get random values, so the forward tests their use too.
  const block = new ResGCNPlusBlock(channels, 0.3);
  await checkBlock(block, channels, resPlusReference(adj, channels, 0.3, ''), 'res+ block', ['norm.weight', 'norm.bias', 'conv.bias']);
});

test('GCNII-4: the whole model forward (training mode, every dropout on) equals a float64 reference of it', async () => {
  const g = await gpu();
  const graph = graphOn(g);
  const config = { inChannels: 10, hiddenChannels: 8, outChannels: 3, layers: 4, dropout: 0.4 };
  const model = new GCNII(config).materialize(g, 5).train();
  const x = Float64Array.from(randomArray(N * config.inChannels, 51));
  const expected = gcniiReference(graph.csr('gcn'), config)(x, await parameterValues(model));
  const got = await withScopeAsync(g, async () => Float32Array.from(await (await model.forward(graph, fromArray(g, Float32Array.from(x), [N, config.inChannels]))).toArray()));
  assertClose(got, expected, { abs: 1e-5, rel: 1e-4 }, 'GCNII-4 logits');
  // Dropout really ran: the eval-mode forward differs.
  const evaluated = await withScopeAsync(g, async () => Float32Array.from(await (await model.eval().forward(graph, fromArray(g, Float32Array.from(x), [N, config.inChannels]))).toArray()));
  assert.ok(evaluated.some((v, i) => Math.abs(v - got[i]) > 1e-3), 'eval mode equals training mode: dropout did not run');
  model.dispose();
  graph.dispose();
});

/** Wraps a graph and counts aggregations (and attention calls) per call site. */
class CountingGraph implements NodeGraph {
  calls = 0;
  constructor(private readonly inner: GraphInput) {}
  get numNodes() {
    return this.inner.numNodes;
  }
  get rowIds() {
    return this.inner.rowIds;
  }
  get random() {
    return this.inner.random;
  }
  aggregate(kind: Aggregation, x: Tensor) {
    this.calls++;
    return this.inner.aggregate(kind, x);
  }
  attend(...args: Parameters<GraphInput['attend']>) {
    this.calls++;
    return this.inner.attend(...args);
  }
}

test('the deep models are Sequentials of one-tensor blocks that aggregate at most once each, from 2 to 64 layers', async () => {
  const g = await gpu();
  const graph = graphOn(g);
  const base = { inChannels: 6, hiddenChannels: 4, outChannels: 3, dropout: 0.5 };
  const cases: Array<[NodeModelConfig, number]> = [
    [{ kind: 'gcnii', ...base, layers: 64 }, 64],
    [{ kind: 'resgcn', ...base, layers: 64 }, 64],
    [{ kind: 'gcn', ...base, layers: 64, residual: true }, 64],
    [{ kind: 'sage', ...base, layers: 3, residual: true }, 3],
    [{ kind: 'gcnii', ...base, layers: 2 }, 2],
  ];
  for (const [config, convs] of cases) {
    const model = new NodeClassifier(config).materialize(g, 1).train();
    assert.equal(model.convs.length, convs, `${config.kind}-${config.layers}: convolutions`);
    let h: Tensor = fromArray(g, randomArray(N * base.inChannels, 3), [N, base.inChannels]);
    let aggregating = 0;
    for (const block of blocksOf(model) as GraphModule[]) {
      const counting = new CountingGraph(graph);
      h = await block.forward(counting, h);
      assert.ok(counting.calls <= 1, `${config.kind}: block '${block.path}' aggregates ${counting.calls} times`);
      aggregating += counting.calls;
    }
    assert.equal(aggregating, convs, `${config.kind}-${config.layers}: blocks that aggregate`);
    assert.deepEqual(h.shape, [N, base.outChannels]);
    if (config.residual) assert.ok(blocksOf(model).some((b) => b.path === 'res2'), 'residual blocks res2, …');
    model.dispose();
  }
  graph.dispose();
});

test('settings a model kind does not take are refused, with the reason', () => {
  const base = { inChannels: 6, hiddenChannels: 4, outChannels: 3, dropout: 0.5 };
  assert.throws(() => new NodeClassifier({ kind: 'gat', ...base, layers: 4, residual: true }), /residual applies to 'gcn' and 'sage'; 'gat'/);
  assert.throws(() => new NodeClassifier({ kind: 'gcnii', ...base, residual: true }), /'gcnii' has residual connections of its own/);
  assert.throws(() => new NodeClassifier({ kind: 'gcn', ...base, residual: true }), /needs layers ≥ 3, got 2/);
  assert.throws(() => new NodeClassifier({ kind: 'gcn', ...base, convWeightDecay: 0.1 }), /convWeightDecay is a GCNII setting/);
});

test("weightDecayFor: GCNII's convolutions 0.01 (or the config's), its two linear layers the run's; the optimizer groups them so", async () => {
  const dataset = { numFeatures: 10, numClasses: 3 };
  const config = modelConfigFor(dataset as never, { model: 'gcnii', hidden: 8, layers: 3, dropout: 0.6 });
  assert.deepEqual([config.layers, config.alpha, config.lambda, config.convWeightDecay], [3, 0.1, 0.5, 0.01]);
  for (const model of [new NodeClassifier(config), new GCNII({ inChannels: 10, hiddenChannels: 8, outChannels: 3, layers: 3, dropout: 0.6 })]) {
    const decays = Object.fromEntries(model.parameterShapes().map(([name]) => [name, model.weightDecayFor(name, 5e-4)]));
    assert.deepEqual(decays, {
      'input.lin.weight': 5e-4,
      'input.lin.bias': 5e-4,
      'conv1.conv.weight': 0.01,
      'conv2.conv.weight': 0.01,
      'conv3.conv.weight': 0.01,
      'output.lin.weight': 5e-4,
      'output.lin.bias': 5e-4,
    });
  }
  const own = new NodeClassifier(modelConfigFor(dataset as never, { model: 'gcnii', hidden: 8, layers: 2, dropout: 0.6, convWeightDecay: 0.05 }));
  assert.equal(own.weightDecayFor('conv2.conv.weight', 1e-3), 0.05);
  assert.equal(own.weightDecayFor('output.lin.weight', 1e-3), 1e-3);
  // Other kinds keep the run's decay everywhere.
  const res = new NodeClassifier(modelConfigFor(dataset as never, { model: 'resgcn', hidden: 8, layers: 2, dropout: 0.5 }));
  assert.ok(res.parameterShapes().every(([name]) => res.weightDecayFor(name, 5e-4) === 5e-4));
  const g = await gpu();
  own.materialize(g, 0);
  const optimizer = buildOptimizer(own, own.namedParameters(), { optimizer: 'adam', lr: 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: false });
  const groups = new Map(optimizer.groups.map((group) => [group.weightDecay, group.params.length]));
  assert.deepEqual(Object.fromEntries(groups), { 0.0005: 4, 0.05: 2 });
  own.dispose();
});

const dataset = syntheticNodeDataset({ numNodes: 200, numEdges: 800, numFeatures: 16, numClasses: 4, seed: 7 });
const run = { model: 'gcnii' as const, hidden: 16, layers: 4, dropout: 0.6 };
const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 5e-4, seed: 3, decayFirstLayerOnly: false };

test('SAR: GCNII-4 over 2 workers gives the losses of one device (within 1e-4 every epoch)', async () => {
  const config = modelConfigFor(dataset, run);
  const expected = await losses(new SingleEngine(await gpu(), new NodeClassifier(config), dataset, training), 3);
  const sar = await createSarEngine(dataset, { builtin: config }, training, { workers: 2, transport: 'local', remat: true, partition: 'metis' });
  const got = await losses(sar, 3);
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= 1e-4, `loss ${i}: ${got[i]} vs ${expected[i]}`);
  assert.ok(expected[4] < expected[0], `the loss falls: ${expected}`);
});

test('a GCNII checkpoint rebuilds the model from its config, with the same weights; the GCNII class describes the same config', async () => {
  const g = await gpu();
  const first = new SingleEngine(g, builtinModel(dataset, run), dataset, training);
  for await (const m of first.run(2)) assert.ok(Number.isFinite(m.loss));
  const saved = decodeCheckpoint(encodeCheckpoint(await first.snapshot()));
  await first.dispose();
  const config = resolveModelConfig(dataset, run, saved);
  assert.deepEqual(config, modelConfigFor(dataset, run));
  const resumed = new SingleEngine(g, builtinModel(dataset, run, saved), dataset, training, saved);
  const before = new Map(saved.tensors.filter((t) => t.name.startsWith('param:')).map((t) => [t.name.slice(6), Array.from(t.data)]));
  const after = await parameterValues(resumed.model);
  assert.deepEqual([...after.keys()], [...before.keys()]);
  for (const [name, values] of after) assert.deepEqual(Array.from(values, Math.fround), before.get(name), name);
  assert.ok((await losses(resumed, 1)).every(Number.isFinite), 'the resumed model trains');
  // A model built from the class has the built-in config and the same parameters.
  const own = new GCNII({ inChannels: 16, hiddenChannels: 16, outChannels: 4, layers: 4, dropout: 0.6 });
  const rebuilt = new NodeClassifier(own.describe() as unknown as NodeModelConfig);
  assert.deepEqual(rebuilt.parameterShapes(), own.parameterShapes());
  assert.throws(() => resolveModelConfig(dataset, { ...run, model: 'resgcn' }, saved), /model is 'gcnii', not 'resgcn'/);
});


test('webgnn train --model gcnii --layers 4 --epochs 3 --json: GCNII trains with its published settings; flags that do not apply are refused', () => {
  const r = webgnn('train', '--model', 'gcnii', '--layers', '4', '--epochs', '3', '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual([j.model, j.layers, j.hidden, j.lr, j.dropout, j.weight_decay, j.conv_weight_decay, j.epochs], ['gcnii', 4, 64, 0.01, 0.6, 5e-4, 0.01, 3]);
  assert.ok(Number.isFinite(j.final_loss) && (j.test_acc as number) > 0, `loss ${j.final_loss}, test accuracy ${j.test_acc}`);
  const refused: Array<[string[], RegExp]> = [
    [['--model', 'gcnii', '--heads', '2'], /--heads .*needs --model gat; this run is --model gcnii/],
    [['--model', 'gcnii', '--residual'], /--residual .*--model gcnii has residual connections of its own/],
    [['--model', 'gat', '--residual'], /--residual .*this run is --model gat/],
    [['--model', 'gcn', '--conv-weight-decay', '0.1'], /--conv-weight-decay .*needs --model gcnii/],
  ];
  for (const [flags, message] of refused) {
    const bad = webgnn('train', '--epochs', '1', '--no-progress', ...flags);
    assert.equal(bad.code, 1, flags.join(' '));
    assert.match(bad.stderr, message);
  }
});
