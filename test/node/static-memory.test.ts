// DistTGL's static node memory (--static-memory): the table joins TGN's dynamic memory before the
// embedding only — a zero table changes nothing, any table leaves the stored memory as it was — and its
// phase one (StaticMemoryModel) learns the table from the training events; the CLI learns it, saves it,
// and reads it back with the same result, refusing what does not fit.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TemporalBatchRunner } from '../../src/engines/temporal/batch-runner.ts';
import { TemporalEngine } from '../../src/engines/temporal.ts';
import { splitEvents } from '../../src/graph/temporal-split.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { HostNodeMemory } from '../../src/nn/tgn/host-memory.ts';
import { StaticMemoryModel } from '../../src/nn/tgn/static-memory-model.ts';
import { Tgn } from '../../src/nn/tgn/tgn.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { mulberry32 } from '../../src/graph/synthetic.ts';
import { messageStream, SMALL_TGN } from './fixtures/message-stream.ts';
import { webgnn as runCli } from './cli-run.ts';

let gpu: Gpu;
test.before(async () => {
  gpu = await createNodeGpu({ label: 'static memory test' });
});
test.after(() => gpu.destroy());

const stream = messageStream(900, 5);
const split = splitEvents(stream, { seed: 0 });
const config = { ...SMALL_TGN, numNodes: stream.numNodes, edgeDim: 0 };

async function evaluateWith(table: Float32Array | undefined) {
  const model = new Tgn(config);
  model.materialize(gpu, 0);
  const runner = new TemporalBatchRunner(gpu, model, stream, split, { seed: 0, batchSize: 50, staticMemory: table });
  const memory = new HostNodeMemory(gpu, stream.numNodes, model.memoryDim, model.mailDim);
  const scores = await runner.evaluate(split.train, memory);
  const saved = await memory.save();
  runner.dispose();
  model.dispose();
  return { scores, saved };
}

test('static memory joins the embedding only: a zero table changes nothing, another changes the scores but not the stored memory', async () => {
  const none = await evaluateWith(undefined);
  const zero = await evaluateWith(new Float32Array(stream.numNodes * config.memoryDim));
  assert.deepEqual(zero.scores.positive, none.scores.positive);
  assert.deepEqual(zero.saved.memory, none.saved.memory);
  const random = mulberry32(7);
  const table = Float32Array.from({ length: stream.numNodes * config.memoryDim }, () => random() - 0.5);
  const some = await evaluateWith(table);
  assert.notDeepEqual(some.scores.positive, none.scores.positive);
  assert.deepEqual(some.saved.memory, none.saved.memory, 'the stored memory excludes the static table');
  assert.deepEqual(some.saved.mail, none.saved.mail);
});

test('a static table that does not fit the stream or holds NaN is refused', () => {
  const model = new Tgn(config);
  assert.throws(() => new TemporalBatchRunner(gpu, model, stream, split, { seed: 0, batchSize: 50, staticMemory: new Float32Array(3) }), /static memory must hold 60 nodes × 16 values/);
  const bad = new Float32Array(stream.numNodes * config.memoryDim);
  bad[5] = NaN;
  assert.throws(() => new TemporalBatchRunner(gpu, model, stream, split, { seed: 0, batchSize: 50, staticMemory: bad }), /static memory holds NaN/);
});

test('phase one: StaticMemoryModel learns its table from the training events (loss falls, the table moves, AP above chance)', async () => {
  const model = new StaticMemoryModel(config);
  const engine = new TemporalEngine(gpu, model, stream, split, { seed: 0, lr: 3e-3, batchSize: 50 });
  const before = new Float32Array(await model.table.toArray());
  const metrics = [];
  for await (const m of engine.run(4)) metrics.push(m);
  const after = new Float32Array(await model.table.toArray());
  engine.dispose();
  assert.ok(metrics[3].loss < metrics[0].loss - 0.05, `loss ${metrics.map((m) => m.loss)}`);
  const moved = after.reduce((n, v, i) => n + (v !== before[i] ? 1 : 0), 0);
  assert.ok(moved > after.length / 2, `${moved} of ${after.length} table entries changed`);
  assert.ok(Math.max(...metrics.map((m) => m.valAp)) > 0.6, `val AP ${metrics.map((m) => m.valAp)}`);
});

/** `webgnn train-temporal ARGS…`. */
const webgnn = (...args: string[]) => runCli('train-temporal', ...args);
const SMALL = ['--events', '600', '--batch-size', '50', '--memory-dim', '16', '--neighbors', '4', '--epochs', '2', '--json', '--no-progress'];

test('--static-memory learns phase one, --static-memory-save keeps it, and --static-memory FILE gives the same run', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'webgnn-static-')), 'static.ckpt');
  const learned = webgnn(...SMALL, '--static-memory', '--static-epochs', '2', '--static-memory-save', file);
  assert.equal(learned.code, 0, learned.stderr);
  assert.match(learned.stderr, /static memory epoch 2: loss/);
  const a = JSON.parse(learned.stdout.trim().split('\n').at(-1)!);
  assert.equal(a.static_memory.learned.epochs, 2);
  const read = webgnn(...SMALL, '--static-memory', file);
  assert.equal(read.code, 0, read.stderr);
  const b = JSON.parse(read.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(b.static_memory, { file });
  assert.equal(b.final_loss, a.final_loss);
  assert.equal(b.test_ap, a.test_ap);
  // Refusals: a table of another width, saving what is not learned, saving without static memory.
  const wrong = webgnn(...SMALL.map((v) => (v === '16' ? '8' : v)), '--static-memory', file);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /its table is \[\d+,16\], this run needs \[\d+, 8\]/);
  assert.match(webgnn(...SMALL, '--static-memory', file, '--static-memory-save', file).stderr, /--static-memory-save does not apply with --static-memory/);
  assert.match(webgnn(...SMALL, '--static-memory-save', file).stderr, /add --static-memory/);
});
