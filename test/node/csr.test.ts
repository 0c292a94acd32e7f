import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildAdjacency,
  inDegrees,
  normalizedAdjacency,
  outDegrees,
  transposeCsr,
  validateCsr,
} from '../../src/graph/csr.ts';
import type { BuildAdjacencyOptions, Csr, SelfLoopPolicy } from '../../src/graph/csr.ts';
import { mulberry32, powerLawGraph, randomFeatures, randomLabels, syntheticNodeDataset } from '../../src/graph/synthetic.ts';

const ids = (values: number[]) => Int32Array.from(values);

/** Row i's column indices, for readable assertions. */
function rowsOf(csr: Csr): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < csr.numRows; i++) rows.push([...csr.colIdx.subarray(csr.rowPtr[i], csr.rowPtr[i + 1])]);
  return rows;
}

function dense(csr: Csr): number[][] {
  const matrix = Array.from({ length: csr.numRows }, () => new Array<number>(csr.numCols).fill(0));
  for (let i = 0; i < csr.numRows; i++) {
    for (let k = csr.rowPtr[i]; k < csr.rowPtr[i + 1]; k++) matrix[i][csr.colIdx[k]] = csr.values ? csr.values[k] : 1;
  }
  return matrix;
}

/** Set-based reference for buildAdjacency. */
function referenceRows(numNodes: number, src: Int32Array, dst: Int32Array, options: BuildAdjacencyOptions): number[][] {
  const sets = Array.from({ length: numNodes }, () => new Set<number>());
  for (let e = 0; e < src.length; e++) {
    if (src[e] === dst[e] && options.selfLoops !== 'keep') continue;
    sets[dst[e]].add(src[e]);
    if (options.undirected) sets[src[e]].add(dst[e]);
  }
  if (options.selfLoops === 'add') sets.forEach((set, i) => set.add(i));
  return sets.map((set) => [...set].sort((a, b) => a - b));
}

function randomEdges(numNodes: number, numEdges: number, seed: number) {
  const random = mulberry32(seed);
  const src = new Int32Array(numEdges);
  const dst = new Int32Array(numEdges);
  for (let e = 0; e < numEdges; e++) {
    src[e] = Math.floor(random() * numNodes);
    dst[e] = Math.floor(random() * numNodes);
  }
  return { src, dst };
}

// 0 → 1 twice, 1 → 2, a self loop on 2, node 3 isolated.
const SRC = ids([0, 1, 2, 0]);
const DST = ids([1, 2, 2, 1]);

describe('buildAdjacency', () => {
  it('stores edges at row = destination, column = source, deduplicated', () => {
    const csr = buildAdjacency(4, SRC, DST, { undirected: false, selfLoops: 'keep' });
    assert.deepEqual(rowsOf(csr), [[], [0], [1, 2], []]);
    assert.deepEqual([...csr.rowPtr], [0, 0, 1, 3, 3]);
    assert.equal(csr.values, null);
    validateCsr(csr);
  });

  it('removes self loops', () => {
    const csr = buildAdjacency(4, SRC, DST, { undirected: false, selfLoops: 'remove' });
    assert.deepEqual(rowsOf(csr), [[], [0], [1], []]);
  });

  it('adds exactly one self loop per node, isolated nodes included', () => {
    const csr = buildAdjacency(4, SRC, DST, { undirected: false, selfLoops: 'add' });
    assert.deepEqual(rowsOf(csr), [[0], [0, 1], [1, 2], [3]]);
  });

  it('stores both directions when undirected', () => {
    const csr = buildAdjacency(4, SRC, DST, { undirected: true, selfLoops: 'keep' });
    assert.deepEqual(rowsOf(csr), [[1], [0, 2], [1, 2], []]);
  });

  it('handles no nodes and no edges', () => {
    const empty = buildAdjacency(0, ids([]), ids([]), { undirected: true, selfLoops: 'add' });
    assert.deepEqual([...empty.rowPtr], [0]);
    const isolated = buildAdjacency(3, ids([]), ids([]), { undirected: true, selfLoops: 'remove' });
    assert.deepEqual(rowsOf(isolated), [[], [], []]);
  });

  it('matches a set-based reference on random multigraphs for every option', () => {
    const { src, dst } = randomEdges(30, 200, 7);
    for (const undirected of [false, true]) {
      for (const selfLoops of ['add', 'keep', 'remove'] as SelfLoopPolicy[]) {
        const options = { undirected, selfLoops };
        assert.deepEqual(rowsOf(buildAdjacency(30, src, dst, options)), referenceRows(30, src, dst, options));
      }
    }
  });

  it('rejects bad ids and arguments, naming them', () => {
    const options: BuildAdjacencyOptions = { undirected: false, selfLoops: 'keep' };
    assert.throws(() => buildAdjacency(3, ids([0, 3]), ids([1, 1]), options), /src\[1\] = 3 is out of range \[0, 3\)/);
    assert.throws(() => buildAdjacency(3, ids([0]), ids([-1]), options), /dst\[0\] = -1 is out of range \[0, 3\)/);
    assert.throws(() => buildAdjacency(3, ids([0, 1]), ids([1]), options), /src has 2 entries but dst has 1/);
    assert.throws(() => buildAdjacency(2.5, ids([]), ids([]), options), /numNodes must be a non-negative 32-bit integer/);
    assert.throws(
      () => buildAdjacency(3, ids([]), ids([]), { undirected: false, selfLoops: 'twice' as SelfLoopPolicy }),
      /selfLoops must be/,
    );
  });
});

describe('transposeCsr', () => {
  it('equals the brute-force transpose, values included, and is an involution', () => {
    const { src, dst } = randomEdges(25, 120, 11);
    const csr = normalizedAdjacency(buildAdjacency(25, src, dst, { undirected: false, selfLoops: 'keep' }), 'gcn');
    const transposed = transposeCsr(csr);
    validateCsr(transposed);
    const a = dense(csr);
    assert.deepEqual(
      dense(transposed),
      a.map((row, i) => row.map((_, j) => a[j][i])),
    );
    for (let i = 0; i < transposed.numRows; i++) {
      const row = rowsOf(transposed)[i];
      assert.deepEqual(row, [...row].sort((x, y) => x - y));
    }
    const back = transposeCsr(transposed);
    assert.deepEqual([...back.rowPtr], [...csr.rowPtr]);
    assert.deepEqual([...back.colIdx], [...csr.colIdx]);
    assert.deepEqual([...back.values!], [...csr.values!]);
  });

  it('transposes a rectangular matrix and keeps null values null', () => {
    const csr: Csr = { numRows: 2, numCols: 3, rowPtr: ids([0, 2, 3]), colIdx: ids([0, 2, 2]), values: null };
    const transposed = transposeCsr(csr);
    assert.equal(transposed.numRows, 3);
    assert.equal(transposed.numCols, 2);
    assert.deepEqual(rowsOf(transposed), [[0], [], [0, 1]]);
    assert.equal(transposed.values, null);
  });

  it('rejects a malformed structure', () => {
    const bad: Csr = { numRows: 2, numCols: 2, rowPtr: ids([0, 1, 2]), colIdx: ids([0, 2]), values: null };
    assert.throws(() => transposeCsr(bad), /transposeCsr: colIdx\[1\] = 2 is out of range \[0, 2\)/);
    const short: Csr = { numRows: 2, numCols: 2, rowPtr: ids([0, 1]), colIdx: ids([0]), values: null };
    assert.throws(() => transposeCsr(short), /rowPtr has 2 entries, expected numRows \+ 1 = 3/);
  });
});

describe('degrees and normalisation', () => {
  // Undirected path 0 - 1 - 2 with self loops: deg = [2, 3, 2].
  const path = buildAdjacency(3, ids([0, 1]), ids([1, 2]), { undirected: true, selfLoops: 'add' });

  it('counts in- and out-degrees', () => {
    assert.deepEqual([...inDegrees(path)], [2, 3, 2]);
    const directed = buildAdjacency(4, SRC, DST, { undirected: false, selfLoops: 'keep' });
    assert.deepEqual([...inDegrees(directed)], [0, 1, 2, 0]);
    assert.deepEqual([...outDegrees(directed)], [1, 1, 1, 0]);
  });

  it('sum: every weight is 1, structure shared', () => {
    const sum = normalizedAdjacency(path, 'sum');
    assert.deepEqual([...sum.values!], new Array(7).fill(1));
    assert.equal(sum.rowPtr, path.rowPtr);
    assert.equal(sum.colIdx, path.colIdx);
  });

  it('mean: 1/deg(i), empty rows stay empty', () => {
    const f = Math.fround;
    assert.deepEqual([...normalizedAdjacency(path, 'mean').values!], [0.5, 0.5, f(1 / 3), f(1 / 3), f(1 / 3), 0.5, 0.5]);
    const directed = normalizedAdjacency(buildAdjacency(4, SRC, DST, { undirected: false, selfLoops: 'keep' }), 'mean');
    assert.deepEqual(dense(directed), [
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 0.5, 0.5, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('gcn: 1/sqrt(deg(i)·deg(j))', () => {
    const f = Math.fround;
    const s6 = f(1 / Math.sqrt(6));
    assert.deepEqual(dense(normalizedAdjacency(path, 'gcn')), [
      [0.5, s6, 0],
      [s6, f(1 / 3), s6],
      [0, s6, 0.5],
    ]);
  });

  it('gcn: a source with no row entries of its own gets weight 0', () => {
    // 0 → 1 only: row 0 is empty, so deg(0) = 0.
    const csr = normalizedAdjacency(buildAdjacency(2, ids([0]), ids([1]), { undirected: false, selfLoops: 'keep' }), 'gcn');
    assert.deepEqual([...csr.values!], [0]);
  });

  it('rejects unknown kinds and non-square gcn', () => {
    assert.throws(() => normalizedAdjacency(path, 'max' as 'sum'), /kind must be 'sum', 'mean' or 'gcn'/);
    const wide: Csr = { numRows: 1, numCols: 2, rowPtr: ids([0, 1]), colIdx: ids([1]), values: null };
    assert.throws(() => normalizedAdjacency(wide, 'gcn'), /square/);
  });
});

describe('synthetic data', () => {
  it('power-law graphs are deterministic for a seed', () => {
    const a = powerLawGraph({ numNodes: 1000, numEdges: 5000, seed: 42 });
    const b = powerLawGraph({ numNodes: 1000, numEdges: 5000, seed: 42 });
    const c = powerLawGraph({ numNodes: 1000, numEdges: 5000, seed: 43 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.src, c.src);
    for (let e = 0; e < a.src.length; e++) {
      assert.notEqual(a.src[e], a.dst[e]);
      assert.ok(a.src[e] >= 0 && a.src[e] < 1000 && a.dst[e] >= 0 && a.dst[e] < 1000);
    }
  });

  it('power-law graphs have a heavy tail: hubs with degrees in the thousands', () => {
    const numNodes = 100_000;
    const { src, dst } = powerLawGraph({ numNodes, numEdges: 200_000, seed: 1 });
    const degrees = inDegrees(buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'remove' }));
    const sorted = Int32Array.from(degrees).sort().reverse();
    const mean = degrees.reduce((s, d) => s + d, 0) / numNodes;
    assert.ok(sorted[0] >= 2000, `max degree ${sorted[0]}`);
    assert.ok(sorted[4] >= 1000, `5th degree ${sorted[4]}`);
    assert.ok(sorted[0] > 200 * mean, `max ${sorted[0]} vs mean ${mean}`);
    // Most nodes are far below the mean: the median is small.
    assert.ok(sorted[numNodes >> 1] <= mean, `median ${sorted[numNodes >> 1]} vs mean ${mean}`);
  });

  it('features, labels and a synthetic dataset are deterministic and in range', () => {
    assert.deepEqual(randomFeatures(10, 4, 3), randomFeatures(10, 4, 3));
    const labels = randomLabels(1000, 5, 9);
    assert.deepEqual(labels, randomLabels(1000, 5, 9));
    assert.deepEqual(new Set(labels), new Set([0, 1, 2, 3, 4]));
    const data = syntheticNodeDataset({ numNodes: 200, numEdges: 800, numFeatures: 8, numClasses: 3, seed: 5 });
    assert.equal(data.features.length, 200 * 8);
    assert.equal(data.train.length + data.val.length + data.test.length, 200);
    assert.equal(new Set([...data.train, ...data.val, ...data.test]).size, 200);
    assert.deepEqual(data, syntheticNodeDataset({ numNodes: 200, numEdges: 800, numFeatures: 8, numClasses: 3, seed: 5 }));
  });
});
