import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DatasetError } from '../../src/graph/dataset-error.ts';
import { describeEvent, eventStreamFromArrays, loadEventStream } from '../../src/graph/event-stream.ts';
import { firstEvents } from '../../src/graph/event-stream-prefix.ts';
import type { EventStream, LoadEventStreamOptions } from '../../src/graph/event-stream.ts';
import type { DatasetSource } from '../../src/graph/node-dataset.ts';
import { quantileOfSorted, splitEvents } from '../../src/graph/temporal-split.ts';
import { resolveDatasetSource, resolveEventStreamSource } from '../../src/node/dataset-source.ts';

function memorySource(files: Record<string, string | null>): DatasetSource {
  return { name: 'memory', readText: async (file) => files[file] ?? null };
}

function load(events: string | null, options: LoadEventStreamOptions = {}, meta: string | null = null): Promise<EventStream> {
  return loadEventStream(memorySource({ 'events.csv': events, 'meta.json': meta }), options);
}

async function expectError(
  promise: Promise<unknown>,
  file: string,
  line: number | null,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
    assert.equal(error.file, file, error.message);
    assert.equal(error.line, line, error.message);
    assert.match(error.message, message);
    return true;
  });
}

let collegeMsg: Promise<EventStream> | null = null;
const loadCollegeMsg = () => (collegeMsg ??= loadEventStream(resolveDatasetSource('collegemsg')));

describe('embedded CollegeMsg', () => {
  it('loads with the published counts, in time order, ids remapped by first appearance', async () => {
    const stream = await loadCollegeMsg();
    assert.equal(stream.name, 'collegemsg');
    assert.equal(stream.numEvents, 59835);
    assert.equal(stream.numNodes, 1899);
    assert.equal(stream.sortedOnLoad, false);
    assert.equal(stream.label, null);
    assert.equal(stream.edgeFeatures, null);
    assert.equal(stream.edgeDim, 0);
    // First line "1,2,1082040961", second "3,4,1082155839".
    assert.deepEqual([stream.src[0], stream.dst[0], stream.src[1], stream.dst[1]], [0, 1, 2, 3]);
    assert.deepEqual([...stream.originalIds.subarray(0, 4)], [1, 2, 3, 4]);
    assert.equal(stream.t[0], 1082040961);
    assert.equal(stream.lines[0], 2);
    for (let i = 1; i < stream.numEvents; i++) assert.ok(stream.t[i] >= stream.t[i - 1]);
    // originalIds is a permutation of the file's ids 1..1899.
    assert.deepEqual([...stream.originalIds].sort((a, b) => a - b), Array.from({ length: 1899 }, (_, i) => i + 1));
    // Remapped in order of first appearance: each event introduces at most the next unused ids.
    let seen = 0;
    for (let i = 0; i < stream.numEvents; i++) {
      for (const node of [stream.src[i], stream.dst[i]]) {
        assert.ok(node <= seen, `event ${i}: node ${node} before ${seen}`);
        if (node === seen) seen++;
      }
    }
    assert.match(describeEvent(stream, 0), /^events\.csv line 2 \(event 0, 1 → 2 at t = 1082040961\)$/);
  });

  it("keeps the file's ids on request (1-based: numNodes = max id + 1)", async () => {
    const stream = await loadEventStream(resolveDatasetSource('collegemsg'), { nodeIds: 'keep' });
    assert.equal(stream.numNodes, 1900);
    assert.deepEqual([stream.src[0], stream.dst[0]], [1, 2]);
    assert.equal(stream.originalIds[1899], 1899);
  });

  it('resolves by name, and a lone CSV file by path', async () => {
    const byName = resolveEventStreamSource('collegemsg');
    assert.equal(byName.eventsFile, 'events.csv');
    assert.equal(byName.source.name, 'collegemsg');

    const dir = mkdtempSync(join(tmpdir(), 'webgnn-events-'));
    try {
      const path = join(dir, 'mine.csv');
      writeFileSync(path, 'src,dst,t\n5,7,1\n7,5,2\n5,9,x\n');
      const { source, eventsFile } = resolveEventStreamSource(path);
      assert.equal(eventsFile, 'mine.csv');
      assert.equal(source.name, 'mine');
      assert.equal(await source.readText('meta.json'), null);
      await expectError(loadEventStream(source, { eventsFile }), 'mine.csv', 4, /column "t": "x" is not a number/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the general event format', () => {
  it('reads an optional label and edge features (row-major, named by the header)', async () => {
    const stream = await load('src,dst,t,label,w,len\n0,1,0.5,1,0.25,3\n1,2,1.5,0,-2,1e-3\n');
    assert.equal(stream.numEvents, 2);
    assert.equal(stream.numNodes, 3);
    assert.deepEqual([...stream.label!], [1, 0]);
    assert.equal(stream.edgeDim, 2);
    assert.deepEqual(stream.edgeFeatureNames, ['w', 'len']);
    assert.deepEqual([...stream.edgeFeatures!], [0.25, 3, -2, Math.fround(1e-3)]);
    assert.deepEqual([...stream.t], [0.5, 1.5]);
  });

  it('takes features without a label column, and the name from meta.json', async () => {
    const meta = '{"name": "tiny", "kind": "temporal-events", "num_events": 2, "num_nodes": 2, "edge_features": 1}';
    const stream = await load('src,dst,t,f0\n4,9,1,7\n9,4,2,8\n', {}, meta);
    assert.equal(stream.name, 'tiny');
    assert.equal(stream.label, null);
    assert.deepEqual([...stream.edgeFeatures!], [7, 8]);
    assert.deepEqual([...stream.originalIds], [4, 9]);
  });

  it('sorts unsorted events stably by t and says so', async () => {
    // Lines 2..6; times 3, 1, 2, 1, 3: stable order is lines 3, 5, 4, 2, 6.
    const text = 'src,dst,t,label,f\n10,11,3,0,100\n12,13,1,1,101\n14,15,2,2,102\n16,17,1,3,103\n18,19,3,4,104\n';
    const stream = await load(text);
    assert.equal(stream.sortedOnLoad, true);
    assert.deepEqual([...stream.lines], [3, 5, 4, 2, 6]);
    assert.deepEqual([...stream.t], [1, 1, 2, 3, 3]);
    assert.deepEqual([...stream.label!], [1, 3, 2, 0, 4]);
    assert.deepEqual([...stream.edgeFeatures!], [101, 103, 102, 100, 104]);
    // Ids remapped by first appearance in the sorted order.
    assert.deepEqual([...stream.originalIds], [12, 13, 16, 17, 14, 15, 10, 11, 18, 19]);
    assert.deepEqual([...stream.src], [0, 2, 4, 6, 8]);
  });

  it("refuses unsorted events with unsorted: 'refuse', naming the first line out of order", async () => {
    await expectError(load('src,dst,t\n0,1,5\n1,2,5\n2,3,4\n', { unsorted: 'refuse' }), 'events.csv', 4, /t = 4 is earlier than t = 5 on line 3/);
    // Equal times are in order.
    assert.equal((await load('src,dst,t\n0,1,5\n1,2,5\n', { unsorted: 'refuse' })).sortedOnLoad, false);
  });
});

describe('malformed event files name the file and line', () => {
  const cases: [string, string | null, number | null, RegExp, LoadEventStreamOptions?][] = [
    ['missing file', null, null, /file is missing from dataset "memory"/],
    ['empty file', '', 1, /the file is empty; expected a header row starting with "src,dst,t"/],
    ['blank first line', '\n0,1,2\n', 1, /the first line is empty/],
    ['header without t', 'src,dst\n0,1\n', 1, /expected a header row starting with "src,dst,t".*found "src,dst"/],
    ['header in another order', 'dst,src,t\n0,1,2\n', 1, /found "dst,src,t"/],
    ['no header row', '0,1,2\n1,2,3\n', 1, /the header row seems to be missing/],
    ['only a header', 'src,dst,t\n', null, /has a header but no events/],
    ['duplicate feature name', 'src,dst,t,a,a\n0,1,2,3,4\n', 1, /column "a" appears twice/],
    ['label not after t', 'src,dst,t,a,label\n0,1,2,3,4\n', 1, /column "label" must come right after "t" \(column 4\), found it in column 5/],
    ['unnamed feature', 'src,dst,t,\n0,1,2,3\n', 1, /column 4 of the header has no name/],
    ['non-numeric id', 'src,dst,t\n0,1,2\nabc,1,3\n', 3, /column "src": "abc" is not a number/],
    ['non-integer id', 'src,dst,t\n0,1.5,2\n', 2, /column "dst": "1.5" is not an integer/],
    ['negative id', 'src,dst,t\n0,1,2\n\n-3,1,3\n', 4, /src node id -3 is negative/],
    ['id beyond 32 bits', 'src,dst,t\n0,4294967296,2\n', 2, /outside the 32-bit integer range/],
    ['NaN time', 'src,dst,t\n0,1,NaN\n', 2, /column "t": "NaN" is not a finite number/],
    ['infinite feature', 'src,dst,t,f\n0,1,2,-Infinity\n', 2, /column "f": "-Infinity" is not a finite number/],
    ['time overflowing', 'src,dst,t\n0,1,1e999\n', 2, /overflows to infinity/],
    ['feature overflowing float32', 'src,dst,t,f\n0,1,2,1\n0,1,3,1e39\n', 3, /column "f": 1e\+39 overflows a 32-bit float/],
    ['missing field', 'src,dst,t,label\n0,1,2,1\n0,1,3\n', 3, /expected 4 columns \(src,dst,t,label\), found 3/],
    ['empty field', 'src,dst,t\n0,,3\n', 2, /column "dst" is empty/],
    ['id too large to keep', 'src,dst,t\n0,1,2\n5,70000000,3\n', 3, /dst node id 70000000 is too large.*maxNodes = 16777216/, { nodeIds: 'keep' }],
    ['too many nodes', 'src,dst,t\n0,1,2\n5,7,3\n', 3, /src node id 5 is node number 3, more than maxNodes = 2/, { maxNodes: 2 }],
  ];
  for (const [what, text, line, message, options] of cases) {
    it(what, () => expectError(load(text, options ?? {}), 'events.csv', line, message));
  }

  it('a custom events file name appears in the errors', () =>
    expectError(loadEventStream(memorySource({ 'x.csv': 'src,dst,t\n0,1,oops\n' }), { eventsFile: 'x.csv' }), 'x.csv', 2, /"oops" is not a number/));

  const metaCases: [string, string, string, string | null, number | null, RegExp][] = [
    ['invalid JSON', 'src,dst,t\n0,1,2\n', '{\n"name": "a",\n}', 'meta.json', 3, /not valid JSON/],
    ['not an object', 'src,dst,t\n0,1,2\n', '[1]', 'meta.json', 1, /must be a JSON object/],
    ['wrong kind', 'src,dst,t\n0,1,2\n', '{\n"kind": "node-classification"\n}', 'meta.json', 2, /this is not an event stream/],
    ['event count', 'src,dst,t\n0,1,2\n', '{"name": "a",\n "num_events": 2}', 'meta.json', 2, /num_events = 2, but events\.csv has 1 events/],
    ['node count', 'src,dst,t\n0,1,2\n', '{"num_nodes": 3}', 'meta.json', 1, /num_nodes = 3, but events\.csv has 2 distinct node ids/],
    ['feature count', 'src,dst,t,f\n0,1,2,3\n', '{"edge_features": 0}', 'meta.json', 1, /edge_features = 0, but events\.csv has 1 edge-feature columns/],
    ['bad count field', 'src,dst,t\n0,1,2\n', '{"num_events": -1}', 'meta.json', 1, /"num_events" must be an integer ≥ 1/],
    ['id below the base', 'src,dst,t\n1,2,2\n0,1,3\n', '{"node_id_base": 1}', 'events.csv', 3, /src node id 0 is below node_id_base = 1 given in meta\.json/],
  ];
  for (const [what, events, meta, file, line, message] of metaCases) {
    it(`meta.json: ${what}`, () => expectError(load(events, {}, meta), file!, line, message));
  }
});

describe('eventStreamFromArrays', () => {
  it('builds a stream and refuses unsorted times or bad ids', () => {
    const stream = eventStreamFromArrays({ src: [0, 2], dst: [1, 0], t: [1, 1] });
    assert.equal(stream.numNodes, 3);
    assert.throws(() => eventStreamFromArrays({ src: [0, 1], dst: [1, 0], t: [2, 1] }), /event 1 at t = 1 is earlier than event 0/);
    assert.throws(() => eventStreamFromArrays({ src: [-1], dst: [1], t: [0] }), /node id -1/);
    assert.throws(() => eventStreamFromArrays({ src: [0], dst: [1], t: [NaN] }), /not a finite number/);
    assert.throws(() => eventStreamFromArrays({ src: [0], dst: [1], t: [0], edgeDim: 2, edgeFeatures: [1] }), /numEvents × edgeDim/);
  });
});

describe('chronological split with the inductive protocol', () => {
  it('cuts CollegeMsg at the 70 % and 85 % time quantiles exactly as np.quantile', async () => {
    const stream = await loadCollegeMsg();
    const split = splitEvents(stream, { seed: 0 });
    // np.quantile(ts, [0.70, 0.85]) on events.csv (numpy 1.x/2.x agree): 1085875761.6, 1088755519.3.
    assert.equal(split.valTime, 1085875761.6);
    assert.equal(split.testTime, 1088755519.3);
    // Events with t ≤ valTime: 41,884; val 8,975; test 8,976 (no ties at either cut in this file).
    assert.equal(split.train.length + split.droppedTrainEvents, 41884);
    assert.equal(split.val.length, 8975);
    assert.equal(split.test.length, 8976);
    assert.ok(split.droppedTrainEvents > 0);
    // Chronological: every train event ≤ valTime < every val event ≤ testTime < every test event.
    const { t } = stream;
    assert.ok(t[split.train[split.train.length - 1]] <= split.valTime);
    assert.ok(t[split.val[0]] > split.valTime && t[split.val[split.val.length - 1]] <= split.testTime);
    assert.ok(t[split.test[0]] > split.testTime);
    for (const part of [split.train, split.val, split.test, split.inductiveVal, split.inductiveTest]) {
      for (let i = 1; i < part.length; i++) assert.ok(part[i] > part[i - 1], 'event ids increase (time order)');
    }
    // Val and test keep all their events.
    assert.equal(split.val[0], 41884);
    assert.equal(split.test[0], 41884 + 8975);
  });

  it('holds out 10 % of all nodes from the later events; no training event touches a new node', async () => {
    const stream = await loadCollegeMsg();
    const split = splitEvents(stream, { seed: 7 });
    const { src, dst, t } = stream;
    assert.equal(split.heldOutNodes.length, Math.floor(0.1 * 1899)); // TGN: int(0.1 * n_total_unique_nodes)
    // Held-out nodes come from the events after the validation cut.
    const later = new Set<number>();
    for (let i = 0; i < stream.numEvents; i++) if (t[i] > split.valTime) later.add(src[i]).add(dst[i]);
    for (const node of split.heldOutNodes) assert.ok(later.has(node));

    const inTrain = new Uint8Array(stream.numNodes);
    for (const e of split.train) {
      assert.equal(split.isNewNode[src[e]] + split.isNewNode[dst[e]], 0, `training event ${e} touches a new node`);
      inTrain[src[e]] = inTrain[dst[e]] = 1;
    }
    // newNodes = exactly the nodes without a training event, and includes the held-out ones.
    const expectedNew = [...inTrain.keys()].filter((node) => !inTrain[node]);
    assert.deepEqual([...split.newNodes], expectedNew);
    for (const node of split.heldOutNodes) assert.equal(split.isNewNode[node], 1);
    // Nodes first seen after the validation cut are new too.
    const firstSeen = new Float64Array(stream.numNodes).fill(Infinity);
    for (let i = stream.numEvents - 1; i >= 0; i--) firstSeen[src[i]] = firstSeen[dst[i]] = t[i];
    for (let node = 0; node < stream.numNodes; node++) if (firstSeen[node] > split.valTime) assert.equal(split.isNewNode[node], 1);
    // The inductive sets are the val / test events with at least one new node.
    const touchesNew = (e: number) => split.isNewNode[src[e]] === 1 || split.isNewNode[dst[e]] === 1;
    assert.deepEqual([...split.inductiveTest], [...split.test].filter(touchesNew));
    assert.deepEqual([...split.inductiveVal], [...split.val].filter(touchesNew));
    assert.ok(split.inductiveTest.length > 0 && split.inductiveTest.length < split.test.length);
  });

  it('is deterministic for a seed, and the seed matters', async () => {
    const stream = await loadCollegeMsg();
    const a = splitEvents(stream, { seed: 3 });
    const b = splitEvents(stream, { seed: 3 });
    const c = splitEvents(stream, { seed: 4 });
    assert.deepEqual(a, b);
    assert.notDeepEqual([...a.heldOutNodes], [...c.heldOutNodes]);
  });

  it('puts events tied at a cut into the earlier split, and holds out nothing with newNodeFraction 0', () => {
    // 10 events, times 0,1,2,3,4,5,5,5,5,9: 0.7 quantile at position 6.3 → 5; 0.85 at 7.65 → 5.
    const t = [0, 1, 2, 3, 4, 5, 5, 5, 5, 9];
    const stream = eventStreamFromArrays({ src: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dst: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], t });
    const split = splitEvents(stream, { seed: 1, newNodeFraction: 0 });
    assert.equal(split.valTime, 5);
    assert.equal(split.testTime, 5);
    assert.deepEqual([...split.train], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...split.val], []);
    assert.deepEqual([...split.test], [9]);
    assert.equal(split.heldOutNodes.length, 0);
    assert.deepEqual([...split.newNodes], [10]); // first seen at t = 9
    assert.deepEqual([...split.inductiveTest], [9]);
  });

  it('matches numpy quantile arithmetic and refuses bad fractions', () => {
    assert.equal(quantileOfSorted([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantileOfSorted([10], 0.7), 10);
    const stream = eventStreamFromArrays({ src: [0], dst: [1], t: [0] });
    assert.throws(() => splitEvents(stream, { train: 0 }), /train must be in \(0, 1\)/);
    assert.throws(() => splitEvents(stream, { train: 0.9, val: 0.1 }), /train \+ val < 1/);
    assert.throws(() => splitEvents(stream, { newNodeFraction: 2 }), /newNodeFraction/);
  });
});

describe('firstEvents', () => {
  it('keeps the first N events with their lines and ids, and shrinks the node count to what they use', () => {
    const stream = eventStreamFromArrays({ src: Int32Array.of(0, 1, 2, 5), dst: Int32Array.of(1, 2, 3, 0), t: Float64Array.of(1, 2, 3, 4), edgeDim: 1, edgeFeatures: Float32Array.of(10, 20, 30, 40) });
    const prefix = firstEvents(stream, 2);
    assert.equal(prefix.numEvents, 2);
    assert.equal(prefix.numNodes, 3);
    assert.deepEqual(Array.from(prefix.src), [0, 1]);
    assert.deepEqual(Array.from(prefix.edgeFeatures!), [10, 20]);
    assert.deepEqual(Array.from(prefix.lines), [2, 3]);
    assert.match(describeEvent(prefix, 1), /line 3 \(event 1, 1 → 2 at t = 2\)/);
    assert.equal(firstEvents(stream, 10), stream);
    assert.throws(() => firstEvents(stream, 0), /positive integer, got 0/);
  });
});
