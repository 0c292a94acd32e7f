import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventStreamFromArrays, loadEventStream } from '../../src/graph/event-stream.ts';
import type { EventStream } from '../../src/graph/event-stream.ts';
import { NegativeSampler } from '../../src/graph/negative-sampler.ts';
import { TemporalCsr } from '../../src/graph/temporal-csr.ts';
import type { TemporalNeighbors } from '../../src/graph/temporal-csr.ts';
import { splitEvents } from '../../src/graph/temporal-split.ts';
import { rngUniform } from '../../src/tensor/random.ts';
import { resolveDatasetSource } from '../../src/node/dataset-source.ts';

/** A random stream with many equal times (integer times in a short range) and some self loops. */
function randomStream(seed: number, numNodes: number, numEvents: number, timeRange: number): EventStream {
  const src: number[] = [];
  const dst: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < numEvents; i++) {
    src.push(Math.floor(rngUniform(seed, 1, 0, i, 0) * numNodes));
    dst.push(Math.floor(rngUniform(seed, 1, 0, i, 1) * numNodes));
    t.push(Math.floor(rngUniform(seed, 1, 0, i, 2) * timeRange));
  }
  t.sort((a, b) => a - b);
  return eventStreamFromArrays({ src, dst, t, numNodes });
}

interface Entry {
  neighbor: number;
  event: number;
  time: number;
}

/** Brute force: every entry of `node` strictly before `time`, in (time, event) order. */
function entriesBefore(stream: EventStream, node: number, time: number): Entry[] {
  const entries: Entry[] = [];
  for (let e = 0; e < stream.numEvents; e++) {
    if (stream.t[e] >= time) continue;
    if (stream.src[e] === node) entries.push({ neighbor: stream.dst[e], event: e, time: stream.t[e] });
    if (stream.dst[e] === node) entries.push({ neighbor: stream.src[e], event: e, time: stream.t[e] });
  }
  return entries;
}

function row(answer: TemporalNeighbors, q: number): Entry[] {
  const entries: Entry[] = [];
  for (let slot = 0; slot < answer.k; slot++) {
    const at = q * answer.k + slot;
    if (answer.mask[at] === 1) entries.push({ neighbor: answer.neighbors[at], event: answer.eventIds[at], time: answer.times[at] });
  }
  return entries;
}

/** Every node at every event time, half a unit before and after, and past the end. */
function allQueries(stream: EventStream): { nodes: Int32Array; times: Float64Array } {
  const times = [...new Set(stream.t)].flatMap((time) => [time - 0.5, time, time + 0.5]);
  times.push(Infinity, -Infinity);
  const nodes: number[] = [];
  const queryTimes: number[] = [];
  for (let node = 0; node < stream.numNodes; node++) {
    for (const time of times) {
      nodes.push(node);
      queryTimes.push(time);
    }
  }
  return { nodes: Int32Array.from(nodes), times: Float64Array.from(queryTimes) };
}

const stream = randomStream(11, 25, 400, 60);
const csr = TemporalCsr.fromStream(stream);

describe('TemporalCsr', () => {
  it('holds each event once per endpoint, sorted by (time, event id) per node', () => {
    assert.equal(csr.offsets[csr.numNodes], 2 * stream.numEvents);
    for (let node = 0; node < csr.numNodes; node++) {
      const expected = entriesBefore(stream, node, Infinity);
      const found: Entry[] = [];
      for (let at = csr.offsets[node]; at < csr.offsets[node + 1]; at++) {
        found.push({ neighbor: csr.neighbors[at], event: csr.eventIds[at], time: csr.times[at] });
      }
      assert.deepEqual(found, expected, `node ${node}`);
    }
  });

  it('sorts events given out of order, and keeps the ids of a subset of the stream', () => {
    const unsorted = new TemporalCsr(3, [0, 1, 0], [1, 2, 2], [5, 1, 5], [10, 11, 9]);
    // Node 0: event 9 (t 5) before event 10 (t 5); node 2: event 11 (t 1), then event 9 (t 5).
    assert.deepEqual([...unsorted.eventIds.subarray(unsorted.offsets[0], unsorted.offsets[1])], [9, 10]);
    assert.deepEqual([...unsorted.eventIds.subarray(unsorted.offsets[2], unsorted.offsets[3])], [11, 9]);
    const subset = TemporalCsr.fromStream(stream, Int32Array.from([3, 50, 399]));
    assert.deepEqual([...subset.eventIds].sort((a, b) => a - b), [3, 3, 50, 50, 399, 399]);
    assert.throws(() => new TemporalCsr(2, [0], [2], [0]), /event 0 has node 2, outside \[0, 2\)/);
    assert.throws(() => new TemporalCsr(2, [0], [1], [NaN]), /not a finite number/);
  });

  it('mostRecent equals brute force for every node and time, k = 1, 3, 8, 40', () => {
    const { nodes, times } = allQueries(stream);
    for (const k of [1, 3, 8, 40]) {
      const answer = csr.mostRecent(nodes, times, k);
      for (let q = 0; q < nodes.length; q++) {
        const before = entriesBefore(stream, nodes[q], times[q]);
        const expected = before.slice(-k).reverse(); // most recent first
        assert.deepEqual(row(answer, q), expected, `k ${k}, node ${nodes[q]}, t ${times[q]}`);
        assert.equal(answer.counts[q], expected.length);
        // Padding: node 0, event 0, Δt = 0, mask 0.
        for (let slot = expected.length; slot < k; slot++) {
          const at = q * k + slot;
          assert.deepEqual([answer.neighbors[at], answer.eventIds[at], answer.times[at], answer.mask[at]], [0, 0, times[q], 0]);
        }
      }
    }
  });

  it('never returns an event at or after the query time (exhaustive, both samplers)', () => {
    const { nodes, times } = allQueries(stream);
    const recent = csr.mostRecent(nodes, times, 10);
    const uniform = csr.uniform(nodes, times, 10, 5, 0);
    for (const answer of [recent, uniform]) {
      for (let at = 0; at < answer.mask.length; at++) {
        if (answer.mask[at] === 0) continue;
        const q = Math.floor(at / answer.k);
        assert.ok(answer.times[at] < times[q], `query ${q}: entry at t ${answer.times[at]} ≥ ${times[q]}`);
        assert.ok(stream.t[answer.eventIds[at]] < times[q]);
        const event = answer.eventIds[at];
        const endpoints = [stream.src[event], stream.dst[event]];
        assert.ok(endpoints.includes(nodes[q]) && endpoints.includes(answer.neighbors[at]), 'the event links the node and its neighbour');
      }
    }
  });

  it('the cursor gives the binary search answers, stepping only forward in time order', () => {
    const cursor = csr.cursor();
    const uniformCursor = csr.cursor(); // one cursor per pass over a batch: a second pass would step back
    // Training order: batches of 50 events; queries for src, dst and a third node at each event's time.
    for (let epoch = 0; epoch < 2; epoch++) {
      cursor.reset();
      uniformCursor.reset();
      for (let start = 0; start < stream.numEvents; start += 50) {
        const end = Math.min(start + 50, stream.numEvents);
        const nodes: number[] = [];
        const times: number[] = [];
        for (let e = start; e < end; e++) {
          nodes.push(stream.src[e], stream.dst[e], (e * 7) % stream.numNodes);
          times.push(stream.t[e], stream.t[e], stream.t[e]);
        }
        const n = Int32Array.from(nodes);
        const t = Float64Array.from(times);
        assert.deepEqual(cursor.mostRecent(n, t, 10), csr.mostRecent(n, t, 10));
        assert.deepEqual(uniformCursor.uniform(n, t, 4, 9, epoch), csr.uniform(n, t, 4, 9, epoch));
      }
      assert.equal(cursor.backwardSteps, 0);
      assert.equal(uniformCursor.backwardSteps, 0);
    }
    // Out of order (no reset): still the same answers, by stepping back.
    const { nodes, times } = allQueries(stream);
    const reversed = times.slice().reverse();
    assert.deepEqual(cursor.mostRecent(nodes, reversed, 6), csr.mostRecent(nodes, reversed, 6));
    assert.ok(cursor.backwardSteps > 0);
  });

  it('uniform: reproducible, keyed, drawn only from earlier entries, about uniform', () => {
    const { nodes, times } = allQueries(stream);
    const a = csr.uniform(nodes, times, 5, 3, 1);
    assert.deepEqual(csr.uniform(nodes, times, 5, 3, 1), a);
    assert.notDeepEqual(csr.uniform(nodes, times, 5, 3, 2).eventIds, a.eventIds);
    assert.notDeepEqual(csr.uniform(nodes, times, 5, 4, 1).eventIds, a.eventIds);
    // Every draw is one of the node's entries before the time (checked as the set of (event, neighbour)).
    for (let q = 0; q < nodes.length; q += 7) {
      const allowed = new Set(entriesBefore(stream, nodes[q], times[q]).map((e) => `${e.event}:${e.neighbor}`));
      const drawn = row(a, q);
      assert.equal(drawn.length, allowed.size > 0 ? 5 : 0);
      for (const entry of drawn) assert.ok(allowed.has(`${entry.event}:${entry.neighbor}`));
    }
    // With keys, a query's draws do not depend on its row: reversed batch, reversed rows.
    const keys = Int32Array.from({ length: 30 }, (_, i) => 1000 + i);
    const qNodes = nodes.subarray(0, 30);
    const qTimes = times.subarray(0, 30);
    const forward = csr.uniform(qNodes, qTimes, 3, 8, 0, { keys });
    const backward = csr.uniform(qNodes.slice().reverse(), qTimes.slice().reverse(), 3, 8, 0, { keys: keys.slice().reverse() });
    for (let q = 0; q < 30; q++) assert.deepEqual(row(backward, 29 - q), row(forward, q));
    // One node with 4 earlier entries, 8,000 draws: each entry expected 2,000 times; the binomial
    // standard deviation is about 39, so ±200 (over 5 sigma) never fails by chance.
    const star = new TemporalCsr(5, [0, 0, 0, 0, 0], [1, 2, 3, 4, 1], [1, 2, 3, 4, 9]);
    const draws = star.uniform(Int32Array.of(0), Float64Array.of(9), 8000, 1, 0);
    const counts = [0, 0, 0, 0, 0];
    for (const event of draws.eventIds) counts[event]++;
    assert.equal(counts[4], 0, 'the event at the query time is never drawn');
    for (let e = 0; e < 4; e++) assert.ok(Math.abs(counts[e] - 2000) < 200, `event ${e} drawn ${counts[e]} times`);
  });

  it('refuses bad queries', () => {
    assert.throws(() => csr.mostRecent(Int32Array.of(99), Float64Array.of(1), 2), /query 0 has node 99/);
    assert.throws(() => csr.mostRecent(Int32Array.of(0), Float64Array.of(NaN), 2), /time NaN/);
    assert.throws(() => csr.mostRecent(Int32Array.of(0), Float64Array.of(1, 2), 2), /same length/);
    assert.throws(() => csr.uniform(Int32Array.of(0), Float64Array.of(1), -1, 0, 0), /k must be/);
  });

  it('on CollegeMsg: the training graph of the split, and its most recent 10 neighbours of every training event', async () => {
    const college = await loadEventStream(resolveDatasetSource('collegemsg'));
    const split = splitEvents(college, { seed: 0 });
    const train = TemporalCsr.fromStream(college, split.train);
    assert.equal(train.offsets[train.numNodes], 2 * split.train.length);
    for (const node of split.newNodes) assert.equal(train.degree(node), 0);
    const nodes = new Int32Array(2 * split.train.length);
    const times = new Float64Array(2 * split.train.length);
    split.train.forEach((e, i) => {
      nodes[2 * i] = college.src[e];
      nodes[2 * i + 1] = college.dst[e];
      times[2 * i] = times[2 * i + 1] = college.t[e];
    });
    const cursor = train.cursor();
    const answer = cursor.mostRecent(nodes, times, 10);
    assert.deepEqual(answer, train.mostRecent(nodes, times, 10));
    assert.equal(cursor.backwardSteps, 0);
    for (let at = 0; at < answer.mask.length; at++) if (answer.mask[at]) assert.ok(answer.times[at] < times[Math.floor(at / 10)]);
  });
});

describe('NegativeSampler', () => {
  const events = Int32Array.from({ length: stream.numEvents }, (_, i) => i);

  it('is reproducible and independent of the batch layout', () => {
    const sampler = new NegativeSampler(stream, { seed: 4 });
    const all = sampler.sample(events, 0);
    assert.deepEqual(new NegativeSampler(stream, { seed: 4 }).sample(events, 0), all);
    // Batches of 37 in reverse order give each event the same negative.
    for (let start = 0; start < events.length; start += 37) {
      const batch = events.slice(start, start + 37).reverse();
      const negatives = sampler.sample(batch, 0);
      batch.forEach((event, i) => assert.equal(negatives[i], all[event]));
    }
    assert.notDeepEqual(sampler.sample(events, 1), all, 'a new step draws new negatives');
    assert.notDeepEqual(new NegativeSampler(stream, { seed: 5 }).sample(events, 0), all, 'so does a new seed');
    // Several per event: the first one is the single draw.
    const three = sampler.sample(events, 0, 3);
    events.forEach((event) => assert.equal(three[3 * event], all[event]));
  });

  it("draws from all nodes about uniformly, from the nodes seen so far, or from a list", () => {
    const sampler = new NegativeSampler(stream, { seed: 1 });
    const many = sampler.sample(events, 0, 250); // 100,000 draws over 25 nodes: 4,000 expected each
    const counts = new Array(stream.numNodes).fill(0);
    for (const node of many) counts[node]++;
    // Binomial sd ≈ 62; ±400 is over 6 sigma.
    for (const count of counts) assert.ok(Math.abs(count - 4000) < 400, `count ${count}`);

    const seen = new NegativeSampler(stream, { seed: 1, pool: 'seen' }).sample(events, 0, 5);
    const seenSoFar = new Set<number>();
    for (let e = 0; e < stream.numEvents; e++) {
      seenSoFar.add(stream.src[e]).add(stream.dst[e]);
      for (let j = 0; j < 5; j++) assert.ok(seenSoFar.has(seen[5 * e + j]), `event ${e}: ${seen[5 * e + j]} not seen yet`);
    }
    const pool = Int32Array.of(3, 17, 20);
    for (const node of new NegativeSampler(stream, { seed: 1, pool }).sample(events, 0)) assert.ok(pool.includes(node));
    assert.throws(() => new NegativeSampler(stream, { seed: 1, pool: new Int32Array(0) }), /empty/);
    assert.throws(() => sampler.sample(Int32Array.of(stream.numEvents), 0), /outside/);
  });
});
