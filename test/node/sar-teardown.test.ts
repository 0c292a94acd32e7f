// A SAR run over worker_threads that trained must also end cleanly. Each thread owns a dawn.node device;
// ending a thread (Worker.terminate(), or process.exit() on the main thread) while it is inside a
// dawn.node call — destroying its buffers, say — aborts the whole process with node-addon-api's
// "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw", after the training and before the
// summary. So dispose() lets every thread free its device and end by itself, and the CLI waits for that.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { loadNodeDataset } from '../../src/graph/node-dataset.ts';
import { modelConfigFor } from '../../src/nn/models/builtin.ts';
import { createSarEngine } from '../../src/node/sar-setup.ts';
import type { ThreadedSarEngine } from '../../src/node/sar-threads.ts';
import { resolveDatasetSource } from '../../src/node/dataset-source.ts';
import { smallDataset } from './fixtures/small-dataset.ts';

const dir = smallDataset('webgnn-teardown-');

test('ThreadedSarEngine.dispose() settles only once every worker thread has ended by itself', async () => {
  const dataset = await loadNodeDataset(resolveDatasetSource(dir));
  const training = { optimizer: 'adam' as const, lr: 0.01, weightDecay: 5e-4, seed: 0, decayFirstLayerOnly: true };
  const config = modelConfigFor(dataset, { model: 'gcn', hidden: 8, dropout: 0.5 });
  const engine = (await createSarEngine(dataset, { builtin: config }, training, { workers: 3, transport: 'threads', remat: true, partition: 'metis' })) as ThreadedSarEngine;
  assert.equal(engine.threadsRunning, 3);
  for await (const m of engine.run(1)) assert.equal(m.epoch, 1);
  await engine.dispose();
  assert.equal(engine.threadsRunning, 0);
});

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/webgnn.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// The abort was seen about once in ten CLI runs on a loaded machine: two runs at a time (on this 2-core
// machine, each the other's load), eight in all.
test('the CLI trains over worker_threads and exits 0 with its JSON summary, eight runs in a row', async () => {
  const args = ['train', '--dataset', dir, '--mode', 'sar', '--workers', '3', '--transport', 'threads', '--epochs', '2', '--hidden', '8', '--json', '--no-progress'];
  for (let round = 0; round < 4; round++) {
    const runs = await Promise.all([cli(args), cli(args)]);
    for (const r of runs) {
      assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /FATAL ERROR/);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { mode: string; workers: number; epochs: number };
      assert.deepEqual([summary.mode, summary.workers, summary.epochs], ['sar', 3, 2]);
    }
  }
});
