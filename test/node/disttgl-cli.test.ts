// `webgnn train-temporal --workers N --parallel i×j×k` as users run it (README "Temporal graphs", DistTGL):
// the JSON summary counts passes and traffic per trainer, and flags that cannot apply are refused with
// the reason. The first 600 events of CollegeMsg keep each run to seconds on the software adapter.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { splitEvents } from '../../src/graph/temporal-split.ts';
import { DistTglThreads } from '../../src/node/disttgl-threads.ts';
import { messageStream, SMALL_TGN } from './fixtures/message-stream.ts';
import { webgnn as runCli } from './cli-run.ts';

/** `webgnn train-temporal ARGS…`. */
const webgnn = (...args: string[]) => runCli('train-temporal', ...args);

const SMALL = ['--events', '600', '--batch-size', '50', '--memory-dim', '16', '--neighbors', '4', '--json', '--no-progress'];

test('--workers 2 --parallel 1×1×2: --epochs counts passes, and the summary reports the layout, passes and traffic per trainer', () => {
  const r = webgnn('--workers', '2', '--parallel', '1×1×2', '--epochs', '4', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.parallel, '1×1×2');
  // 4 passes with k = 2 memory groups: 2 epochs of 2 passes each.
  assert.equal(out.epochs, 2);
  assert.equal(out.passes, 4);
  assert.equal(out.lr_per_step, 2 * out.lr);
  assert.equal(out.bytes_sent_per_trainer_per_epoch.length, 2);
  assert.deepEqual(out.memory_bytes_sent_per_trainer_per_epoch, [0, 0]);
  assert.ok(out.bytes_sent_per_trainer_per_epoch.every((b: number) => b > 0));
  assert.ok(out.test_ap > 0 && out.test_ap <= 1 && Number.isFinite(out.final_loss), r.stdout);
  assert.match(r.stderr, /epoch 2 \(4 passes\): loss/);
});

test('DistTGL refuses, with the reason, the flags it cannot honour', () => {
  const refused: Array<[string[], RegExp]> = [
    [['--workers', '2', '--staleness', '1'], /--staleness does not compose with --workers > 1/],
    [['--workers', '2', '--memory', 'device'], /--memory does not apply with --workers > 1/],
    [['--workers', '3', '--parallel', '1×2×2'], /needs i·j·k = 4 trainers, but --workers is 3/],
    [['--workers', '2', '--parallel', 'wide'], /--parallel must be i×j×k/],
    [['--lr-scaling', 'none'], /with --workers 1 it does not apply/],
    [['--transport', 'webrtc'], /with --workers 1 there is nothing to link/],
    [['--workers', '2', '--parallel', 'epoch', '--batch-size', '5000'], /fewer than the 2 epoch-parallel trainers/],
  ];
  for (const [flags, message] of refused) {
    const r = webgnn(...flags, '--events', '600', '--epochs', '1', '--no-progress');
    assert.equal(r.code, 1, `${flags.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
});

test('--transport threads trains exactly as in-process trainers do (epoch parallelism: losses, AP and bytes equal)', () => {
  const runs = (['local', 'threads'] as const).map((transport) => {
    const r = webgnn('--workers', '2', '--parallel', 'epoch', '--transport', transport, '--epochs', '2', ...SMALL);
    assert.equal(r.code, 0, `${transport}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  });
  for (const key of ['final_loss', 'test_ap', 'val_ap', 'bytes_sent_per_trainer_per_epoch', 'memory_bytes_sent_per_trainer_per_epoch']) assert.deepEqual(runs[1][key], runs[0][key], key);
  assert.equal(runs[1].transport, 'threads');
});

test('a trainer thread lost mid-epoch is named by trainer, memory group, epoch rank and part within 10 s, and every thread ends', { timeout: 60_000 }, async () => {
  const stream = messageStream(1500, 3);
  const split = splitEvents(stream, { seed: 0 });
  const { engine, threads } = await DistTglThreads.start(
    { stream, split, tgn: { ...SMALL_TGN, numNodes: stream.numNodes, edgeDim: 0 }, options: { seed: 0, lr: 1e-3, batchSize: 50, layout: { batch: 1, epoch: 2, memory: 1 } } },
    2,
  );
  const run = engine.run(1000);
  await run.next();
  const next = run.next();
  const killedAt = performance.now();
  await threads.kill(1);
  await assert.rejects(next, /train-temporal: trainer 1 \(memory group 0, epoch rank 1, part 0\) was lost/);
  assert.ok(performance.now() - killedAt < 10_000, 'noticed within 10 s');
  await engine.dispose();
  assert.equal(threads.threadsRunning, 0);
});

test('--checkpoint over trainer threads keeps the best epoch with every memory group, and --resume continues exactly', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'webgnn-disttgl-')), 'run.ckpt');
  const args = ['--workers', '2', '--parallel', 'epoch', '--transport', 'threads', ...SMALL];
  const straight = webgnn(...args, '--epochs', '4');
  assert.equal(straight.code, 0, straight.stderr);
  const first = webgnn(...args, '--epochs', '2', '--checkpoint', file);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout.trim().split('\n').at(-1)!).checkpoint_epoch, 1);
  const resumed = webgnn(...args, '--epochs', '4', '--resume', file);
  assert.equal(resumed.code, 0, resumed.stderr);
  const [a, b] = [straight, resumed].map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!));
  assert.equal(b.passes, 4);
  assert.equal(b.final_loss, a.final_loss);
  assert.equal(b.final_test_ap, a.final_test_ap);
  // Another layout cannot continue it.
  const other = webgnn('--workers', '2', '--parallel', 'memory', ...SMALL, '--epochs', '4', '--resume', file);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /the checkpoint is of --parallel 1×2×1/);
});
