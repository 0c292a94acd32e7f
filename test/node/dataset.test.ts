import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNumericCsv } from '../../src/graph/csv.ts';
import { DatasetError } from '../../src/graph/dataset-error.ts';
import { loadNodeDataset } from '../../src/graph/node-dataset.ts';
import type { DatasetSource } from '../../src/graph/node-dataset.ts';
import { embeddedDatasetDir, folderSource, resolveDatasetSource } from '../../src/node/dataset-source.ts';

// A tiny valid dataset; every bad-input test changes one file. Line numbers of meta.json:
// 1 {, 2 name, 3 num_nodes, 4 num_features, 5 num_classes, 6 train, 7 val, 8 test, 9 }.
interface Meta {
  name?: unknown;
  num_nodes?: unknown;
  num_features?: unknown;
  num_classes?: unknown;
  train?: unknown;
  val?: unknown;
  test?: unknown;
  [key: string]: unknown;
}
const META: Meta = { name: 'tiny', num_nodes: 4, num_features: 3, num_classes: 2, train: [0, 1], val: [2], test: [3] };

function metaText(meta: Meta): string {
  const lines = Object.entries(meta).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

const FILES: Record<string, string> = {
  'meta.json': metaText(META),
  // A duplicate edge and a self loop: both allowed in the file.
  'edges.csv': 'src,dst\n0,1\n1,2\n2,3\n3,3\n0,1\n',
  // Node 3 has no features: its row stays zero.
  'features.csv': 'node,feature,value\n0,0,1\n0,2,3\n1,1,2\n2,0,0.5\n',
  'labels.csv': 'node,label\n0,0\n1,1\n2,0\n3,1\n',
};

function memorySource(overrides: Record<string, string | null> = {}): DatasetSource {
  const files: Record<string, string | null> = { ...FILES, ...overrides };
  return {
    name: 'memory',
    readText: async (file) => files[file] ?? null,
  };
}

function withMeta(changes: Meta): Record<string, string> {
  return { 'meta.json': metaText({ ...META, ...changes }) };
}

async function expectDatasetError(
  overrides: Record<string, string | null>,
  file: string,
  line: number | null,
  message: RegExp,
): Promise<void> {
  await assert.rejects(loadNodeDataset(memorySource(overrides)), (error: unknown) => {
    assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
    assert.equal(error.file, file, error.message);
    assert.equal(error.line, line, error.message);
    assert.match(error.message, message);
    assert.ok(error.message.startsWith(line === null ? `${file}: ` : `${file} line ${line}: `), error.message);
    return true;
  });
}

describe('embedded Cora', () => {
  it('loads with the published sizes and split', async () => {
    const cora = await loadNodeDataset(resolveDatasetSource('cora'));
    assert.equal(cora.name, 'cora');
    assert.equal(cora.numNodes, 2708);
    assert.equal(cora.numFeatures, 1433);
    assert.equal(cora.numClasses, 7);
    assert.equal(cora.features.length, 2708 * 1433);
    assert.deepEqual([cora.train.length, cora.val.length, cora.test.length], [140, 500, 1000]);
    assert.equal(cora.edgeSrc.length, 5278);
    assert.equal(cora.edgeDst.length, 5278);
    assert.equal(cora.labels.length, 2708);
    for (const label of cora.labels) assert.ok(label >= 0 && label < 7);
    for (const node of cora.train) assert.ok(cora.labels[node] >= 0);
  });

  it('row-normalises the features (rows sum to 1, 49,216 non-zeros kept)', async () => {
    const cora = await loadNodeDataset(resolveDatasetSource('cora'));
    let nonZeros = 0;
    for (let node = 0; node < cora.numNodes; node++) {
      let sum = 0;
      for (let f = 0; f < cora.numFeatures; f++) {
        const value = cora.features[node * cora.numFeatures + f];
        sum += value;
        if (value !== 0) nonZeros++;
      }
      assert.ok(sum === 0 || Math.abs(sum - 1) < 1e-5, `row ${node} sums to ${sum}`);
    }
    assert.equal(nonZeros, 49216);
  });

  it('keeps raw values when rowNormalize is false', async () => {
    const cora = await loadNodeDataset(resolveDatasetSource('cora'), { rowNormalize: false });
    for (const value of cora.features) assert.ok(value === 0 || value === 1);
  });
});

describe('dataset sources', () => {
  it('resolves a folder path and the embedded name to the same files', async () => {
    const byPath = resolveDatasetSource(embeddedDatasetDir('cora'));
    assert.equal(byPath.name, 'cora');
    assert.equal(await byPath.readText('labels.csv'), await resolveDatasetSource('cora').readText('labels.csv'));
  });

  it('reads a missing file as null', async () => {
    assert.equal(await folderSource(embeddedDatasetDir('cora')).readText('nope.csv'), null);
  });

  it('rejects a name that is neither embedded nor a folder', () => {
    assert.throws(() => resolveDatasetSource('no-such-dataset'), /dataset "no-such-dataset" not found.*cora/);
    assert.throws(() => resolveDatasetSource(join('no', 'such', 'dir')), /not found/);
  });
});

describe('loadNodeDataset on a valid tiny dataset', () => {
  it('returns the files as typed arrays', async () => {
    const data = await loadNodeDataset(memorySource(), { rowNormalize: false });
    assert.deepEqual([data.numNodes, data.numFeatures, data.numClasses], [4, 3, 2]);
    assert.deepEqual([...data.features], [1, 0, 3, 0, 2, 0, 0.5, 0, 0, 0, 0, 0]);
    assert.deepEqual([...data.labels], [0, 1, 0, 1]);
    assert.deepEqual([...data.train], [0, 1]);
    assert.deepEqual([...data.val], [2]);
    assert.deepEqual([...data.test], [3]);
    assert.deepEqual([...data.edgeSrc], [0, 1, 2, 3, 0]);
    assert.deepEqual([...data.edgeDst], [1, 2, 3, 3, 1]);
  });

  it('row-normalises by default and leaves zero rows at zero', async () => {
    const data = await loadNodeDataset(memorySource());
    assert.deepEqual([...data.features], [0.25, 0, 0.75, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('tolerates \\r\\n, a byte-order mark, spaces around fields and blank lines', async () => {
    const data = await loadNodeDataset(
      memorySource({
        'edges.csv': '\ufeffsrc, dst\r\n0, 1\r\n\r\n 1 ,2\r\n',
        'labels.csv': 'node,label\n0,0\n1,1\n\n2,0\n3,1',
      }),
    );
    assert.deepEqual([...data.edgeSrc], [0, 1]);
    assert.deepEqual([...data.edgeDst], [1, 2]);
    assert.deepEqual([...data.labels], [0, 1, 0, 1]);
  });

  it('treats nodes without a label row as unlabelled', async () => {
    const data = await loadNodeDataset(
      memorySource({ ...withMeta({ test: [] }), 'labels.csv': 'node,label\n0,0\n1,1\n2,0\n' }),
    );
    assert.deepEqual([...data.labels], [0, 1, 0, -1]);
  });
});

describe('loadNodeDataset rejects bad input with file, line and problem', () => {
  it('a missing file', async () => {
    for (const file of ['meta.json', 'edges.csv', 'features.csv', 'labels.csv']) {
      await expectDatasetError({ [file]: null }, file, null, /file is missing from dataset "memory"/);
    }
  });

  it('meta.json that is not JSON', async () => {
    await expectDatasetError({ 'meta.json': '{\n  "name": "tiny",\n}\n' }, 'meta.json', 3, /not valid JSON/);
    await expectDatasetError({ 'meta.json': '[1, 2]' }, 'meta.json', 1, /must be a JSON object/);
  });

  it('meta.json with a missing field', async () => {
    const { num_classes: _, ...meta } = META;
    await expectDatasetError({ 'meta.json': metaText(meta) }, 'meta.json', null, /missing field "num_classes"/);
  });

  it('meta.json with an invalid field', async () => {
    await expectDatasetError(withMeta({ name: '' }), 'meta.json', 2, /"name" must be a non-empty string/);
    await expectDatasetError(withMeta({ num_nodes: -4 }), 'meta.json', 3, /"num_nodes" must be a positive integer, found -4/);
    await expectDatasetError(withMeta({ num_features: 2.5 }), 'meta.json', 4, /"num_features" must be a positive integer/);
    await expectDatasetError(withMeta({ num_classes: '2' }), 'meta.json', 5, /"num_classes" must be a positive integer/);
    await expectDatasetError(withMeta({ train: 'all' }), 'meta.json', 6, /"train" must be an array of node ids/);
    await expectDatasetError(withMeta({ val: [2, 'x'] }), 'meta.json', 7, /val\[1\] = "x" is not an integer node id/);
  });

  it('a wrong or missing CSV header', async () => {
    await expectDatasetError(
      { 'edges.csv': 'source,target\n0,1\n' },
      'edges.csv',
      1,
      /expected header "src,dst", found "source,target"/,
    );
    await expectDatasetError({ 'features.csv': '0,0,1\n' }, 'features.csv', 1, /expected header "node,feature,value"/);
    await expectDatasetError({ 'labels.csv': '' }, 'labels.csv', 1, /the file is empty; expected header "node,label"/);
  });

  it('a line with the wrong number of columns', async () => {
    await expectDatasetError({ 'edges.csv': 'src,dst\n0,1\n0,1,2\n' }, 'edges.csv', 3, /expected 2 columns \(src,dst\), found 3/);
    await expectDatasetError({ 'edges.csv': 'src,dst\n0\n' }, 'edges.csv', 2, /expected 2 columns \(src,dst\), found 1/);
  });

  it('non-numeric values', async () => {
    const bad = (field: string) => ({ 'features.csv': `node,feature,value\n0,0,1\n0,${field},1\n` });
    await expectDatasetError(bad('abc'), 'features.csv', 3, /column "feature": "abc" is not a number/);
    await expectDatasetError(bad('1x'), 'features.csv', 3, /column "feature": "1x" is not a number/);
    await expectDatasetError(bad('0x1'), 'features.csv', 3, /column "feature": "0x1" is not a number/);
    await expectDatasetError(bad(''), 'features.csv', 3, /column "feature" is empty/);
    await expectDatasetError(bad('1.5'), 'features.csv', 3, /column "feature": "1.5" is not an integer/);
    await expectDatasetError(bad('3000000000'), 'features.csv', 3, /"3000000000" is outside the 32-bit integer range/);
  });

  it('NaN and Infinity', async () => {
    const bad = (value: string) => ({ 'features.csv': `node,feature,value\n0,0,1\n\n1,1,${value}\n` });
    // Line 4: the blank line 3 still counts.
    await expectDatasetError(bad('NaN'), 'features.csv', 4, /column "value": "NaN" is not a finite number/);
    await expectDatasetError(bad('-Infinity'), 'features.csv', 4, /"-Infinity" is not a finite number/);
    await expectDatasetError(bad('1e999'), 'features.csv', 4, /"1e999" overflows to infinity/);
  });

  it('node ids out of range', async () => {
    await expectDatasetError({ 'edges.csv': 'src,dst\n0,1\n1,4\n' }, 'edges.csv', 3, /dst node id 4 out of range \[0, 4\)/);
    await expectDatasetError({ 'edges.csv': 'src,dst\n-1,1\n' }, 'edges.csv', 2, /src node id -1 out of range \[0, 4\)/);
    await expectDatasetError({ 'labels.csv': 'node,label\n7,0\n' }, 'labels.csv', 2, /node id 7 out of range \[0, 4\)/);
    await expectDatasetError({ 'features.csv': 'node,feature,value\n4,0,1\n' }, 'features.csv', 2, /node id 4 out of range/);
  });

  it('feature index out of range', async () => {
    await expectDatasetError(
      { 'features.csv': 'node,feature,value\n0,0,1\n0,3,1\n' },
      'features.csv',
      3,
      /feature index 3 out of range \[0, 3\)/,
    );
  });

  it('duplicate feature entries for one (node, feature)', async () => {
    await expectDatasetError(
      { 'features.csv': 'node,feature,value\n0,1,1\n2,2,0\n0,1,5\n' },
      'features.csv',
      4,
      /node 0 feature 1 appears twice \(first on line 2\)/,
    );
  });

  it('labels out of range [-1, num_classes)', async () => {
    await expectDatasetError({ 'labels.csv': 'node,label\n0,0\n1,2\n' }, 'labels.csv', 3, /label 2 out of range \[-1, 2\)/);
    await expectDatasetError({ 'labels.csv': 'node,label\n0,-2\n' }, 'labels.csv', 2, /label -2 out of range \[-1, 2\)/);
  });

  it('duplicate label rows for a node', async () => {
    await expectDatasetError(
      { 'labels.csv': 'node,label\n0,0\n1,1\n2,0\n3,1\n1,1\n' },
      'labels.csv',
      6,
      /node 1 has a second label row \(first on line 3\)/,
    );
  });

  it('overlapping splits', async () => {
    await expectDatasetError(withMeta({ val: [2, 1] }), 'meta.json', 7, /node 1 is in both train and val/);
    await expectDatasetError(withMeta({ test: [3, 0] }), 'meta.json', 8, /node 0 is in both train and test/);
    await expectDatasetError(withMeta({ train: [0, 1, 0] }), 'meta.json', 6, /node 0 appears twice in train/);
  });

  it('split node ids out of range', async () => {
    await expectDatasetError(withMeta({ test: [3, 4] }), 'meta.json', 8, /test\[1\] = node id 4 out of range \[0, 4\)/);
    await expectDatasetError(withMeta({ train: [-1] }), 'meta.json', 6, /train\[0\] = node id -1 out of range/);
  });

  it('a split node without a label', async () => {
    await expectDatasetError(
      { 'labels.csv': 'node,label\n0,0\n1,1\n2,0\n3,-1\n' },
      'meta.json',
      8,
      /test node 3 has no label/,
    );
    await expectDatasetError({ 'labels.csv': 'node,label\n0,0\n2,0\n3,1\n' }, 'meta.json', 6, /train node 1 has no label/);
  });

  it('an empty train split', async () => {
    await expectDatasetError(withMeta({ train: [] }), 'meta.json', 6, /the train split is empty/);
  });

  it('an edge count that disagrees with num_undirected_edges', async () => {
    await expectDatasetError(
      withMeta({ num_undirected_edges: 4 }),
      'edges.csv',
      null,
      /has 5 edge lines, but meta.json says num_undirected_edges = 4/,
    );
  });
});

describe('parseNumericCsv', () => {
  // Cora's features.csv is ~49k lines. What is checked is every value of every line, not the time taken
  // (a wall-clock bound says more about the machine's load than about the parser).
  it('parses 60k lines, every value in place', () => {
    const lines = ['node,feature,value'];
    for (let i = 0; i < 60_000; i++) lines.push(`${i},${i % 1433},${(i % 7) / 8}`);
    const table = parseNumericCsv('big.csv', lines.join('\n'), [
      { name: 'node', kind: 'int' },
      { name: 'feature', kind: 'int' },
      { name: 'value', kind: 'float' },
    ]);
    assert.equal(table.numRows, 60_000);
    const [node, feature, value] = [table.intColumn('node'), table.intColumn('feature'), table.floatColumn('value')];
    let wrong = 0;
    for (let i = 0; i < 60_000; i++) {
      if (node[i] !== i || feature[i] !== i % 1433 || value[i] !== (i % 7) / 8 || table.lines[i] !== i + 2) wrong++;
    }
    assert.equal(wrong, 0, 'rows whose values or line number are not those written');
  });

  it('accepts integers written as decimals and signed or exponent forms', () => {
    const table = parseNumericCsv('t.csv', 'a,b\n+3,-.5\n3.0,1e-3\n1e3,-0\n', [
      { name: 'a', kind: 'int' },
      { name: 'b', kind: 'float' },
    ]);
    assert.deepEqual([...table.intColumn('a')], [3, 3, 1000]);
    assert.deepEqual([...table.floatColumn('b')], [-0.5, 0.001, -0]);
    assert.throws(() => table.floatColumn('a'), /column "a" is int, not float/);
  });
});
