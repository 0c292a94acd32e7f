// The `webgnn` command as users run it: the JSON line, checkpoints and resume, adapters, bad input.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpointFile } from '../../src/node/checkpoint-file.ts';
import { webgnn, lastJson } from './cli-run.ts';



test('train --json ends stdout with one JSON object holding the documented fields', () => {
  const r = webgnn('train', '--dataset', 'cora', '--model', 'sage', '--epochs', '3', '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson(r.stdout);
  for (const key of ['dataset', 'model', 'mode', 'workers', 'adapter', 'epochs', 'test_acc', 'val_acc', 'epoch_ms_median', 'peak_gpu_bytes_per_worker']) {
    assert.ok(key in j, `missing ${key}`);
  }
  assert.equal(j.dataset, 'cora');
  assert.equal(j.model, 'sage');
  assert.equal(j.mode, 'single');
  assert.equal(j.workers, 1);
  assert.equal(j.epochs, 3);
  assert.ok(Array.isArray(j.peak_gpu_bytes_per_worker) && (j.peak_gpu_bytes_per_worker as number[])[0] > 1e6);
  assert.ok(typeof j.test_acc === 'number' && j.test_acc >= 0 && j.test_acc <= 1);
});

test('--model gat trains with the published GAT hyperparameters unless flags override them', () => {
  const r = webgnn('train', '--model', 'gat', '--epochs', '2', '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j.model, 'gat');
  assert.deepEqual([j.hidden, j.heads, j.lr, j.dropout], [8, 8, 0.005, 0.6]);
  const o = lastJson(webgnn('train', '--model', 'gat', '--epochs', '1', '--heads', '2', '--lr', '0.01', '--json', '--no-progress').stdout);
  assert.deepEqual([o.heads, o.lr, o.dropout], [2, 0.01, 0.6]);
});

test('--checkpoint then --resume continues from the saved epoch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webgnn-cli-'));
  const ckpt = join(dir, 'run.ckpt');
  const a = webgnn('train', '--epochs', '2', '--checkpoint', ckpt, '--checkpoint-every', '1', '--json', '--no-progress');
  assert.equal(a.code, 0, a.stderr);
  assert.ok(existsSync(ckpt));
  const b = webgnn('train', '--epochs', '4', '--resume', ckpt, '--json', '--no-progress');
  assert.equal(b.code, 0, b.stderr);
  const j = lastJson(b.stdout);
  assert.equal(j.epochs, 4);
  assert.equal(j.epochs_run, 2);
});

test('adapters lists at least one adapter with its limits and features', () => {
  const r = webgnn('adapters', '--json');
  assert.equal(r.code, 0, r.stderr);
  const list = lastJson(r.stdout) as unknown as Array<{ name: string; limits: Record<string, number>; features: string[] }>;
  assert.ok(list.length >= 1);
  assert.ok(list[0].limits.maxStorageBufferBindingSize > 0);
  assert.ok(Array.isArray(list[0].features));
});

test('bad flags, unknown adapters and bad datasets fail with a clear message', async () => {
  const flag = webgnn('train', '--epochs', 'ten');
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /--epochs must be a valid number, got 'ten'/);
  const adapter = webgnn('train', '--epochs', '1', '--adapter', 'no-such-gpu', '--no-progress');
  assert.equal(adapter.code, 1);
  assert.match(adapter.stderr, /no WebGPU adapter named 'no-such-gpu'/);
  const missing = webgnn('train', '--dataset', '/nonexistent/folder', '--no-progress');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nonexistent/);
  const dir = await mkdtemp(join(tmpdir(), 'webgnn-bad-'));
  await cp('data/cora', dir, { recursive: true });
  await writeFile(join(dir, 'labels.csv'), 'node,label\n0,3\n1,banana\n');
  const bad = webgnn('train', '--dataset', dir, '--no-progress');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /labels\.csv line 3/);
});

test('train-temporal --json on a small CSV stream reports the documented fields; --staleness auto runs on host memory; bad streams and settings are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webgnn-tgn-'));
  const lines = ['src,dst,t'];
  for (let i = 0; i < 400; i++) lines.push(`${(i * 7) % 23},${(i * 11 + 3) % 23},${1000 + 5 * i}`);
  const file = join(dir, 'messages.csv');
  await writeFile(file, lines.join('\n') + '\n');
  const ckpt = join(dir, 'tgn.ckpt');
  const r = webgnn('train-temporal', '--dataset', file, '--epochs', '1', '--batch-size', '100', '--memory-dim', '16', '--checkpoint', ckpt, '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const j = lastJson(r.stdout);
  for (const key of ['test_ap', 'test_auc', 'inductive_ap', 'events_per_s', 'staleness', 'peak_gpu_bytes_per_worker', 'stage_ms']) assert.ok(key in j, `missing ${key}`);
  assert.equal(j.events, 400);
  assert.ok(typeof j.test_ap === 'number' && j.test_ap >= 0 && j.test_ap <= 1);
  assert.deepEqual(j.staleness, { mean: 0, max: 0, in_flight_mean: 0, stale_rows: 0 });
  assert.equal(j.memory, 'device');
  // The checkpoint carries early stopping's best epoch, so a resumed run reports the best of all its epochs.
  const saved = (await loadCheckpointFile(ckpt)).extra?.earlyStopping as { best: { epoch: number; valAp: number; testAp: number } };
  assert.equal(saved.best.epoch, 1);
  assert.equal(saved.best.testAp, j.test_ap);
  const resumed = webgnn('train-temporal', '--dataset', file, '--epochs', '2', '--batch-size', '100', '--memory-dim', '16', '--resume', ckpt, '--json', '--no-progress');
  assert.equal(resumed.code, 0, resumed.stderr);
  const rj = lastJson(resumed.stdout);
  assert.equal(rj.epochs, 2);
  assert.ok((rj.val_ap as number) >= saved.best.valAp, `best val AP ${rj.val_ap} is below epoch 1's ${saved.best.valAp}`);
  // Training is deterministic and the checkpoint holds all of its state: resumed, the run reports what an
  // uninterrupted 2-epoch run reports, whichever epoch is the best.
  const straight = webgnn('train-temporal', '--dataset', file, '--epochs', '2', '--batch-size', '100', '--memory-dim', '16', '--json', '--no-progress');
  assert.equal(straight.code, 0, straight.stderr);
  const sj = lastJson(straight.stdout);
  assert.deepEqual([rj.best_epoch, rj.val_ap, rj.test_ap, rj.final_test_ap], [sj.best_epoch, sj.val_ap, sj.test_ap, sj.final_test_ap]);
  // With no epoch left to train, the resumed run reports the checkpoint's best epoch as its own.
  const nothingLeft = webgnn('train-temporal', '--dataset', file, '--epochs', '1', '--batch-size', '100', '--memory-dim', '16', '--resume', ckpt, '--json', '--no-progress');
  assert.equal(nothingLeft.code, 0, nothingLeft.stderr);
  const nj = lastJson(nothingLeft.stdout);
  assert.deepEqual([nj.best_epoch, nj.val_ap, nj.test_ap], [1, saved.best.valAp, saved.best.testAp]);

  await writeFile(join(dir, 'bad.csv'), 'src,dst,t\n1,2,10\n3,x,11\n');
  const bad = webgnn('train-temporal', '--dataset', join(dir, 'bad.csv'), '--json', '--no-progress');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /bad\.csv.*line 3/);
  const auto = webgnn('train-temporal', '--dataset', file, '--epochs', '1', '--batch-size', '100', '--memory-dim', '16', '--staleness', 'auto', '--json', '--no-progress');
  assert.equal(auto.code, 0, auto.stderr);
  const a = lastJson(auto.stdout);
  assert.equal(a.memory, 'host');
  assert.equal(a.staleness_setting, 'auto');
  const chosen = a.staleness as { mean: number; max: number };
  assert.ok(chosen.mean >= 1 && chosen.max >= 1, JSON.stringify(chosen));
  const onDevice = webgnn('train-temporal', '--dataset', file, '--staleness', '2', '--memory', 'device');
  assert.notEqual(onDevice.code, 0);
  assert.match(onDevice.stderr, /staleness 2 needs node memory in host RAM/);
  const nonsense = webgnn('train-temporal', '--dataset', file, '--staleness', 'fast');
  assert.notEqual(nonsense.code, 0);
  assert.match(nonsense.stderr, /--staleness must be a non-negative integer or 'auto', got 'fast'/);
  // --events trains on a prefix; one too short to give validation and test events is refused, not trained.
  const tooFew = webgnn('train-temporal', '--dataset', file, '--events', '3');
  assert.notEqual(tooFew.code, 0);
  assert.match(tooFew.stderr, /3 events of .* \(first 3 events\) split into 2 training, 0 validation and 1 test events; every set needs events/);
});

function webgnnWithEnv(env: Record<string, string>, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/webgnn.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('flags the chosen mode would ignore are refused, naming the flag and why', () => {
  const refused: Array<[string[], RegExp]> = [
    [['--no-remat'], /--no-remat needs --mode sar .*this run is --mode single/],
    [['--partition', 'random'], /--partition needs --mode sar/],
    [['--workers', '2'], /--workers needs --mode sar/],
    [['--transport', 'threads'], /--transport needs --mode sar/],
    [['--mode', 'sar', '--workers', '2', '--profile'], /--profile .*not supported with --mode sar/],
    [['--heads', '4'], /--heads .*needs --model gat; this run is --model gcn/],
    [['--checkpoint-every', '5'], /--checkpoint-every needs --checkpoint/],
  ];
  for (const [flags, message] of refused) {
    const r = webgnn('train', '--epochs', '1', '--no-progress', ...flags);
    assert.equal(r.code, 1, `${flags.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message);
  }
  // Every problem is named at once.
  const both = webgnn('train', '--no-remat', '--partition', 'random', '--no-progress');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /--no-remat needs --mode sar.*; --partition needs --mode sar/);
});

test('SAR names its adapter (JSON and text) and --no-subgroups reaches every worker, in-process and in threads', () => {
  for (const transport of ['local', 'threads']) {
    const r = webgnn('train', '--mode', 'sar', '--workers', '2', '--transport', transport, '--epochs', '1', '--no-subgroups', '--json', '--no-progress');
    assert.equal(r.code, 0, r.stderr);
    const j = lastJson(r.stdout);
    assert.equal(typeof j.adapter, 'string', JSON.stringify(j));
    assert.ok((j.adapter as string).length > 0 && j.adapter !== 'undefined', JSON.stringify(j));
    assert.equal(j.subgroups, false, `${transport}: ${JSON.stringify(j)}`);
  }
  const single = lastJson(webgnn('train', '--epochs', '1', '--json', '--no-progress').stdout);
  const text = webgnn('train', '--mode', 'sar', '--workers', '2', '--epochs', '1', '--no-progress');
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(`GCN on cora (${single.adapter as string})`), text.stdout);
});

test('WEBGNN_ADAPTER picks the adapter when --adapter is not given, for one device and for SAR threads', () => {
  for (const mode of [['--mode', 'single'], ['--mode', 'sar', '--workers', '2', '--transport', 'threads']]) {
    const r = webgnnWithEnv({ WEBGNN_ADAPTER: 'no-such-gpu' }, 'train', '--epochs', '1', '--no-progress', ...mode);
    assert.equal(r.code, 1, `${mode.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /no WebGPU adapter named 'no-such-gpu'/);
    assert.doesNotMatch(r.stderr, /FATAL ERROR/);
  }
});

test('train --profile prints the work of the first and last epochs: the last compiles, creates and binds nothing new', () => {
  const r = webgnn('train', '--epochs', '5', '--patience', '0', '--profile', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const line = (which: string) => {
    const m = new RegExp(`work per epoch: ${which} (\\d+) dispatches, (\\d+) submits, (\\d+) pipeline look-ups \\((\\d+) compiled\\), (\\d+) bind groups created \\((\\d+) reused\\), (\\d+) buffers created`).exec(r.stderr);
    assert.ok(m, `no '${which}' line in: ${r.stderr}`);
    return m.slice(1).map(Number);
  };
  const [dispatches, submits, lookups, compiled, created, , buffers] = line('first epoch');
  assert.ok(dispatches > 0 && submits > 0 && compiled > 0 && created > 0 && buffers > 0);
  assert.equal(lookups, dispatches, 'a dispatch looks its kernel up once');
  const last = line('last epoch \\(5\\)');
  assert.equal(last[0], dispatches, 'every epoch dispatches the same kernels');
  assert.deepEqual([last[3], last[4], last[6]], [0, 0, 0], 'nothing compiled, bound anew or allocated in the last epoch');
  assert.equal(last[5], dispatches, 'every dispatch reuses its bind group');
});
