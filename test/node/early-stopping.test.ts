// Early stopping: the best epoch, patience, and the state a checkpoint carries across a resume.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EarlyStopping } from '../../src/engines/early-stopping.ts';

interface Scored {
  epoch: number;
  valAp: number;
}
const byAp = (a: Scored, b: Scored) => a.valAp > b.valAp;

test('early stopping keeps the best epoch and stops after `patience` epochs without a better one', () => {
  const s = new EarlyStopping<Scored>(2, byAp);
  assert.equal(s.update({ epoch: 1, valAp: 0.6 }), false);
  assert.equal(s.update({ epoch: 2, valAp: 0.7 }), false);
  assert.equal(s.update({ epoch: 3, valAp: 0.65 }), false);
  assert.equal(s.update({ epoch: 4, valAp: 0.7 }), true, 'a tie is not better');
  assert.deepEqual(s.best, { epoch: 2, valAp: 0.7 });
  const never = new EarlyStopping<Scored>(0, byAp);
  for (let e = 1; e <= 20; e++) assert.equal(never.update({ epoch: e, valAp: 0.5 }), false);
});

test('a resumed run counts on from the saved best epoch, as one uninterrupted run would', () => {
  const epochs = [0.6, 0.8, 0.7, 0.75, 0.79, 0.5].map((valAp, i) => ({ epoch: i + 1, valAp }));
  const whole = new EarlyStopping<Scored>(3, byAp);
  const wholeStops = epochs.map((m) => whole.update(m));

  const first = new EarlyStopping<Scored>(3, byAp);
  const before = epochs.slice(0, 3).map((m) => first.update(m));
  // What a checkpoint file holds is JSON.
  const extra = JSON.parse(JSON.stringify({ earlyStopping: first.saved })) as Record<string, unknown>;
  const resumed = new EarlyStopping<Scored>(3, byAp);
  resumed.restoreFrom(extra);
  const after = epochs.slice(3).map((m) => resumed.update(m));
  assert.deepEqual([...before, ...after], wholeStops);
  assert.deepEqual(resumed.best, whole.best);
  assert.equal(resumed.best?.epoch, 2);
});

test('a checkpoint without early-stopping state starts afresh; a malformed one is refused', () => {
  const s = new EarlyStopping<Scored>(3, byAp);
  s.restoreFrom(undefined);
  s.restoreFrom({ memoryTime: [] });
  assert.equal(s.best, null);
  for (const bad of [null, 7, { best: null }, { best: null, sinceBest: -1 }, { best: null, sinceBest: 1.5 }, { best: 'x', sinceBest: 0 }, { best: { valAp: 1 }, sinceBest: 0 }]) {
    assert.throws(() => s.restoreFrom({ earlyStopping: bad }), /early-stopping state is malformed/, JSON.stringify(bad));
  }
});
