// `webgnn train-temporal --workers N --parallel i×j×k` as users run it (README "Temporal graphs", DistTGL):
// the JSON summary counts passes and traffic per trainer, and flags that cannot apply are refused with
// the reason. The first 600 events of CollegeMsg keep each run to seconds on the software adapter.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

function webgnn(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/webgnn.mjs', 'train-temporal', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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
    [['--workers', '2', '--checkpoint', '/tmp/never.ckpt'], /--checkpoint and --resume are not supported with --workers > 1/],
    [['--workers', '2', '--transport', 'threads'], /--transport threads is not supported by train-temporal yet/],
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
