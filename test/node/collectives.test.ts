// Collectives (barrier, ring all-reduce, all-gather, all-to-all) on 1–4 ranks over LocalTransport and
// over ThreadTransport between real worker_threads, checked against float64 references; plus failure
// detection when a thread dies inside a collective.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { allGather, allReduceSum, allToAll, barrier, concatRanks, MAX_COLLECTIVE_TAG_ID } from '../../src/dist/collectives.ts';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import { threadLinks, ThreadTransport } from '../../src/dist/thread-transport.ts';
import { PeerError } from '../../src/dist/transport.ts';
import type { WireArray } from '../../src/dist/wire.ts';
import { ok, ThreadPool } from './fixtures/thread-pool.ts';

/** Deterministic values in [-1, 1) (mulberry32). */
function randomF32(n: number, seed: number): Float32Array<ArrayBuffer> {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** What a test needs from a group of ranks, whichever transport links them. */
interface Group {
  size: number;
  allReduce(inputs: Float32Array[], tagId: number): Promise<Float32Array[]>;
  allGather(inputs: WireArray[], tagId: number): Promise<WireArray[][]>;
  allToAll(sends: WireArray[][], tagId: number): Promise<WireArray[][]>;
  /** Rank r enters after delays[r] ms; returns when each entered and left (epoch ms). */
  barrier(delays: number[], tagId: number): Promise<{ entered: number; left: number }[]>;
}

const now = () => performance.timeOrigin + performance.now();

function localGroup(size: number): Group {
  const ts = LocalTransport.group(size);
  return {
    size,
    allReduce: (inputs, tagId) => Promise.all(ts.map((t, r) => allReduceSum(t, inputs[r].slice(), tagId))),
    allGather: (inputs, tagId) => Promise.all(ts.map((t, r) => allGather(t, inputs[r], tagId))),
    allToAll: (sends, tagId) => Promise.all(ts.map((t, r) => allToAll(t, sends[r], tagId))),
    barrier: (delays, tagId) =>
      Promise.all(
        ts.map(async (t, r) => {
          await new Promise((res) => setTimeout(res, delays[r]));
          const entered = now();
          await barrier(t, tagId);
          return { entered, left: now() };
        }),
      ),
  };
}

function threadGroup(pool: ThreadPool): Group {
  const values = async <T>(replies: Promise<import('./fixtures/thread-pool.ts').Reply<T>[]>) => (await replies).map(ok);
  return {
    size: pool.size,
    allReduce: (inputs, tagId) => values(pool.all('allReduce', (r) => ({ data: inputs[r], tagId }))),
    allGather: (inputs, tagId) => values(pool.all('allGather', (r) => ({ data: inputs[r], tagId }))),
    allToAll: (sends, tagId) => values(pool.all('allToAll', (r) => ({ send: sends[r], tagId }))),
    barrier: (delays, tagId) => values(pool.all('barrier', (r) => ({ delayMs: delays[r], tagId }))),
  };
}

async function checkAllReduce(g: Group): Promise<void> {
  // 1000: uneven chunks; 7 and 2: chunks of 0–3 elements (some empty when size > length); 0: all empty.
  for (const [i, length] of [1000, 7, 2, 0].entries()) {
    const inputs = Array.from({ length: g.size }, (_, r) => randomF32(length, 1000 * i + r + 1));
    const results = await g.allReduce(inputs, 10 + i);
    // Bitwise identical on every rank: compare the raw bits, not the values (NaN/-0 safe).
    const bits0 = new Uint32Array(results[0].buffer, results[0].byteOffset, length);
    for (let r = 1; r < g.size; r++) assert.deepEqual(new Uint32Array(results[r].buffer, results[r].byteOffset, length), bits0, `rank ${r} bits`);
    // Tolerance: a float32 sum of n terms in any order is within (n−1)·2⁻²⁴·Σ|xᵢ| of the exact sum
    // (each of the n−1 additions rounds once); the float64 reference of float32 inputs is exact here.
    for (let k = 0; k < length; k++) {
      let exact = 0;
      let magnitude = 0;
      for (const x of inputs) (exact += x[k]), (magnitude += Math.abs(x[k]));
      const bound = (g.size - 1) * 2 ** -24 * magnitude * 1.0001;
      assert.ok(Math.abs(results[0][k] - exact) <= bound, `element ${k}: ${results[0][k]} vs ${exact} (bound ${bound})`);
    }
  }
}

async function checkAllGather(g: Group): Promise<void> {
  const makers = [
    (n: number, r: number) => randomF32(n, 77 + r),
    (n: number, r: number) => Int32Array.from({ length: n }, (_, i) => (i - 5) * (r + 1)),
    (n: number, r: number) => Uint32Array.from({ length: n }, (_, i) => 0xfffffff0 + i + r),
  ];
  for (const [i, make] of makers.entries()) {
    // Lengths differ per rank, and rank 1 contributes nothing.
    const inputs = Array.from({ length: g.size }, (_, r) => make(r === 1 ? 0 : 3 * r + 2, r)) as WireArray[];
    const results = await g.allGather(inputs, 20 + i);
    for (let r = 0; r < g.size; r++) {
      assert.equal(results[r].length, g.size);
      results[r].forEach((got, from) => assert.deepEqual(got, inputs[from], `rank ${r}, entry from ${from}`));
      assert.deepEqual(concatRanks(results[r] as Float32Array[]), concatRanks(inputs as Float32Array[]));
    }
  }
}

async function checkAllToAll(g: Group): Promise<void> {
  // From rank r to rank i: (r+1)·(i+2) elements whose values name both; kinds differ per destination.
  const block = (r: number, i: number): WireArray => {
    const values = Array.from({ length: (r + 1) * (i + 2) }, (_, k) => 100 * r + 10 * i + k);
    return i % 2 ? Int32Array.from(values) : Float32Array.from(values);
  };
  const sends = Array.from({ length: g.size }, (_, r) => Array.from({ length: g.size }, (_, i) => block(r, i)));
  const results = await g.allToAll(sends, 30);
  for (let r = 0; r < g.size; r++) for (let from = 0; from < g.size; from++) assert.deepEqual(results[r][from], block(from, r), `rank ${r} from ${from}`);
}

async function checkBarrier(g: Group): Promise<void> {
  // Ranks arrive 0–60 ms apart; nobody may leave before the last one arrived.
  const delays = Array.from({ length: g.size }, (_, r) => ((r * 37) % 3) * 30);
  const times = await g.barrier(delays, 40);
  const lastIn = Math.max(...times.map((t) => t.entered));
  // 1 ms slack: the timestamps of different threads come from per-thread clocks rounded differently.
  for (const [r, t] of times.entries()) assert.ok(t.left >= lastIn - 1, `rank ${r} left at ${t.left}, last rank entered at ${lastIn}`);
}

const SIZES = [2, 3, 4];
const pools = new Map<number, ThreadPool>();

before(() => {
  for (const n of SIZES) pools.set(n, ThreadPool.start(n));
});
after(async () => {
  for (const p of pools.values()) await p.terminate();
});

for (const transport of ['local', 'threads'] as const) {
  for (const n of SIZES) {
    const group = () => (transport === 'local' ? localGroup(n) : threadGroup(pools.get(n)!));
    test(`${transport} × ${n}: allReduceSum is bitwise identical on every rank and within float32 rounding of the float64 sum`, () =>
      checkAllReduce(group()));
    test(`${transport} × ${n}: allGather returns every rank's array (f32, i32, u32; uneven and empty)`, () => checkAllGather(group()));
    test(`${transport} × ${n}: allToAll delivers send[i] to rank i`, () => checkAllToAll(group()));
    test(`${transport} × ${n}: barrier releases nobody before the last rank arrives`, () => checkBarrier(group()));
  }
}

test('size 1 (local and threads): every collective is a no-op returning its input', async () => {
  const [links] = threadLinks(1);
  for (const t of [LocalTransport.group(1)[0], new ThreadTransport(links)]) {
    const data = Float32Array.of(1, 2, 3);
    assert.equal(await allReduceSum(t, data, 1), data);
    assert.deepEqual(data, Float32Array.of(1, 2, 3));
    assert.deepEqual(await allGather(t, data, 2), [data]);
    const send = [Int32Array.of(4)];
    assert.equal((await allToAll(t, send, 3))[0], send[0]);
    await barrier(t, 4);
    await t.close();
  }
});

test('tagId outside 0..MAX_COLLECTIVE_TAG_ID is refused before anything is sent', async () => {
  const [a] = LocalTransport.group(2);
  await assert.rejects(allReduceSum(a, new Float32Array(4), MAX_COLLECTIVE_TAG_ID + 1), /tagId must be an integer in 0\.\.16383/);
  await assert.rejects(barrier(a, -1), RangeError);
  await assert.rejects(allToAll(a, [new Float32Array(1)], 0), /one array per rank/);
  assert.deepEqual(a.stats.messagesSent, [0, 0]);
});

test('allReduceSum with a different length on one rank fails the session on every rank instead of hanging', async () => {
  const ts = LocalTransport.group(3);
  const results = await Promise.allSettled(ts.map((t, r) => allReduceSum(t, new Float32Array(r === 1 ? 10 : 12), 5)));
  for (const [r, result] of results.entries()) {
    assert.equal(result.status, 'rejected', `rank ${r}`);
    assert.ok((result as PromiseRejectedResult).reason instanceof PeerError, `rank ${r}: ${(result as PromiseRejectedResult).reason}`);
  }
  assert.match(ts[2].failure!.reason, /expected shape \[\d+\], got \[\d+\]/);
});

test('threads × 4: a thread terminated while the others wait in allReduceSum fails them all, naming it, within 10 s', async () => {
  const pool = pools.get(4)!;
  await pool.relink();
  const dead = 3;
  const waiting = [0, 1, 2].map((r) => pool.call(r, 'allReduce', { data: randomF32(1 << 16, r), tagId: 50 }));
  await new Promise((r) => setTimeout(r, 100)); // let them block in the ring
  const start = performance.now();
  await pool.workers[dead].terminate();
  const replies = await Promise.all(waiting);
  for (const [r, reply] of replies.entries()) {
    assert.equal(reply.ok, false, `rank ${r} should fail`);
    if (reply.ok) continue;
    assert.equal(reply.error.name, 'PeerError');
    assert.equal(reply.error.peer, dead, `rank ${r}: ${reply.error.message}`);
    assert.match(reply.error.reason!, /without a goodbye|exited|terminated/);
    const ms = reply.at - start;
    assert.ok(ms < 10_000, `rank ${r} took ${ms} ms`);
    console.log(`rank ${r} learned of rank ${dead}'s death after ${ms.toFixed(1)} ms: ${reply.error.message}`);
  }
});
