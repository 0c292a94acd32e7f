// The hybrid pipeline (--graph-parallel M: M replicas of every stage, each owning C/M chunks, exchanging
// mirror rows at every aggregation and all-reducing gradients; after Mithril's hybrid parallelism):
// - one stage, M ways, one chunk per way is pure graph parallelism: every row a chunk reads is its
//   concurrent chunk's, received at that very aggregation, so training is single-device training — with
//   the tricks on too, since received gradients are stored ×1 for the chunk that reads them now;
// - where the pipeline is cut changes nothing: 2 stages × 2 ways equal 1 stage × 2 ways, tricks off;
// - in-process and worker threads give bit-identical losses;
// - ages stay within the snapshot period; the bytes each worker reports equal what its transport moved;
// - a lost replica (in-process or a thread) ends the run with an error naming it; bad settings are refused before training.
//
// Tolerances. Against one device: the gradient of a weight is summed per way and then across ways by the
// all-reduce, in another order than one device's single sum, and the float32 rounding of each order
// differs by ~1e-7 relative; 1e-5 on the loss is the bound for "equals single". Between cuts of
// the same ways: the same kernels in the same order, 1e-6 (measured bit-identical), as pipe.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import type { PipeEngine } from '../../src/engines/pipe/pipe-engine.ts';
import { pipeDefaults, TRICKS_OFF, type PipeOptions } from '../../src/engines/pipe/pipe-options.ts';
import { createPipeEngine } from '../../src/engines/pipe/pipe-run.ts';
import { SingleEngine } from '../../src/engines/single.ts';
import type { NodeTrainingOptions } from '../../src/engines/training-state.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { syntheticNodeDataset } from '../../src/graph/synthetic.ts';
import { NodeClassifier, type NodeModelConfig } from '../../src/nn/models/node-classifier.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { assertClose, collect } from './fixtures/engine-runs.ts';
import { createPipeRun } from '../../src/node/pipe-setup.ts';
import type { ThreadedPipeEngine } from '../../src/node/pipe-threads.ts';

const dataset = syntheticNodeDataset({ numNodes: 240, numEdges: 960, numFeatures: 12, numClasses: 4, seed: 5 });
const training: NodeTrainingOptions = { optimizer: 'adam', lr: 0.01, weightDecay: 5e-4, seed: 2, decayFirstLayerOnly: false };
const config = (layers: number): NodeModelConfig => ({ kind: 'gcn', inChannels: dataset.numFeatures, hiddenChannels: 8, outChannels: dataset.numClasses, dropout: 0.5, layers });

const gpus: Gpu[] = [];
async function devices(n: number): Promise<Gpu[]> {
  while (gpus.length < n) gpus.push(await createNodeGpu({ label: `hybrid test ${gpus.length}` }));
  return gpus.slice(0, n);
}
test.after(() => {
  for (const g of gpus) g.destroy();
});

async function hybrid(workers: number, options: Partial<PipeOptions>, layers = 3, transports = LocalTransport.group(workers)): Promise<PipeEngine> {
  return createPipeEngine(await devices(workers), transports, dataset, () => new NodeClassifier(config(layers)), training, { ...pipeDefaults(workers), ...options });
}

test('one stage over M ways, one chunk each, is single-device training: tricks off (M = 3) and on (M = 2)', async () => {
  const [g] = await devices(1);
  const single = await collect(new SingleEngine(g, new NodeClassifier(config(3)), dataset, training), 4);
  for (const [ways, tricks] of [[3, TRICKS_OFF], [2, {}]] as const) {
    const run = await collect(await hybrid(ways, { graphParallel: ways, chunks: ways, ...tricks }), 4);
    assertClose(run.map((m) => m.loss), single.map((m) => m.loss), 1e-5, `${ways} ways: loss`);
    assertClose(run.map((m) => m.valAcc), single.map((m) => m.valAcc), 1e-9, `${ways} ways: validation accuracy`);
    // Rows of the other ways are really read, and all are this epoch's.
    for (const m of run) {
      assert.equal(m.staleness!.maxAge, 0, `${ways} ways: every row read is fresh`);
      assert.ok(m.bytesSent!.every((b) => b > 0), `${ways} ways: every worker sent mirror rows and gradients`);
    }
  }
});

test('2 stages × 2 ways equal 1 stage × 2 ways over the same chunks (tricks off); ages within the bound; bytes reported = bytes moved', async () => {
  const reference = await collect(await hybrid(2, { graphParallel: 2, chunks: 4, ...TRICKS_OFF }, 4), 4);
  assert.ok(reference.every((m) => m.staleness!.maxAge === 1), 'chunks of a way read rows of its other chunk, one epoch old');
  const transports = LocalTransport.group(4);
  const engine = await hybrid(4, { graphParallel: 2, chunks: 4, ...TRICKS_OFF }, 4, transports);
  assert.equal(engine.describe.stages, 2);
  assert.equal(engine.describe.graphParallel, 2);
  const run = await collect(engine, 4);
  assertClose(run.map((m) => m.loss), reference.map((m) => m.loss), 1e-6, '2 stages × 2 ways');
  assertClose(run.map((m) => m.valAcc), reference.map((m) => m.valAcc), 1e-9, '2 stages × 2 ways: validation accuracy');
  for (let r = 0; r < 4; r++) {
    const reported = run.reduce((a, m) => a + m.bytesSent![r], 0);
    assert.equal(reported, transports[r].stats.bytesSent.reduce((a, b) => a + b, 0), `worker ${r}: bytes reported = bytes sent`);
  }
  const withSnapshot = await collect(await hybrid(4, { graphParallel: 2, chunks: 8, snapshotPeriod: 3 }, 4), 7);
  for (const m of withSnapshot) assert.ok(m.staleness!.maxAge <= 3, `age ${m.staleness!.maxAge} within the snapshot period 3`);
  assert.equal(Math.max(...withSnapshot.map((m) => m.staleness!.maxAge)), 3, 'the bound is reached: tight, not just respected');
});

test('worker threads train the hybrid pipeline bit-identically to in-process workers', async () => {
  const builtin = config(4);
  const options = { graphParallel: 2, chunks: 4, stages: 'equal' as const };
  const local = await collect(await createPipeRun(dataset, { builtin }, training, { workers: 4, transport: 'local' }, options), 3);
  const threads = await collect(await createPipeRun(dataset, { builtin }, training, { workers: 4, transport: 'threads' }, options), 3);
  assert.deepEqual(threads.map((m) => m.loss), local.map((m) => m.loss));
  assert.deepEqual(threads.map((m) => m.valAcc), local.map((m) => m.valAcc));
});

test('a replica lost mid-epoch ends the run with an error naming it', { timeout: 10_000 }, async () => {
  const transports = LocalTransport.group(4);
  const engine = await hybrid(4, { graphParallel: 2, chunks: 4 }, 4, transports);
  const lost = transports[3]; // stage 1 of way 1
  const send = lost.send.bind(lost);
  let sends = 0;
  lost.send = async (...args) => {
    if (++sends === 4) {
      lost.abort('worker 3 was lost (test)');
      throw new Error('worker 3 was lost (test)');
    }
    return send(...args);
  };
  await assert.rejects(collect(engine, 2), /worker 3 was lost/);
});

test('a replica thread lost mid-epoch is named by worker, stage and replica within 10 s, and every thread ends', { timeout: 60_000 }, async () => {
  const engine = (await createPipeRun(dataset, { builtin: config(4) }, training, { workers: 4, transport: 'threads' }, { graphParallel: 2, chunks: 4, stages: 'equal' })) as ThreadedPipeEngine;
  const run = engine.run(1000);
  await run.next();
  const next = run.next();
  const killedAt = performance.now();
  await engine.kill(3);
  await assert.rejects(next, /--mode pipe: worker 3 \(stage 1 of replica 1\) was lost/);
  assert.ok(performance.now() - killedAt < 10_000, 'noticed within 10 s');
  await engine.dispose();
  assert.equal(engine.threadsRunning, 0);
});

test('hybrid settings that cannot work are refused before training, saying why', async () => {
  await assert.rejects(hybrid(3, { graphParallel: 2, chunks: 6 }), /--graph-parallel 2 does not divide --workers 3/);
  await assert.rejects(hybrid(4, { graphParallel: 2, chunks: 5 }), /--chunks 5 is not a multiple of --graph-parallel 2/);
  await assert.rejects(hybrid(4, { graphParallel: 2, chunks: 8, warmupEpochs: 2 }), /--warmup does not apply with --graph-parallel 2/);
  await assert.rejects(hybrid(2, { graphParallel: 0 }), /--graph-parallel must be a positive integer/);
});
