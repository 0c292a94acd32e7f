// One full-batch GCN epoch on Cora, webgnn's engine against the same computation written the way a
// TensorFlow.js user would on WebGPU, on the same adapter in the same process.
//
// Both epochs: 2-layer GCN (F → 16 → C), dropout 0.5 on the input and the hidden layer, ReLU,
// D^-1/2 (A + I) D^-1/2 aggregation after the feature transform, masked softmax cross-entropy on the
// training nodes, backward, Adam (lr 0.01, β 0.9/0.999, ε 1e-8) with L2 weight decay 5e-4 on the
// first layer's weight and bias added to their gradients (torch's Adam, as webgnn's optimizer), then
// an evaluation forward without dropout: validation loss and correct counts on train/val/test. The
// five numbers come back in one readback, which each epoch awaits; the epoch's time ends there.
//
// tfjs aggregation: tf.gather of the source rows × edge weights, then tf.unsortedSegmentSum by
// destination; features are a dense tf.tensor2d; gradients via tf.variableGrads; tf.train.adam.
// Both start from the same initial weights (webgnn's initialiser). Epochs of the two runtimes
// alternate, so background load on the machine hits both alike.

import type * as TfCore from '@tensorflow/tfjs-core';
import { type NodeRunOptions } from '../src/engines/node-classification.ts';
import { SingleEngine } from '../src/engines/single.ts';
import { builtinModel } from '../src/nn/models/builtin.ts';
import type { EpochMetrics } from '../src/engines/engine.ts';
import type { Gpu } from '../src/gpu/gpu.ts';
import { buildAdjacency, normalizedAdjacency, type Csr } from '../src/graph/csr.ts';
import { loadNodeDataset, type NodeDataset } from '../src/graph/node-dataset.ts';
import { initialValues } from '../src/nn/module.ts';
import { resolveDatasetSource } from '../src/node/dataset-source.ts';
import { median } from '../src/tensor/stats.ts';
import type { Tf } from './tfjs-webgpu.ts';

export interface GcnBenchOptions {
  dataset?: string;
  warmup?: number;
  epochs?: number;
  seed?: number;
}

export interface GcnSide {
  /** Median epoch time over the timed epochs. */
  medianMs: number;
  allMs: number[];
  /** Metrics of the last epoch (after warm-up + timed epochs). */
  final: { loss: number; trainAcc: number; valAcc: number; testAcc: number };
}

export interface GcnBenchResult {
  dataset: string;
  numNodes: number;
  nnz: number;
  numFeatures: number;
  numClasses: number;
  hidden: number;
  warmup: number;
  epochs: number;
  timing: string;
  webgnn: GcnSide;
  tfjs: GcnSide | null;
  /** webgnn median ÷ tfjs median (lower is better for webgnn). */
  ratio: number | null;
}

export const GCN_TIMING = 'wall time of one epoch (train step + eval forward + metrics), awaited to its single readback';

const HIDDEN = 16;
const DROPOUT = 0.5;
const LR = 0.01;
const WEIGHT_DECAY = 5e-4;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export function gcnRunOptions(seed: number, epochs: number): NodeRunOptions {
  return {
    model: 'gcn',
    hidden: HIDDEN,
    dropout: DROPOUT,
    epochs,
    patience: 0,
    training: { optimizer: 'adam', lr: LR, weightDecay: WEIGHT_DECAY, beta1: BETA1, beta2: BETA2, eps: EPS, seed, decayFirstLayerOnly: true },
  };
}

interface Epoch {
  ms: number;
  loss: number;
  trainAcc: number;
  valAcc: number;
  testAcc: number;
}

/** The tfjs model and one epoch of it. */
function tfjsGcn(tf: Tf, data: NodeDataset, csr: Csr, seed: number): { epoch(): Promise<Epoch>; dispose(): void } {
  const N = data.numNodes;
  const F = data.numFeatures;
  const C = data.numClasses;
  const nnz = csr.colIdx.length;
  const dstOfEntry = new Int32Array(nnz);
  for (let i = 0; i < N; i++) dstOfEntry.fill(i, csr.rowPtr[i], csr.rowPtr[i + 1]);

  const x = tf.tensor2d(data.features, [N, F]);
  const src = tf.tensor1d(csr.colIdx, 'int32');
  const dst = tf.tensor1d(dstOfEntry, 'int32');
  const weights = tf.tensor2d(csr.values!, [nnz, 1]);
  const labels = tf.tensor1d(data.labels, 'int32');
  const splits = { train: tf.tensor1d(data.train, 'int32'), val: tf.tensor1d(data.val, 'int32'), test: tf.tensor1d(data.test, 'int32') };
  const oneHot = { train: tf.oneHot(tf.gather(labels, splits.train), C), val: tf.oneHot(tf.gather(labels, splits.val), C) };
  // The same initial weights as webgnn's model (its initialiser, keyed by parameter name and seed).
  const init = (name: string, shape: [number, number] | [number], glorot: boolean) =>
    tf.variable(tf.tensor(initialValues(name, shape, glorot ? 'glorot' : 'zeros', seed), shape), true, name);
  // webgnn's GCNConv names its parameters as PyG does: lin.weight and bias.
  const W1 = init('conv1.lin.weight', [F, HIDDEN], true);
  const b1 = init('conv1.bias', [HIDDEN], false);
  const W2 = init('conv2.lin.weight', [HIDDEN, C], true);
  const b2 = init('conv2.bias', [C], false);
  const optimizer = tf.train.adam(LR, BETA1, BETA2, EPS);

  const aggregate = (h: TfCore.Tensor2D) => tf.unsortedSegmentSum(tf.mul(tf.gather(h, src), weights), dst, N) as TfCore.Tensor2D;
  const forward = (training: boolean) => {
    const drop = (t: TfCore.Tensor2D) => (training ? tf.dropout(t, DROPOUT) : t) as TfCore.Tensor2D;
    const h = tf.relu(tf.add(aggregate(tf.matMul(drop(x), W1)), b1)) as TfCore.Tensor2D;
    return tf.add(aggregate(tf.matMul(drop(h), W2)), b2) as TfCore.Tensor2D;
  };
  const crossEntropy = (logits: TfCore.Tensor2D, split: 'train' | 'val') =>
    tf.losses.softmaxCrossEntropy(oneHot[split], tf.gather(logits, splits[split])) as TfCore.Scalar;

  return {
    async epoch() {
      const t0 = performance.now();
      const packed = tf.tidy(() => {
        const { value: loss, grads } = tf.variableGrads(() => crossEntropy(forward(true), 'train'), [W1, b1, W2, b2]);
        // Weight decay on the first layer only, as webgnn's GCN (Kipf & Welling).
        for (const v of [W1, b1]) grads[v.name] = tf.add(grads[v.name], tf.mul(v, WEIGHT_DECAY));
        optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        const logits = forward(false);
        const correct = tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32');
        const count = (split: 'train' | 'val' | 'test') => tf.sum(tf.gather(correct, splits[split]));
        return tf.stack([loss, crossEntropy(logits, 'val'), count('train'), count('val'), count('test')]);
      });
      const v = await packed.data();
      packed.dispose();
      const n = (s: Int32Array) => Math.max(1, s.length);
      return { ms: performance.now() - t0, loss: v[0], trainAcc: v[2] / n(data.train), valAcc: v[3] / n(data.val), testAcc: v[4] / n(data.test) };
    },
    dispose() {
      for (const t of [x, src, dst, weights, labels, splits.train, splits.val, splits.test, oneHot.train, oneHot.val, W1, b1, W2, b2]) t.dispose();
      optimizer.dispose();
    },
  };
}

function summarize(epochs: Epoch[], warmup: number): GcnSide {
  const timed = epochs.slice(warmup).map((e) => e.ms);
  const last = epochs[epochs.length - 1];
  return { medianMs: median(timed), allMs: timed, final: { loss: last.loss, trainAcc: last.trainAcc, valAcc: last.valAcc, testAcc: last.testAcc } };
}

export async function benchGcnEpoch(gpu: Gpu, tf: Tf | null, options: GcnBenchOptions = {}): Promise<GcnBenchResult> {
  const name = options.dataset ?? 'cora';
  const warmup = options.warmup ?? 5;
  const epochs = options.epochs ?? 30;
  const seed = options.seed ?? 0;
  const data = await loadNodeDataset(resolveDatasetSource(name));
  const total = warmup + epochs;
  // The adjacency webgnn's GraphInput builds for GCNConv: undirected, one self loop per node, D^-1/2 (A + I) D^-1/2.
  const csr = normalizedAdjacency(buildAdjacency(data.numNodes, data.edgeSrc, data.edgeDst, { undirected: true, selfLoops: 'add' }), 'gcn');

  const engine = new SingleEngine(gpu, builtinModel(data, gcnRunOptions(seed, total)), data, gcnRunOptions(seed, total).training);
  const webgnnRun = engine.run(total);
  const tfModel = tf ? tfjsGcn(tf, data, csr, seed) : null;
  const webgnnEpochs: Epoch[] = [];
  const tfEpochs: Epoch[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const next = await webgnnRun.next();
      if (next.done) throw new Error(`webgnn's engine stopped after ${i} epochs`);
      const m: EpochMetrics = next.value;
      webgnnEpochs.push({ ms: m.epochMs, loss: m.loss, trainAcc: m.trainAcc, valAcc: m.valAcc, testAcc: m.testAcc });
      if (tfModel) tfEpochs.push(await tfModel.epoch());
    }
  } finally {
    await webgnnRun.return(undefined);
    engine.dispose();
    tfModel?.dispose();
  }
  const webgnn = summarize(webgnnEpochs, warmup);
  const tfjs = tfModel ? summarize(tfEpochs, warmup) : null;
  return {
    dataset: data.name,
    numNodes: data.numNodes,
    nnz: csr.colIdx.length,
    numFeatures: data.numFeatures,
    numClasses: data.numClasses,
    hidden: HIDDEN,
    warmup,
    epochs,
    timing: GCN_TIMING,
    webgnn,
    tfjs,
    ratio: tfjs ? webgnn.medianMs / tfjs.medianMs : null,
  };
}

export interface GcnProfile {
  epochs: number;
  /** Wall time per epoch while profiling (every dispatch in its own timed pass, so slower than unprofiled). */
  wallMsPerEpoch: number;
  /** GPU time per epoch by kernel (pipeline label), slowest first. */
  kernels: Array<{ kernel: string; callsPerEpoch: number; msPerEpoch: number; share: number }>;
  /** Sum of the kernels' GPU time per epoch. */
  gpuMsPerEpoch: number;
}

/**
 * Where webgnn's epoch goes: the same engine on a second device with the timestamp-query profiler,
 * GPU time per kernel averaged over `epochs` epochs after `warmup`.
 */
export async function profileWebgnnEpoch(
  createGpu: (profile: boolean) => Promise<Gpu>,
  options: GcnBenchOptions = {},
): Promise<GcnProfile> {
  const warmup = options.warmup ?? 2;
  const epochs = options.epochs ?? 3;
  const seed = options.seed ?? 0;
  const data = await loadNodeDataset(resolveDatasetSource(options.dataset ?? 'cora'));
  const gpu = await createGpu(true);
  const profiler = gpu.profiler;
  if (!profiler) throw new Error(`${gpu.label}: the device was created without a profiler`);
  const engine = new SingleEngine(gpu, builtinModel(data, gcnRunOptions(seed, warmup + epochs)), data, gcnRunOptions(seed, warmup + epochs).training);
  try {
    let wall = 0;
    let i = 0;
    for await (const m of engine.run(warmup + epochs)) {
      if (++i === warmup) {
        await profiler.report();
        profiler.reset();
      } else if (i > warmup) wall += m.epochMs;
    }
    const kernels = await profiler.report();
    const gpuMs = kernels.reduce((s, k) => s + k.ms, 0);
    return {
      epochs,
      wallMsPerEpoch: wall / epochs,
      gpuMsPerEpoch: gpuMs / epochs,
      kernels: kernels.map((k) => ({ kernel: k.kernel, callsPerEpoch: k.calls / epochs, msPerEpoch: k.ms / epochs, share: k.ms / gpuMs })),
    };
  } finally {
    engine.dispose();
    gpu.destroy();
  }
}
