// Runs the shared kernel case list on Dawn, with subgroups (when the adapter has them) and without.

import { after, before, describe, test } from 'node:test';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { createNodeGpu } from '../../src/node/node-gpu.ts';
import { allKernelCases } from '../cases/index.ts';

for (const subgroups of [true, false]) {
  describe(`kernels (${subgroups ? 'subgroups when available' : 'subgroups off'})`, () => {
    let gpu: Gpu;
    before(async () => {
      gpu = await createNodeGpu({ subgroups });
    });
    after(() => gpu.destroy());
    for (const c of allKernelCases()) test(c.name, () => c.run(gpu));
  });
}
