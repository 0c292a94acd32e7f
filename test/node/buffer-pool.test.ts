// The buffer pool's memory accounting around submits: trimming and discarding buffers that recorded but
// unsubmitted commands still use must not break the next submit, and must give the memory back after it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromArray, zeros } from '../../src/tensor/create.ts';
import { fill } from '../../src/tensor/ops/elementwise.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';

test('trim and discard of buffers still used by recorded commands wait for the submit', async () => {
  const gpu = await createNodeGpu({ label: 'pool test' });
  try {
    const kept = fromArray(gpu, new Float32Array(4096).fill(1), [4096]);
    const pending = zeros(gpu, [8192]); // its fill is recorded, not yet submitted
    fill(kept, 2);
    pending.dispose();
    const doomed = zeros(gpu, [3000]);
    doomed.discard();
    const before = gpu.pool.allocatedBytes;
    gpu.pool.trim();
    assert.equal(gpu.pool.allocatedBytes, before, 'nothing in use by recorded commands is destroyed before the submit');
    const values = new Float32Array(await kept.toArray()); // submits: the recorded fills run, then the buffers go
    assert.ok(values.every((v) => v === 2));
    assert.ok(gpu.pool.allocatedBytes < before, `allocated ${gpu.pool.allocatedBytes} after the submit, ${before} before`);
    kept.dispose();
  } finally {
    gpu.destroy();
  }
});
