// The checkpoint format: round trip, and refusal of truncated, corrupted or foreign files.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../../src/nn/checkpoint.ts';
import { loadCheckpointFile, saveCheckpointFile } from '../../src/node/checkpoint-file.ts';

function sample(): CheckpointData {
  return {
    config: { model: { kind: 'gcn', inChannels: 3 } },
    epoch: 7,
    rng: { seed: 3, step: 7 },
    optimizer: { kind: 'adam', step: 7, hyper: { lr: 0.01 } },
    tensors: [
      { name: 'param:conv1.weight', shape: [3, 2], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) },
      { name: 'opt:m:conv1.weight', shape: [3, 2], data: new Float32Array(6).fill(0.25) },
      { name: 'param:empty', shape: [0], data: new Float32Array(0) },
    ],
    extra: { note: 'x' },
  };
}

test('round trip keeps every field and value', () => {
  const back = decodeCheckpoint(encodeCheckpoint(sample()));
  const s = sample();
  assert.deepEqual(back.config, s.config);
  assert.equal(back.epoch, 7);
  assert.deepEqual(back.rng, s.rng);
  assert.deepEqual(back.optimizer, s.optimizer);
  assert.deepEqual(back.extra, s.extra);
  assert.equal(back.tensors.length, 3);
  back.tensors.forEach((t, i) => {
    assert.equal(t.name, s.tensors[i].name);
    assert.deepEqual(t.shape, s.tensors[i].shape);
    assert.deepEqual([...t.data], [...s.tensors[i].data]);
  });
});

test('a flipped byte, a truncation and a foreign file are refused with a clear error', () => {
  const bytes = encodeCheckpoint(sample());
  const flipped = bytes.slice();
  flipped[40] ^= 0xff;
  assert.throws(() => decodeCheckpoint(flipped, 'a.ckpt'), /checkpoint a\.ckpt: checksum mismatch/);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 9), 'b.ckpt'), /checkpoint b\.ckpt: checksum mismatch/);
  assert.throws(() => decodeCheckpoint(new TextEncoder().encode('hello, this is not a checkpoint'), 'c'), /not a webgnn checkpoint/);
  assert.throws(() => decodeCheckpoint(new Uint8Array(3), 'd'), /too short/);
});

test('files are written atomically and leave no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webgnn-ckpt-'));
  const path = join(dir, 'model.ckpt');
  await saveCheckpointFile(path, sample());
  await saveCheckpointFile(path, { ...sample(), epoch: 8 });
  assert.deepEqual(await readdir(dir), ['model.ckpt']);
  assert.equal((await loadCheckpointFile(path)).epoch, 8);
  await writeFile(join(dir, 'bad.ckpt'), 'garbage');
  await assert.rejects(loadCheckpointFile(join(dir, 'bad.ckpt')), /bad\.ckpt/);
  await assert.rejects(loadCheckpointFile(join(dir, 'missing.ckpt')), /could not read checkpoint .*missing\.ckpt: ENOENT/);
});
