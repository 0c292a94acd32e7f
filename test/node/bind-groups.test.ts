// The step encoder's bind-group cache and the kernel cache's keys: a step that binds the same buffers
// and uniform slots again reuses its bind groups (and computes the same values), a destroyed buffer's
// groups are forgotten, and kernels are keyed by name, entry point, defines and constants.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { fromArray, zeros } from '../../src/tensor/create.ts';
import { axpyInPlace, fill } from '../../src/tensor/ops/elementwise.ts';

test('a repeated step reuses its bind groups and gives the same values; destroyed buffers drop theirs', async () => {
  const gpu = await createNodeGpu({ label: 'bind groups' });
  try {
    const cache = gpu.encoder.bindGroups;
    const x = fromArray(gpu, Float32Array.from({ length: 300 }, (_, i) => i), [300]);
    const y = zeros(gpu, [300]);
    const step = () => {
      for (let k = 0; k < 3; k++) axpyInPlace(y, x, 0.5);
    };
    step();
    gpu.submit();
    const [hits, misses] = [cache.hits, cache.misses];
    step(); // the arena's uniform slots repeat after a submit: the same three groups
    const values = new Float32Array(await y.toArray());
    assert.equal(cache.hits - hits, 3);
    assert.equal(cache.misses - misses, 0);
    values.forEach((v, i) => assert.equal(v, 3 * i, `y[${i}] after two steps of y += 0.5·x three times`));

    const doomed = zeros(gpu, [5000]);
    fill(doomed, 1);
    await doomed.toArray();
    const size = cache.size;
    doomed.discard(); // nothing recorded uses it: destroyed at once, and its groups with it
    assert.ok(cache.size < size, `${cache.size} groups after the discard, ${size} before`);
    x.dispose();
    y.dispose();
  } finally {
    gpu.destroy();
  }
});

test('kernels are compiled once per name, entry point, defines and constants', async () => {
  const gpu = await createNodeGpu({ label: 'kernel keys' });
  try {
    const source = 'override N: u32 = 1u;\n@group(0) @binding(1) var<storage, read_write> v: array<u32>;\n@compute @workgroup_size(1) fn main() {\n//#if TWO\n  v[0] = 2u * N;\n//#else\n  v[0] = N;\n//#endif\n}\n@compute @workgroup_size(1) fn other() { v[0] = 7u; }\n';
    const before = gpu.kernels.compiled;
    const a = gpu.kernel({ name: 'key-test', source });
    assert.equal(gpu.kernel({ name: 'key-test', source }), a);
    assert.equal(gpu.kernels.compiled - before, 1);
    const variants = [
      gpu.kernel({ name: 'key-test', source, entryPoint: 'other' }),
      gpu.kernel({ name: 'key-test', source, defines: { TWO: true } }),
      gpu.kernel({ name: 'key-test', source, constants: { N: 3 } }),
    ];
    assert.equal(new Set([a, ...variants]).size, 4);
    assert.equal(gpu.kernels.compiled - before, 4);
    assert.equal(gpu.kernel({ name: 'key-test', source, defines: { TWO: true } }), variants[1]);
    assert.equal(gpu.kernel({ name: 'key-test', source, constants: { N: 3 } }), variants[2]);
    // What each computes, through the cache.
    const out = zeros(gpu, [1], 'u32');
    const run = async (pipeline: GPUComputePipeline) => {
      gpu.dispatch(pipeline, null, [out.buffer], 1);
      return new Uint32Array(await out.toArray())[0];
    };
    assert.deepEqual([await run(a), await run(variants[0]), await run(variants[1]), await run(variants[2])], [1, 7, 2, 3]);
    out.dispose();
  } finally {
    gpu.destroy();
  }
});
