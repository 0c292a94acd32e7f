// GroupTransport: a sub-group of a transport's ranks as a transport of its own (a hybrid pipeline's
// stage replicas, one pipeline among several): ranks are renumbered, the counters are the parent's for
// the members, a failure is the parent's, and a rank that is not a member is refused up front.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allReduceSum } from '../../src/dist/collectives.ts';
import { GroupTransport } from '../../src/dist/group-transport.ts';
import { LocalTransport } from '../../src/dist/local-transport.ts';
import { makeTag, TAG_CHANNEL } from '../../src/dist/transport.ts';

const TAG = makeTag(TAG_CHANNEL.test, 7);

test('a group renumbers ranks, moves messages through the parent and counts them there', async () => {
  const all = LocalTransport.group(4);
  // Members 1 and 3 (group ranks 0 and 1), as the replicas of stage 1 of a 2 × 2 run.
  const [a, b] = [new GroupTransport(all[1], [1, 3]), new GroupTransport(all[3], [1, 3])];
  assert.deepEqual([a.rank, a.size, b.rank, b.size], [0, 2, 1, 2]);
  await a.send(1, TAG, new Float32Array([1, 2, 3]));
  const m = await b.recv(0, TAG, { kind: 'f32', shape: [3] });
  assert.deepEqual([...(m.data as Float32Array)], [1, 2, 3]);
  assert.equal(all[1].stats.bytesSent[3], 12, 'the parent counted the bytes to parent rank 3');
  assert.deepEqual(a.stats.bytesSent, [0, 12], 'the group sees them by group rank');
  // Collectives run inside a group unchanged.
  const [x, y] = await Promise.all([allReduceSum(a, new Float32Array([1, 10]), 1), allReduceSum(b, new Float32Array([2, 20]), 1)]);
  assert.deepEqual([...x, ...y], [3, 30, 3, 30]);
  for (const t of all) await t.close();
});

test('a group refuses non-members and peers outside it, and fails with its parent', async () => {
  const all = LocalTransport.group(3);
  assert.throws(() => new GroupTransport(all[0], [1, 2]), /worker 0 is not among the members \[1,2\]/);
  assert.throws(() => new GroupTransport(all[0], [0, 0]), /must be distinct ranks/);
  assert.throws(() => new GroupTransport(all[0], [0, 5]), /must be distinct ranks in 0..2/);
  const g = new GroupTransport(all[0], [0, 2]);
  assert.throws(() => g.send(2, TAG, new Uint8Array(0)), /group peer must be another rank in 0..1, got 2/);
  const pending = g.recv(1, TAG);
  all[2].abort('rank 2 stopped (test)');
  await assert.rejects(pending, /rank 2 stopped \(test\)/);
  assert.ok(g.failure, 'the group reports its parent failure');
  for (const t of all) await t.close();
});
