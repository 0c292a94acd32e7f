// Node memory writes, last write wins (TGN's memory, last-update times and mailbox) against float64
// references: repeated nodes, rows with and without times, ids out of range, the monotonic variant's
// refusals (earlier than the stored time, out of order within a call, NaN) and its error message.
// Tolerance: every kernel only copies f32 values, so results must be bit-exact (abs 0, rel 0).

import type { Gpu } from '../../src/gpu/gpu.ts';
import { fromArray } from '../../src/tensor/create.ts';
import {
  MemoryTimeError,
  memoryReference as ref,
  scatterLastWrite,
  scatterLastWriteMonotonic,
  scatterLastWriteTimed,
  type MemoryRefusal,
} from '../../src/tensor/ops/memory.ts';
import { withScope } from '../../src/tensor/scope.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { assertClose, assertEqual, assertThrows, randomArray, read, type KernelCase } from './harness.ts';

const EXACT = { abs: 0, rel: 0 };

/** m node ids in [0, N), with many repeats when m > N. */
function nodeIds(m: number, N: number, seed: number): Uint32Array {
  return Uint32Array.from(randomArray(m, seed, 0, N), (v) => Math.floor(v));
}

/** Non-decreasing event times from `start`, with ties. */
function eventTimes(m: number, seed: number, start = 0): Float32Array {
  const steps = randomArray(m, seed, -0.5, 1);
  let t = start;
  return Float32Array.from(steps, (s) => (t += Math.max(0, s)));
}

interface Timed {
  rows: Float32Array | null;
  times: Float32Array;
}

/** Runs one timed write on the GPU and reads back the target (and the report of a monotonic one). */
async function runTimed(
  gpu: Gpu,
  N: number,
  d: number,
  target: Timed,
  update: Timed,
  nodes: Uint32Array | Int32Array,
  mode: 'timed' | 'monotonic',
): Promise<{ rows: Float32Array | null; times: Float32Array; refusal: MemoryRefusal | null }> {
  const m = nodes.length;
  const [rowsT, timesT, report] = withScope(() => {
    const tRows = target.rows ? fromArray(gpu, target.rows, [N, d]) : null;
    const tTimes = fromArray(gpu, target.times, [N]);
    const slots = { rows: tRows, times: tTimes };
    const upd = { rows: update.rows ? fromArray(gpu, update.rows, [m, d]) : null, times: fromArray(gpu, update.times, [m]) };
    const ids = fromArray(gpu, nodes, [m]);
    if (mode === 'timed') {
      scatterLastWriteTimed(slots, upd, ids);
      return [tRows, tTimes, null] as const;
    }
    return [tRows, tTimes, scatterLastWriteMonotonic(slots, upd, ids)] as const;
  });
  try {
    return { rows: rowsT ? await read(rowsT) : null, times: await read(timesT), refusal: report ? await report.read() : null };
  } finally {
    rowsT?.dispose();
    timesT.dispose();
    report?.dispose();
  }
}

function checkAgainst(got: { rows: Float32Array | null; times: Float32Array }, expected: ReturnType<typeof ref.write>, what: string): void {
  if (expected.rows) assertClose(got.rows!, expected.rows, EXACT, `${what}: rows`);
  assertClose(got.times, expected.times!, EXACT, `${what}: times`);
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
      assertClose(got, ref.write(base, null, N, d, rows, null, nodes).rows!, EXACT, 'memory rows');
    },
  });
  memoryCases.push({
    name: `memory: scatterLastWriteTimed rows and times (mailbox) of ${m} events onto ${N}×${d}`,
    async run(gpu) {
      const target = { rows: randomArray(N * d, N + 4), times: randomArray(N, N + 5, 0, 1) };
      const update = { rows: randomArray(m * d, N + 6), times: eventTimes(m, N + 7, 1) };
      const nodes = nodeIds(m, N, N + 8);
      const got = await runTimed(gpu, N, d, target, update, nodes, 'timed');
      checkAgainst(got, ref.write(target.rows, target.times, N, d, update.rows, update.times, nodes), 'mailbox');
    },
  });
  memoryCases.push({
    name: `memory: monotonic write in time order of ${m} events onto ${N}×${d} refuses nothing`,
    async run(gpu) {
      const target = { rows: randomArray(N * d, N + 9), times: randomArray(N, N + 10, 0, 1) };
      const update = { rows: randomArray(m * d, N + 11), times: eventTimes(m, N + 12, 1) };
      const nodes = nodeIds(m, N, N + 13);
      const got = await runTimed(gpu, N, d, target, update, nodes, 'monotonic');
      const expected = ref.write(target.rows, target.times, N, d, update.rows, update.times, nodes, true);
      assertEqual(expected.refused.length, 0, 'reference refusals');
      assertEqual(got.refusal, null, 'refusal report');
      checkAgainst(got, expected, 'memory');
    },
  });
}

memoryCases.push(
  {
    name: 'memory: times alone (last-update vector), ties between equal times',
    async run(gpu) {
      const [N, m] = [40, 120];
      const target = { rows: null, times: new Float32Array(N) };
      const update = { rows: null, times: Float32Array.from({ length: m }, (_, i) => Math.floor(i / 4)) };
      const nodes = nodeIds(m, N, 21);
      for (const mode of ['timed', 'monotonic'] as const) {
        const got = await runTimed(gpu, N, 0, target, update, nodes, mode);
        checkAgainst(got, ref.write(null, target.times, N, 0, null, update.times, nodes), mode);
        assertEqual(got.refusal, null, `${mode} refusals`);
      }
    },
  },
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
      assertClose(got, ref.write(base, null, N, d, rows, null, Uint32Array.from(nodes, (v) => v >>> 0)).rows!, EXACT, 'rows');
      const target = { rows: base, times: new Float32Array(N) };
      const update = { rows, times: Float32Array.from({ length: m }, (_, i) => i + 1) };
      const timed = await runTimed(gpu, N, d, target, update, nodes, 'monotonic');
      assertEqual(timed.refusal, null, 'out-of-range ids are not refusals');
      checkAgainst(timed, ref.write(base, target.times, N, d, rows, update.times, Uint32Array.from(nodes, (v) => v >>> 0), true), 'timed');
    },
  },
  {
    name: 'memory: monotonic write refuses events earlier than the stored time and leaves their nodes alone',
    async run(gpu) {
      const [N, d, m] = [30, 5, 90];
      const target = { rows: randomArray(N * d, 41), times: randomArray(N, 42, 0, 10) };
      const update = { rows: randomArray(m * d, 43), times: eventTimes(m, 44, 5) };
      const nodes = nodeIds(m, N, 45);
      const got = await runTimed(gpu, N, d, target, update, nodes, 'monotonic');
      const expected = ref.write(target.rows, target.times, N, d, update.rows, update.times, nodes, true);
      if (expected.refused.length === 0) throw new Error('test data should contain refused events');
      checkAgainst(got, expected, 'memory after refusals');
      const r = got.refusal;
      if (!r) throw new Error('no refusal reported');
      const e = expected.refused[0];
      assertEqual(r.refused, expected.refused.length, 'refused count');
      assertEqual(r.event, e, 'first refused event');
      assertEqual(r.node, nodes[e], 'its node');
      assertEqual(r.time, update.times[e], 'its time');
      assertEqual(r.storedTime, target.times[nodes[e]], "the node's stored time");
    },
  },
  {
    name: 'memory: monotonic write refuses a node whose last event is earlier than another of its events',
    async run(gpu) {
      const [N, d] = [4, 2];
      // Node 2: times 5 then 3 (out of order): refused, node 2 untouched. Node 1: 4, 4, 6 (ties are fine).
      const nodes = Uint32Array.from([2, 1, 1, 2, 1]);
      const update = { rows: Float32Array.from({ length: 10 }, (_, i) => 100 + i), times: Float32Array.from([5, 4, 4, 3, 6]) };
      const target = { rows: Float32Array.from({ length: N * d }, (_, i) => i), times: Float32Array.from([0, 1, 2, 0]) };
      const got = await runTimed(gpu, N, d, target, update, nodes, 'monotonic');
      const expected = ref.write(target.rows, target.times, N, d, update.rows, update.times, nodes, true);
      assertEqual(expected.refused.join(), '3', 'reference refusals');
      checkAgainst(got, expected, 'memory');
      assertClose(got.rows!, [0, 1, 108, 109, 4, 5, 6, 7], EXACT, 'rows by hand');
      assertClose(got.times, [0, 6, 2, 0], EXACT, 'times by hand');
      const r = got.refusal!;
      assertEqual(`${r.refused} ${r.event} ${r.node} ${r.time} ${r.storedTime} ${r.latestInCall}`, '1 3 2 3 2 5', 'report');
    },
  },
  {
    name: 'memory: monotonic report check() throws naming the event; NaN times are refused',
    async run(gpu) {
      const nodes = Uint32Array.from([0, 1, 2]);
      const times = Float32Array.from([1, Number.NaN, 0.5]);
      const make = () =>
        withScope(() => {
          const slots = { rows: null, times: fromArray(gpu, Float32Array.from([0, 0, 1]), [3]) };
          return scatterLastWriteMonotonic(slots, { rows: null, times: fromArray(gpu, times, [3]) }, fromArray(gpu, nodes, [3]));
        });
      const report = make();
      try {
        await report.check((e) => `event #${1000 + e}`);
        throw new Error('check() did not throw');
      } catch (error) {
        if (!(error instanceof MemoryTimeError)) throw error;
        const want = /event #1001 writes node 1, but its time NaN is earlier than the node's memory time 0 \(2 writes refused\)/;
        if (!want.test(error.message)) throw new Error(`unexpected message: ${error.message}`);
        assertEqual(error.refusal.refused, 2, 'NaN and 0.5 < 1 refused');
      } finally {
        report.dispose();
      }
      const ok = withScope(() =>
        scatterLastWriteMonotonic({ rows: null, times: fromArray(gpu, new Float32Array(2), [2]) }, { rows: null, times: fromArray(gpu, Float32Array.from([1, 2]), [2]) }, fromArray(gpu, Uint32Array.from([0, 1]), [2])),
      );
      await ok.check();
      ok.dispose();
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
        assertThrows(() => scatterLastWriteTimed({ rows: target, times: f([4]) }, { rows: null, times: f([2]) }, ids), /both have rows or both not/, 'rows on one side');
        assertThrows(() => scatterLastWriteTimed({ rows: target, times: f([5]) }, { rows: f([2, 3]), times: f([2]) }, ids), /target times .* must be a vector of 4/, 'target times length');
        assertThrows(() => scatterLastWriteMonotonic({ rows: null, times: f([4]) }, { rows: null, times: f([3]) }, ids), /update times .* must be a vector of 2/, 'update times length');
        assertThrows(
          () => scatterLastWriteMonotonic({ rows: null, times: fromArray(gpu, new Int32Array(4), [4]) }, { rows: null, times: f([2]) }, ids),
          /target times must be f32/,
          'i32 times',
        );
      });
    },
  },
);
