// `webgnn train --mode pipe` as users run it (GNNPipe, README "Pipelined training"): the JSON summary,
// the same run over in-process stages and over worker threads, flags that do not apply refused, a lost
// stage thread named, a pipe checkpoint resumed on one device, and `train()` of webgnn/node.
// A 240-node dataset with a 2-layer GCN keeps every run to seconds on the software adapter.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNodeDataset } from '../../src/graph/node-dataset.ts';
import { modelConfigFor } from '../../src/nn/models/builtin.ts';
import { NodeClassifier } from '../../src/nn/models/node-classifier.ts';
import { loadCheckpointFile } from '../../src/node/checkpoint-file.ts';
import { resolveDatasetSource } from '../../src/node/dataset-source.ts';
import { createPipeRun } from '../../src/node/pipe-setup.ts';
import type { ThreadedPipeEngine } from '../../src/node/pipe-threads.ts';
import { train } from '../../src/node/train.ts';
import { smallDataset } from './fixtures/small-dataset.ts';
import { webgnn, lastJson } from './cli-run.ts';

const dir = smallDataset('webgnn-pipe-');



// --stages equal: the plan does not depend on a timing profile, so both runs cut the model at the same block.
const PIPE = ['train', '--dataset', dir, '--mode', 'pipe', '--workers', '2', '--epochs', '2', '--hidden', '8', '--stages', 'equal', '--json', '--no-progress'];

test('--mode pipe --workers 2 --json trains in-process and over worker threads with the same losses, and reports the plan, the history ages and the traffic', () => {
  const runs = (['local', 'threads'] as const).map((transport) => {
    const r = webgnn(...PIPE, '--transport', transport);
    assert.equal(r.code, 0, `${transport}: ${r.stderr}`);
    return lastJson(r.stdout);
  });
  const [local, threads] = runs;
  for (const [j, transport] of [[local, 'local'], [threads, 'threads']] as const) {
    assert.deepEqual([j.mode, j.workers, j.epochs, j.transport], ['pipe', 2, 2, transport]);
    const pipe = j.pipe as { stages: number; chunks: number; plan: string[]; tricks: Record<string, unknown> };
    assert.equal(pipe.stages, 2);
    assert.equal(pipe.chunks, 8, 'default: 4 chunks per worker');
    assert.deepEqual(pipe.tricks, { shuffle: true, unbiasedGradients: true, snapshotPeriod: 23 });
    assert.equal(pipe.plan.length, 2);
    assert.match(pipe.plan[0], /^stage 0: blocks 0–/);
    // Epoch 1 reads the initial zeros (written at epoch −1): age 1; epoch 2 reads rows of epoch 1 or older.
    assert.ok((j.staleness_max_age as number) >= 1 && (j.staleness_max_age as number) <= 2, JSON.stringify(j));
    assert.ok((j.staleness_mean_age as number) > 0, JSON.stringify(j));
    const sent = j.bytes_sent_per_worker_per_epoch as number[];
    assert.equal(sent.length, 2);
    assert.ok(sent[0] > 0 && sent[1] > 0, JSON.stringify(sent));
  }
  // The same kernels on the same chunks and cut: the threads' run is the in-process run, bit for bit.
  assert.equal(threads.final_loss, local.final_loss);
  assert.equal(threads.test_acc, local.test_acc);
  assert.deepEqual(threads.bytes_sent_per_worker_per_epoch, local.bytes_sent_per_worker_per_epoch);
  assert.deepEqual([threads.staleness_max_age, threads.staleness_mean_age], [local.staleness_max_age, local.staleness_mean_age]);
});

test('the human summary prints the stage plan and the history ages', () => {
  const r = webgnn(...PIPE.filter((a) => a !== '--json'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stage 0: blocks 0–\d+ \(.*\), cost 1 layers, sends 8 columns/);
  assert.match(r.stdout, /stage 1: blocks/);
  assert.match(r.stdout, /historical embeddings read: max age \d+ epochs, mean \d+\.\d+ \(snapshot period 23\)/);
});

test('pipe flags outside --mode pipe, SAR flags in it, GAT in it and rooms outside sar and pipe are refused, naming the flag and why', () => {
  const refused: Array<[string[], RegExp]> = [
    [['--chunks', '4'], /--chunks needs --mode pipe .*this run is --mode single/],
    [['--no-shuffle'], /--no-shuffle needs --mode pipe/],
    [['--mode', 'sar', '--workers', '2', '--snapshot-period', '1'], /--snapshot-period needs --mode pipe .*this run is --mode sar/],
    [['--eval-every', '5', '--warmup', '2', '--stages', 'equal', '--no-recompute', '--no-unbiased-gradients'], /--no-recompute needs --mode pipe.*--no-unbiased-gradients needs --mode pipe.*--warmup needs --mode pipe.*--eval-every needs --mode pipe.*--stages needs --mode pipe/],
    [['--mode', 'pipe', '--workers', '2', '--no-remat'], /--no-remat needs --mode sar .*this run is --mode pipe/],
    [['--mode', 'pipe', '--workers', '2', '--partition', 'random'], /--partition needs --mode sar/],
    [['--room', 'ws://127.0.0.1:9/rooms'], /--room needs --mode sar or --mode pipe .*this run is --mode single/],
    [['--mode', 'pipe', '--workers', '2', '--room', 'ws://127.0.0.1:9/rooms', '--transport', 'threads'], /--transport does not apply with --room/],
    [['--mode', 'pipe', '--workers', '2', '--checkpoint', join(dir, 'never.ckpt'), '--checkpoint-every', '5'], /--checkpoint-every does not apply to --mode pipe: its checkpoint keeps the best validation epoch/],
    [['--mode', 'pipe', '--workers', '2', '--model', 'gat'], /--mode pipe does not run attention layers \(GAT\).*train GAT with --mode single or --mode sar/],
    [['--graph-parallel', '2'], /--graph-parallel needs --mode pipe .*this run is --mode single/],
    [['--mode', 'pipe', '--workers', '3', '--graph-parallel', '2'], /--graph-parallel 2 does not divide --workers 3/],
    [['--mode', 'pipe', '--workers', '4', '--graph-parallel', '2', '--chunks', '5'], /--chunks 5 is not a multiple of --graph-parallel 2/],
    [['--mode', 'pipe', '--workers', '2', '--graph-parallel', '2', '--warmup', '1'], /--warmup does not apply with --graph-parallel 2/],
    [['--mode', 'pipe', '--workers', '2', '--graph-parallel', '2', '--room', 'ws://127.0.0.1:9/rooms'], /--graph-parallel does not apply with --room: a room re-forms one pipeline/],
  ];
  for (const [flags, message] of refused) {
    const r = webgnn('train', '--dataset', dir, '--epochs', '1', '--no-progress', ...flags);
    assert.equal(r.code, 1, `${flags.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
});

test('a pipe checkpoint holds the best validation epoch (the reported one) and resumes in --mode single (the one-device format)', async () => {
  const ckpt = join(smallDataset('webgnn-pipe-ckpt-'), 'pipe.ckpt');
  const a = webgnn(...PIPE, '--epochs', '6', '--checkpoint', ckpt);
  assert.equal(a.code, 0, a.stderr);
  const ran = lastJson(a.stdout);
  assert.ok(existsSync(ckpt));
  const saved = await loadCheckpointFile(ckpt);
  assert.equal(ran.epochs, 6);
  assert.equal(saved.epoch, ran.best_epoch, 'the checkpoint is the best validation epoch, not the last');
  assert.equal(ran.checkpoint_epoch, ran.best_epoch);
  assert.equal((saved.extra?.earlyStopping as { best: { epoch: number } }).best.epoch, ran.best_epoch);
  assert.equal((saved.config.pipe as { stages: number }).stages, 2);
  const b = webgnn('train', '--dataset', dir, '--epochs', '8', '--hidden', '8', '--resume', ckpt, '--json', '--no-progress');
  assert.equal(b.code, 0, b.stderr);
  const j = lastJson(b.stdout);
  assert.deepEqual([j.mode, j.epochs, j.epochs_run], ['single', 8, 8 - saved.epoch]);
});

test('a stage thread lost mid-epoch ends the run with an error naming the stage within 10 s, and every thread ends', async () => {
  const dataset = await loadNodeDataset(resolveDatasetSource(dir));
  const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: true };
  const config = modelConfigFor(dataset, { model: 'gcn', hidden: 8, dropout: 0.5 });
  const engine = (await createPipeRun(dataset, { builtin: config }, training, { workers: 2, transport: 'threads' }, { stages: 'equal' })) as ThreadedPipeEngine;
  const run = engine.run(1000);
  await run.next(); // one whole epoch, then lose stage 1 while the next one runs
  const next = run.next();
  const killedAt = performance.now();
  await engine.kill(1);
  await assert.rejects(next, /--mode pipe: stage 1 was lost/);
  const elapsed = performance.now() - killedAt;
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  await engine.dispose();
  assert.equal(engine.threadsRunning, 0);
});

test("train() of webgnn/node runs mode 'pipe' with pipe settings, and refuses them in other modes", async () => {
  const dataset = await loadNodeDataset(resolveDatasetSource(dir));
  const config = modelConfigFor(dataset, { model: 'gcn', hidden: 8, dropout: 0.5 });
  const result = await train(() => new NodeClassifier(config), dataset, { mode: 'pipe', workers: 2, chunks: 4, evalEvery: 2, epochs: 3, patience: 0 });
  assert.equal(result.epochsRun, 3);
  assert.deepEqual(result.history.map((m) => m.evaluated), [false, true, true]);
  assert.equal(result.peakGpuBytesPerWorker.length, 2);
  await assert.rejects(train(new NodeClassifier(config), dataset, { chunks: 4 }), /train: 'chunks' applies to mode 'pipe' only \(this run is mode 'single'\)/);
  const hybrid = await train(() => new NodeClassifier(config), dataset, { mode: 'pipe', workers: 4, graphParallel: 2, chunks: 4, epochs: 2, patience: 0 });
  assert.equal(hybrid.peakGpuBytesPerWorker.length, 4, 'one worker per stage and replica: 2 stages × 2');
  await assert.rejects(train(new NodeClassifier(config), dataset, { graphParallel: 2 }), /train: 'graphParallel' applies to mode 'pipe' only/);
  await assert.rejects(train(() => new NodeClassifier(config), dataset, { mode: 'pipe', partition: 'random' }), /'partition' applies to mode 'sar' only/);
  await assert.rejects(train(new NodeClassifier(config), dataset, { mode: 'pipe' }), /a pipeline gives every stage its own replica/);
  await assert.rejects(train(() => new NodeClassifier(config), dataset, { mode: 'pipe', checkpointEvery: 2 }), /'checkpointEvery' applies to mode 'single' or 'sar' only \(this run is mode 'pipe'\)/);
});

test('--graph-parallel 2: 2 stages × 2 replicas over worker threads, the layout in the summary, one copy of the model in the checkpoint (resumed on one device)', async () => {
  const ckpt = join(smallDataset('webgnn-pipe-hybrid-'), 'hybrid.ckpt');
  const hybrid = ['train', '--dataset', dir, '--mode', 'pipe', '--workers', '4', '--graph-parallel', '2', '--epochs', '2', '--hidden', '8', '--stages', 'equal', '--no-progress'];
  const r = webgnn(...hybrid, '--json', '--transport', 'threads', '--checkpoint', ckpt);
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.deepEqual([j.workers, (j.pipe as { stages: number }).stages, (j.pipe as { graphParallel: number }).graphParallel], [4, 2, 2]);
  assert.equal((j.bytes_sent_per_worker_per_epoch as number[]).length, 4);
  assert.ok((j.bytes_sent_per_worker_per_epoch as number[]).every((b) => b > 0), 'every worker sends: boundary rows, mirror rows, gradients');
  const saved = await loadCheckpointFile(ckpt);
  const names = saved.tensors.map((t) => t.name);
  assert.equal(new Set(names).size, names.length, 'no tensor twice');
  const single = webgnn('train', '--dataset', dir, '--epochs', '3', '--hidden', '8', '--resume', ckpt, '--json', '--no-progress');
  assert.equal(single.code, 0, single.stderr);
  const human = webgnn(...hybrid);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /2 stages × 2 replicas \(worker r is stage r mod 2 of replica ⌊r \/ 2⌋\), 8 of the 16 chunks per replica/);
});
