import { parseNumericCsv } from './csv.ts';
import type { NumericTable } from './csv.ts';
import { DatasetError } from './dataset-error.ts';
import { lineOfKey, parseJsonObject } from './json-meta.ts';

/**
 * Loader and validator for node-classification folders (the documented import format):
 *
 * | file | content |
 * | --- | --- |
 * | `meta.json` | `name`, `num_nodes`, `num_features`, `num_classes`, `train` / `val` / `test` node-id lists; optional `num_undirected_edges` (checked when present) |
 * | `edges.csv` | header `src,dst`; one undirected edge a line, 0-based node ids; self loops and duplicates allowed |
 * | `features.csv` | header `node,feature,value`; the non-zero entries of the feature matrix, each (node, feature) at most once |
 * | `labels.csv` | header `node,label`; at most one row per node; label in [-1, num_classes), -1 = unlabelled; nodes without a row are unlabelled |
 *
 * Every problem is a DatasetError naming the file, the line where there is one, and what is wrong.
 */

/** Where a dataset's files come from: a folder on disk in Node, fetch() or IndexedDB in the browser, strings in tests. */
export interface DatasetSource {
  readonly name: string;
  /** The file's text, or null when the file does not exist. */
  readText(file: string): Promise<string | null>;
}

export interface NodeDataset {
  name: string;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  /** Dense row-major numNodes × numFeatures; row-normalised unless asked not to (rows summing to 0 are left as they are). */
  features: Float32Array<ArrayBuffer>;
  /** Class per node, -1 = unlabelled. */
  labels: Int32Array<ArrayBuffer>;
  train: Int32Array<ArrayBuffer>;
  val: Int32Array<ArrayBuffer>;
  test: Int32Array<ArrayBuffer>;
  /** As in the file: one entry per line, i.e. per undirected edge; may hold self loops and duplicates. */
  edgeSrc: Int32Array<ArrayBuffer>;
  edgeDst: Int32Array<ArrayBuffer>;
}

export interface LoadNodeDatasetOptions {
  /** Divide each feature row by its sum, as the GCN/GAT references do. Default true. */
  rowNormalize?: boolean;
}

export const NODE_DATASET_FILES = {
  meta: 'meta.json',
  edges: 'edges.csv',
  features: 'features.csv',
  labels: 'labels.csv',
} as const;

/** Dense features are one Float32Array; keep it within what every JS engine can allocate. */
const MAX_DENSE_FEATURE_VALUES = 2 ** 31 - 1;

const SPLIT_NAMES = ['train', 'val', 'test'] as const;
type SplitName = (typeof SPLIT_NAMES)[number];

interface Meta {
  text: string;
  name: string;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  numUndirectedEdges: number | null;
  splits: Record<SplitName, Int32Array<ArrayBuffer>>;
}

export async function loadNodeDataset(source: DatasetSource, options: LoadNodeDatasetOptions = {}): Promise<NodeDataset> {
  const files = NODE_DATASET_FILES;
  const [metaText, edgesText, featuresText, labelsText] = await Promise.all(
    [files.meta, files.edges, files.features, files.labels].map((file) => source.readText(file)),
  );
  const meta = parseMeta(requireFile(source, files.meta, metaText));
  const labels = parseLabels(requireFile(source, files.labels, labelsText), meta);
  checkSplitsAreLabelled(meta, labels);
  const features = parseFeatures(requireFile(source, files.features, featuresText), meta);
  if (options.rowNormalize ?? true) rowNormalize(features, meta.numNodes, meta.numFeatures);
  const edges = parseEdges(requireFile(source, files.edges, edgesText), meta);

  return {
    name: meta.name,
    numNodes: meta.numNodes,
    numFeatures: meta.numFeatures,
    numClasses: meta.numClasses,
    features,
    labels,
    train: meta.splits.train,
    val: meta.splits.val,
    test: meta.splits.test,
    edgeSrc: edges.src,
    edgeDst: edges.dst,
  };
}

function requireFile(source: DatasetSource, file: string, text: string | null): string {
  if (text === null) throw new DatasetError(file, null, `file is missing from dataset "${source.name}"`);
  return text;
}

// ---------------------------------------------------------------- meta.json

function parseMeta(text: string): Meta {
  const file = NODE_DATASET_FILES.meta;
  const record = parseJsonObject(file, text);
  if (record.kind === 'temporal-events') {
    throw new DatasetError(file, lineOfKey(text, 'kind'), 'this is a temporal event stream (events.csv), not a node-classification dataset: train it with `webgnn train-temporal`');
  }
  const fieldError = (key: string, problem: string) => new DatasetError(file, lineOfKey(text, key), problem);
  const field = (key: string): unknown => {
    if (!(key in record)) throw new DatasetError(file, null, `missing field "${key}"`);
    return record[key];
  };
  const positiveInt = (key: string): number => {
    const value = field(key);
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      throw fieldError(key, `field "${key}" must be a positive integer, found ${JSON.stringify(value)}`);
    }
    return value as number;
  };

  const name = field('name');
  if (typeof name !== 'string' || name.trim() === '') {
    throw fieldError('name', `field "name" must be a non-empty string, found ${JSON.stringify(name)}`);
  }
  const numNodes = positiveInt('num_nodes');
  const numFeatures = positiveInt('num_features');
  const numClasses = positiveInt('num_classes');
  if (numNodes * numFeatures > MAX_DENSE_FEATURE_VALUES) {
    throw fieldError(
      'num_features',
      `dense features of ${numNodes} × ${numFeatures} values exceed the limit of ${MAX_DENSE_FEATURE_VALUES}`,
    );
  }

  let numUndirectedEdges: number | null = null;
  if ('num_undirected_edges' in record) {
    const value = record.num_undirected_edges;
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw fieldError(
        'num_undirected_edges',
        `field "num_undirected_edges" must be a non-negative integer, found ${JSON.stringify(value)}`,
      );
    }
    numUndirectedEdges = value as number;
  }

  // Which split each node is in so far (0 = none), to name both sides of an overlap.
  const splitOf = new Int8Array(numNodes);
  const splits = {} as Record<SplitName, Int32Array<ArrayBuffer>>;
  SPLIT_NAMES.forEach((split, splitIndex) => {
    const value = field(split);
    if (!Array.isArray(value)) {
      throw fieldError(split, `field "${split}" must be an array of node ids, found ${JSON.stringify(value)}`);
    }
    const ids = new Int32Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const id: unknown = value[i];
      if (!Number.isInteger(id)) {
        throw fieldError(split, `${split}[${i}] = ${JSON.stringify(id)} is not an integer node id`);
      }
      const node = id as number;
      if (node < 0 || node >= numNodes) {
        throw fieldError(split, `${split}[${i}] = node id ${node} out of range [0, ${numNodes})`);
      }
      const previous = splitOf[node];
      if (previous === splitIndex + 1) throw fieldError(split, `node ${node} appears twice in ${split}`);
      if (previous !== 0) {
        throw fieldError(split, `node ${node} is in both ${SPLIT_NAMES[previous - 1]} and ${split}`);
      }
      splitOf[node] = splitIndex + 1;
      ids[i] = node;
    }
    splits[split] = ids;
  });
  if (splits.train.length === 0) throw fieldError('train', 'the train split is empty');

  return { text, name, numNodes, numFeatures, numClasses, numUndirectedEdges, splits };
}


// ---------------------------------------------------------------- labels.csv

function parseLabels(text: string, meta: Meta): Int32Array<ArrayBuffer> {
  const table = parseNumericCsv(NODE_DATASET_FILES.labels, text, [
    { name: 'node', kind: 'int' },
    { name: 'label', kind: 'int' },
  ]);
  const nodes = table.intColumn('node');
  const classes = table.intColumn('label');
  const labels = new Int32Array(meta.numNodes).fill(-1);
  const lineOfLabel = new Int32Array(meta.numNodes); // 0 = no row yet
  for (let row = 0; row < table.numRows; row++) {
    const node = nodes[row];
    const label = classes[row];
    checkNodeId(table, row, 'node', node, meta.numNodes);
    if (label < -1 || label >= meta.numClasses) {
      throw rowError(table, row, `label ${label} out of range [-1, ${meta.numClasses})`);
    }
    if (lineOfLabel[node] !== 0) {
      throw rowError(table, row, `node ${node} has a second label row (first on line ${lineOfLabel[node]})`);
    }
    lineOfLabel[node] = table.lines[row];
    labels[node] = label;
  }
  return labels;
}

function checkSplitsAreLabelled(meta: Meta, labels: Int32Array): void {
  for (const split of SPLIT_NAMES) {
    for (const node of meta.splits[split]) {
      if (labels[node] === -1) {
        throw new DatasetError(
          NODE_DATASET_FILES.meta,
          lineOfKey(meta.text, split),
          `${split} node ${node} has no label (labels.csv gives -1 or has no row for it)`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------- features.csv

function parseFeatures(text: string, meta: Meta): Float32Array<ArrayBuffer> {
  const { numNodes, numFeatures } = meta;
  const table = parseNumericCsv(NODE_DATASET_FILES.features, text, [
    { name: 'node', kind: 'int' },
    { name: 'feature', kind: 'int' },
    { name: 'value', kind: 'float' },
  ]);
  const nodes = table.intColumn('node');
  const featureIds = table.intColumn('feature');
  const values = table.floatColumn('value');
  const features = new Float32Array(numNodes * numFeatures);
  // One bit per matrix cell: an explicit 0 still counts as an entry for the duplicate check.
  const seen = new Uint8Array(Math.ceil((numNodes * numFeatures) / 8));
  for (let row = 0; row < table.numRows; row++) {
    const node = nodes[row];
    const feature = featureIds[row];
    checkNodeId(table, row, 'node', node, numNodes);
    if (feature < 0 || feature >= numFeatures) {
      throw rowError(table, row, `feature index ${feature} out of range [0, ${numFeatures})`);
    }
    const cell = node * numFeatures + feature;
    const byte = Math.floor(cell / 8);
    const bit = 1 << cell % 8;
    if (seen[byte] & bit) {
      const first = nodes.findIndex((n, r) => n === node && featureIds[r] === feature);
      throw rowError(table, row, `node ${node} feature ${feature} appears twice (first on line ${table.lines[first]})`);
    }
    seen[byte] |= bit;
    features[cell] = values[row];
  }
  return features;
}

/** Divides each row by its sum; rows summing to 0 (all zero, or cancelling) are left unchanged. */
function rowNormalize(features: Float32Array, numNodes: number, numFeatures: number): void {
  for (let node = 0; node < numNodes; node++) {
    const start = node * numFeatures;
    const end = start + numFeatures;
    let sum = 0;
    for (let i = start; i < end; i++) sum += features[i];
    if (sum === 0) continue;
    for (let i = start; i < end; i++) features[i] = features[i] / sum;
  }
}

// ---------------------------------------------------------------- edges.csv

function parseEdges(text: string, meta: Meta): { src: Int32Array<ArrayBuffer>; dst: Int32Array<ArrayBuffer> } {
  const table = parseNumericCsv(NODE_DATASET_FILES.edges, text, [
    { name: 'src', kind: 'int' },
    { name: 'dst', kind: 'int' },
  ]);
  const src = table.intColumn('src');
  const dst = table.intColumn('dst');
  for (let row = 0; row < table.numRows; row++) {
    checkNodeId(table, row, 'src', src[row], meta.numNodes);
    checkNodeId(table, row, 'dst', dst[row], meta.numNodes);
  }
  if (meta.numUndirectedEdges !== null && meta.numUndirectedEdges !== table.numRows) {
    throw new DatasetError(
      NODE_DATASET_FILES.edges,
      null,
      `has ${table.numRows} edge lines, but meta.json says num_undirected_edges = ${meta.numUndirectedEdges}`,
    );
  }
  return { src, dst };
}

// ---------------------------------------------------------------- shared

function rowError(table: NumericTable, row: number, problem: string): DatasetError {
  return new DatasetError(table.file, table.lines[row], problem);
}

function checkNodeId(table: NumericTable, row: number, column: string, node: number, numNodes: number): void {
  if (node < 0 || node >= numNodes) {
    const prefix = column === 'node' ? '' : `${column} `;
    throw rowError(table, row, `${prefix}node id ${node} out of range [0, ${numNodes})`);
  }
}
