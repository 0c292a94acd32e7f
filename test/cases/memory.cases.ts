// Node memory writes, last write wins (TGN's memory and mailbox rows) against a float64 reference:
// repeated nodes, ids out of range, no events, bad arguments.
// Tolerance: the kernel only copies f32 values, so results must be bit-exact (abs 0, rel 0).

import { fromArray } from '../../src/tensor/create.ts';
import { memoryReference as ref, scatterLastWrite } from '../../src/tensor/ops/memory.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertThrows, randomArray, read, type KernelCase } from './harness.ts';

const EXACT = { abs: 0, rel: 0 };

/** m node ids in [0, N), with many repeats when m > N. */
function nodeIds(m: number, N: number, seed: number): Uint32Array {
  return Uint32Array.from(randomArray(m, seed, 0, N), (v) => Math.floor(v));
}

export const memoryCases: KernelCase[] = [];

// Few nodes and many events (most nodes repeated), many nodes and few events, and m, m·d past one
// workgroup's 1024 items.
for (const [N, d, m] of [
  [50, 7, 200],
  [300, 4, 20],
  [100, 3, 3000],
  [1, 1, 5],
] as const) {
  memoryCases.push({
    name: `memory: scatterLastWrite of ${m} events onto ${N}×${d}, last event wins`,
    async run(gpu) {
      const base = randomArray(N * d, N + 1);
      const rows = randomArray(m * d, N + 2);
      const nodes = nodeIds(m, N, N + 3);
      const got = await read(
        withScope(() => {
          const target = fromArray(gpu, base, [N, d]);
          scatterLastWrite(target, fromArray(gpu, rows, [m, d]), fromArray(gpu, nodes, [m]));
          return target;
        }),
      );
      assertClose(got, ref.write(base, N, d, rows, nodes), EXACT, 'memory rows');
    },
  });
}

memoryCases.push(
  {
    name: 'memory: node ids out of range (≥ N, i32 −1) are ignored',
    async run(gpu) {
      const [N, d] = [10, 3];
      const nodes = Int32Array.from([3, 10, -1, 3, 9, 1000, 0]);
      const m = nodes.length;
      const base = randomArray(N * d, 31);
      const rows = randomArray(m * d, 32);
      const got = await read(
        withScope(() => {
          const target = fromArray(gpu, base, [N, d]);
          scatterLastWrite(target, fromArray(gpu, rows, [m, d]), fromArray(gpu, nodes, [m]));
          return target;
        }),
      );
      assertClose(got, ref.write(base, N, d, rows, Uint32Array.from(nodes, (v) => v >>> 0)), EXACT, 'rows');
    },
  },
  {
    name: 'memory: no events write nothing',
    async run(gpu) {
      const base = randomArray(6, 51);
      const got = await read(
        withScope(() => {
          const target = fromArray(gpu, base, [3, 2]);
          scatterLastWrite(target, fromArray(gpu, new Float32Array(0), [0, 2]), fromArray(gpu, new Uint32Array(0), [0]));
          return target;
        }),
      );
      assertClose(got, base, EXACT, 'untouched');
    },
  },
  {
    name: 'memory: bad arguments',
    async run(gpu) {
      withScope(() => {
        const f = (shape: number[]) => fromArray(gpu, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
        const ids = fromArray(gpu, Uint32Array.from([0, 1]), [2]);
        const target: Tensor = f([4, 3]);
        assertThrows(() => scatterLastWrite(target, f([2, 3]), f([2])), /scatterLastWrite: nodes must be a u32 or i32/, 'f32 ids');
        assertThrows(() => scatterLastWrite(target, f([2, 2]), ids), /update rows .* must be \[2, 3\]/, 'row width');
        assertThrows(() => scatterLastWrite(target, f([3, 3]), ids), /update rows .* must be \[2, 3\]/, 'row count');
        assertThrows(() => scatterLastWrite(fromArray(gpu, new Int32Array(12), [4, 3]), f([2, 3]), ids), /target rows must be f32/, 'i32 target');
      });
    },
  },
);
