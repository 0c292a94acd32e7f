// SAR full-batch training over N workers against the single-device engine: the same losses and the same
// gradients for GCN and GraphSAGE on 1–4 workers (in-process devices), the worker_threads transport,
// and failures that end a run with an error naming the worker instead of a hang.
//
// Tolerances. Every worker sums its rows' neighbours block by block (local block, then one peer per
// round), where one device sums each row in storage order; the weight gradients are then summed over
// workers in ring order. Only the order of f32 additions differs, so each value differs by a few ulps
// of the terms' magnitude: losses agree to relative 1e-5 (measured: ≤ 1.3e-7) and the one-step SGD
// gradients to 1e-5 absolute + 1e-4 relative (sums of up to ~10³ terms of size ≤ 1 in f32).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import { PeerError } from '../../src/dist/transport.ts';
import { consumeRun, trainNodeClassification, type NodeRunOptions } from '../../src/engines/node-classification.ts';
import { SingleEngine } from '../../src/engines/single.ts';
import { builtinModel, modelConfigFor } from '../../src/nn/models/builtin.ts';
import { loadCheckpointFile, saveCheckpointFile } from '../../src/node/checkpoint-file.ts';
import { SarEngine } from '../../src/engines/sar/sar-engine.ts';
import { SarWorker } from '../../src/engines/sar/sar-worker.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { NodeDataset } from '../../src/graph/node-dataset.ts';
import { syntheticNodeDataset } from '../../src/graph/synthetic.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { placeForSar } from '../../src/engines/sar/placement.ts';
import { createSarEngine } from '../../src/node/sar-setup.ts';
import { ThreadedSarEngine } from '../../src/node/sar-threads.ts';
import type { Engine } from '../../src/engines/engine.ts';
import { netnsUnavailable, runNodeInNetns } from './fixtures/netns.ts';

const dataset = syntheticNodeDataset({ numNodes: 400, numEdges: 1600, numFeatures: 24, numClasses: 5, seed: 3 });

function runOptions(model: 'gcn' | 'sage', optimizer: 'adam' | 'sgd' = 'adam'): NodeRunOptions {
  return {
    model,
    hidden: 16,
    dropout: 0.5,
    epochs: 3,
    patience: 0,
    training: optimizer === 'sgd'
      ? { optimizer: 'sgd', lr: 1, weightDecay: 0, seed: 5, decayFirstLayerOnly: false }
      : { optimizer: 'adam', lr: 0.01, weightDecay: 5e-4, seed: 5, decayFirstLayerOnly: model === 'gcn' },
  };
}

const gpus: Gpu[] = [];
async function gpu(i: number): Promise<Gpu> {
  while (gpus.length <= i) gpus.push(await createNodeGpu({ label: `test worker ${gpus.length}` }));
  return gpus[i];
}

async function localSar(data: NodeDataset, options: NodeRunOptions, workers: number, remat = true): Promise<{ engine: SarEngine; members: SarWorker[] }> {
  const { placement } = placeForSar(data, workers, 'metis', 0);
  const transports = LocalTransport.group(workers);
  const members: SarWorker[] = [];
  // Device 0 is the single-device reference's; SAR workers use devices 1..N.
  for (let r = 0; r < workers; r++) {
    members.push(new SarWorker(await gpu(r + 1), transports[r], data, placement, builtinModel(data, options), options.training, { remat }));
  }
  return { engine: new SarEngine(members), members };
}

async function losses(engine: Engine, epochs: number): Promise<number[]> {
  const out: number[] = [];
  for await (const m of engine.run(epochs)) out.push(m.loss, m.valLoss);
  return out;
}

async function parameters(engine: { model: { namedParameters(): Array<[string, { toArray(): Promise<ArrayLike<number>> }]> } }): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of engine.model.namedParameters()) out.set(name, Float32Array.from(await t.toArray()));
  return out;
}

function maxRelative(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(1e-12, Math.abs(b[i]))));
}

for (const model of ['gcn', 'sage'] as const) {
  test(`SAR ${model}: losses on 1, 2, 3 and 4 workers equal one device's (rel 1e-5)`, async () => {
    const options = runOptions(model);
    const single = new SingleEngine(await gpu(0), builtinModel(dataset, options), dataset, options.training);
    const expected = await losses(single, 3);
    single.dispose();
    for (const workers of [1, 2, 3, 4]) {
      const { engine } = await localSar(dataset, options, workers);
      const got = await losses(engine, 3);
      engine.dispose();
      const worst = maxRelative(got, expected);
      assert.ok(worst <= 1e-5, `${workers} workers: losses ${got} vs ${expected} (max rel ${worst})`);
    }
  });

  test(`SAR ${model}: one SGD step (lr 1) moves every weight as one device's gradient does, with and without remat`, async () => {
    const options = runOptions(model, 'sgd');
    const single = new SingleEngine(await gpu(0), builtinModel(dataset, options), dataset, options.training);
    const before = await parameters(single);
    await losses(single, 1);
    const after = await parameters(single);
    single.dispose();
    for (const [workers, remat] of [[3, true], [2, false]] as const) {
      const { engine, members } = await localSar(dataset, options, workers, remat);
      await losses(engine, 1);
      for (const member of members) {
        const got = await parameters(member);
        for (const [name, w1] of after) {
          const w0 = before.get(name)!;
          const g = got.get(name)!;
          for (let i = 0; i < w1.length; i++) {
            const expectedStep = w1[i] - w0[i];
            const step = g[i] - w0[i];
            assert.ok(Math.abs(step - expectedStep) <= 1e-5 + 1e-4 * Math.abs(expectedStep), `${workers} workers (remat ${remat}), worker ${member.rank}, ${name}[${i}]: step ${step} vs ${expectedStep}`);
          }
        }
      }
      engine.dispose();
    }
  });
}

test('SAR: the baseline without remat holds more GPU memory than SAR and sends the same bytes', async () => {
  const big = syntheticNodeDataset({ numNodes: 3000, numEdges: 30000, numFeatures: 64, numClasses: 4, seed: 8 });
  const options = { ...runOptions('sage'), hidden: 64 };
  const peaks: Record<string, number[]> = {};
  const sent: Record<string, number[]> = {};
  for (const remat of [true, false]) {
    const { engine } = await localSar(big, options, 3, remat);
    let last;
    for await (const m of engine.run(1)) last = m;
    engine.dispose();
    peaks[String(remat)] = last!.peakGpuBytes;
    sent[String(remat)] = last!.bytesSent!;
  }
  for (let r = 0; r < 3; r++) assert.ok(peaks.true[r] < peaks.false[r], `worker ${r}: SAR peak ${peaks.true[r]} vs no-remat ${peaks.false[r]}`);
  assert.deepEqual(sent.true, sent.false);
});

// Not bit-exact: the threads' devices and the in-process ones were seen to differ in the last bit of the
// loss (7e-8 relative) though they run the same kernels on the same partitions; left as a note.
test('SAR over worker_threads gives the in-process losses (rel 1e-5)', async () => {
  const options = runOptions('gcn');
  const config = modelConfigFor(dataset, options);
  const threaded = await createSarEngine(dataset, { builtin: config }, options.training, { workers: 2, transport: 'threads', remat: true, partition: 'metis' });
  const got = await losses(threaded, 2);
  await threaded.dispose();
  const { engine } = await localSar(dataset, options, 2);
  const expected = await losses(engine, 2);
  engine.dispose();
  assert.ok(maxRelative(got, expected) <= 1e-5, `${got} vs ${expected}`);
});

test('SAR: a worker thread killed mid-epoch ends the run with an error naming it, within 10 s', async () => {
  const options = { ...runOptions('sage'), epochs: 1000 };
  const config = modelConfigFor(dataset, options);
  const engine = (await createSarEngine(dataset, { builtin: config }, options.training, { workers: 3, transport: 'threads', remat: true, partition: 'metis' })) as ThreadedSarEngine;
  const run = engine.run(1000);
  await run.next(); // one whole epoch, then kill worker 1 while the next one runs
  const next = run.next();
  const killedAt = performance.now();
  await engine.kill(1);
  await assert.rejects(next, (error: Error) => {
    assert.match(error.message, /peer 1|worker 1/);
    return true;
  });
  const elapsed = performance.now() - killedAt;
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  await engine.dispose();
});

test('SAR: a worker failing in-process stops every other worker with a PeerError naming it', async () => {
  const { engine, members } = await localSar(dataset, runOptions('gcn'), 3);
  const run = engine.run(10);
  await run.next();
  // Worker 2's link breaks as if its peer connection failed.
  members[2].transport.abort('simulated device loss');
  await assert.rejects(run.next(), (error: Error) => {
    assert.ok(error instanceof PeerError, `${error}`);
    assert.match(error.message, /peer 2 failed: simulated device loss/);
    return true;
  });
  engine.dispose();
});

test.after(() => {
  for (const g of gpus) g.destroy();
});

// WebRTC peers must only talk inside a private network namespace (ARCHITECTURE.md): the CLI runs in one.
test('SAR over WebRTC (CLI, private network namespace) gives the in-process losses (rel 1e-5)', { skip: netnsUnavailable() ?? false }, async () => {
  const args = ['train', '--mode', 'sar', '--workers', '3', '--epochs', '2', '--patience', '0', '--json', '--no-progress'];
  const webrtc = await runNodeInNetns('scripts/webgnn.mjs', [...args, '--transport', 'webrtc'], 120_000);
  assert.equal(webrtc.code, 0, webrtc.stderr);
  const local = await runNodeInNetns('scripts/webgnn.mjs', [...args, '--transport', 'local'], 120_000);
  assert.equal(local.code, 0, local.stderr);
  const last = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { final_loss: number; transport: string; bytes_sent_per_worker_per_epoch: number[] };
  const [a, b] = [last(webrtc.stdout), last(local.stdout)];
  assert.equal(a.transport, 'webrtc');
  assert.ok(Math.abs(a.final_loss - b.final_loss) <= 1e-5 * b.final_loss, `${a.final_loss} vs ${b.final_loss}`);
  assert.deepEqual(a.bytes_sent_per_worker_per_epoch, b.bytes_sent_per_worker_per_epoch);
});

test('SAR: after a worker dies the last checkpoint is intact and loads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgnn-sar-'));
  const path = join(dir, 'model.ckpt');
  const options: NodeRunOptions = { ...runOptions('gcn'), epochs: 50, checkpointEvery: 1, onCheckpoint: (data) => saveCheckpointFile(path, data) };
  const engine = (await createSarEngine(dataset, { builtin: modelConfigFor(dataset, options) }, options.training, { workers: 2, transport: 'threads', remat: true, partition: 'metis' })) as ThreadedSarEngine;
  await assert.rejects(
    consumeRun(trainNodeClassification(engine, options), async (m) => {
      if (m.epoch === 2) await engine.kill(1);
    }),
    /peer 1|worker 1/,
  );
  await engine.dispose();
  const saved = await loadCheckpointFile(path);
  assert.ok(saved.epoch >= 1 && saved.epoch <= 2, `checkpoint of epoch ${saved.epoch}`);
  assert.ok(saved.tensors.some((t) => t.name === 'param:conv1.lin.weight'));
  rmSync(dir, { recursive: true, force: true });
});
