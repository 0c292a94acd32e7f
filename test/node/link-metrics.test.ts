// Average precision and ROC AUC against values computed by hand (and by scikit-learn for the same input).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision, rocAuc } from '../../src/engines/link-metrics.ts';

test('perfect and inverted rankings', () => {
  assert.equal(averagePrecision({ positive: [0.9, 0.8], negative: [0.1, 0.2] }), 1);
  assert.equal(rocAuc({ positive: [0.9, 0.8], negative: [0.1, 0.2] }), 1);
  assert.equal(rocAuc({ positive: [0.1], negative: [0.9] }), 0);
});

test('a mixed ranking matches scikit-learn', () => {
  // sklearn: y = [1,0,1,1,0,0], s = [0.9,0.8,0.7,0.6,0.5,0.4]: AP = (1/3)(1 + 2/3 + 3/4) = 0.80556, AUC = 7/9.
  const s = { positive: [0.9, 0.7, 0.6], negative: [0.8, 0.5, 0.4] };
  assert.ok(Math.abs(averagePrecision(s) - (1 + 2 / 3 + 3 / 4) / 3) < 1e-12);
  assert.ok(Math.abs(rocAuc(s) - 7 / 9) < 1e-12);
});

test('ties count as one threshold (AP) and one half (AUC)', () => {
  const s = { positive: [0.5, 0.5], negative: [0.5, 0.5] };
  assert.equal(averagePrecision(s), 0.5);
  assert.equal(rocAuc(s), 0.5);
  assert.ok(Number.isNaN(averagePrecision({ positive: [], negative: [1] })));
});
