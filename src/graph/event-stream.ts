import { parseNumericCsv } from './csv.ts';
import type { ColumnSpec, NumericTable } from './csv.ts';
import { DatasetError } from './dataset-error.ts';
import { lineOfKey, parseJsonObject } from './json-meta.ts';
import type { DatasetSource } from './node-dataset.ts';

/**
 * Loader and validator for temporal event streams (continuous-time dynamic graphs), the documented
 * import format for temporal models (TGN):
 *
 * | file | content |
 * | --- | --- |
 * | `events.csv` | header `src,dst,t[,label][,f0,f1,…]`; one event a line: integer node ids ≥ 0, a finite time `t`, an optional per-event `label`, and any further columns as edge features (names free, unique) |
 * | `meta.json` | optional: `name`; when present, `num_events`, `num_nodes` (distinct ids), `node_id_base` (smallest allowed id), `edge_features` (feature count) and `kind` (`"temporal-events"`) are checked |
 *
 * Node ids: by default (`nodeIds: 'remap'`) they are renumbered 0..n−1 in order of first appearance in
 * time order (the source of an event before its destination), because node memory is a dense
 * N × d table and files often use 1-based or sparse ids. `originalIds[node]` gives the id in the file.
 * With the order of first appearance, the nodes seen up to any event are exactly 0..k−1, which the
 * negative sampler uses for "nodes seen so far". `nodeIds: 'keep'` keeps the file's ids
 * (numNodes = max id + 1; ids never used have no events).
 *
 * Time order: events must be in non-decreasing `t`. Unsorted files are sorted stably (equal times keep
 * file order) and the stream says so (`sortedOnLoad`), or refused with `unsorted: 'refuse'`; never used
 * silently out of order. Times stay float64: unix seconds (~1.1e9 for CollegeMsg) lose ~100 s of
 * resolution in float32, so take Δt in float64 or subtract a time origin before converting.
 *
 * Every problem is a DatasetError naming the file, the line where there is one, and what is wrong.
 */

export interface EventStream {
  name: string;
  numNodes: number;
  numEvents: number;
  /** Event i goes from src[i] to dst[i] at time t[i]; events are in non-decreasing t. */
  src: Int32Array<ArrayBuffer>;
  dst: Int32Array<ArrayBuffer>;
  t: Float64Array<ArrayBuffer>;
  /** Per-event label (the `label` column), or null when the file has none. */
  label: Float32Array<ArrayBuffer> | null;
  /** Row-major numEvents × edgeDim, or null when edgeDim is 0. */
  edgeFeatures: Float32Array<ArrayBuffer> | null;
  edgeDim: number;
  /** Header names of the edge-feature columns. */
  edgeFeatureNames: string[];
  /** How node ids were assigned ('remap': 0..n−1 by first appearance; 'keep': as in the file). */
  nodeIds: NodeIdMode;
  /** The file's id of each node (identity under 'keep'). */
  originalIds: Int32Array<ArrayBuffer>;
  /** True when the file was not in time order and the loader sorted it (stably). */
  sortedOnLoad: boolean;
  /** The file and 1-based line each event came from, to name an event in later errors. */
  file: string;
  lines: Int32Array<ArrayBuffer>;
}

export type NodeIdMode = 'remap' | 'keep';

export interface LoadEventStreamOptions {
  /** What to do with events not in time order: sort them stably (default) or refuse the file. */
  unsorted?: 'sort' | 'refuse';
  /** 'remap' (default): ids 0..n−1 by first appearance; 'keep': the file's ids. */
  nodeIds?: NodeIdMode;
  /** The events file inside the source; default `events.csv`. meta.json is read only with the default name. */
  eventsFile?: string;
  /** Largest node count accepted (node memory is numNodes × d); default 2^24. */
  maxNodes?: number;
}

export const EVENT_STREAM_FILES = {
  events: 'events.csv',
  meta: 'meta.json',
} as const;

/** The value of meta.json's optional `kind`. */
export const EVENT_STREAM_KIND = 'temporal-events';

const DEFAULT_MAX_NODES = 2 ** 24;
const REQUIRED_COLUMNS = ['src', 'dst', 't'] as const;
const LABEL_COLUMN = 'label';
const FLOAT32_MAX = 3.4028234663852886e38;
const BYTE_ORDER_MARK = 0xfeff;

interface Meta {
  text: string;
  name: string | null;
  numEvents: number | null;
  numNodes: number | null;
  nodeIdBase: number | null;
  edgeFeatures: number | null;
}

export async function loadEventStream(source: DatasetSource, options: LoadEventStreamOptions = {}): Promise<EventStream> {
  const file = options.eventsFile ?? EVENT_STREAM_FILES.events;
  const unsorted = options.unsorted ?? 'sort';
  const nodeIds = options.nodeIds ?? 'remap';
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (unsorted !== 'sort' && unsorted !== 'refuse') throw new Error(`loadEventStream: unsorted must be 'sort' or 'refuse', got ${String(unsorted)}`);
  if (nodeIds !== 'remap' && nodeIds !== 'keep') throw new Error(`loadEventStream: nodeIds must be 'remap' or 'keep', got ${String(nodeIds)}`);
  if (!Number.isSafeInteger(maxNodes) || maxNodes < 1) throw new Error(`loadEventStream: maxNodes must be a positive integer, got ${maxNodes}`);

  const readsMeta = file === EVENT_STREAM_FILES.events;
  const [eventsText, metaText] = await Promise.all([
    source.readText(file),
    readsMeta ? source.readText(EVENT_STREAM_FILES.meta) : Promise.resolve(null),
  ]);
  if (eventsText === null) throw new DatasetError(file, null, `file is missing from dataset "${source.name}"`);
  const meta = metaText === null ? null : parseMeta(metaText);

  const columns = parseHeader(file, eventsText);
  const table = parseNumericCsv(file, eventsText, columns.specs);
  if (table.numRows === 0) throw new DatasetError(file, null, 'has a header but no events');
  const rawSrc = table.intColumn('src');
  const rawDst = table.intColumn('dst');
  const rawT = table.floatColumn('t');
  checkIds(table, rawSrc, rawDst, meta?.nodeIdBase ?? null);

  const order = timeOrder(table, rawT, unsorted);
  const sortedOnLoad = order !== null;
  const numEvents = table.numRows;
  const pick = <T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(column: T): T => {
    if (order === null) return column;
    const out = new (column.constructor as new (n: number) => T)(numEvents);
    for (let i = 0; i < numEvents; i++) out[i] = column[order[i]];
    return out;
  };
  const fileSrc = pick(rawSrc);
  const fileDst = pick(rawDst);
  const t = pick(rawT);
  const lines = pick(table.lines);

  const ids = assignNodeIds(file, fileSrc, fileDst, lines, nodeIds, maxNodes);
  const label = columns.hasLabel ? toFloat32(table, LABEL_COLUMN, order) : null;
  const edgeDim = columns.featureNames.length;
  const edgeFeatures = edgeDim > 0 ? featureMatrix(table, columns.featureNames, order) : null;

  if (meta !== null) checkAgainstMeta(meta, file, numEvents, ids.numDistinct, edgeDim);
  return {
    name: meta?.name ?? source.name,
    numNodes: ids.numNodes,
    numEvents,
    src: ids.src,
    dst: ids.dst,
    t,
    label,
    edgeFeatures,
    edgeDim,
    edgeFeatureNames: columns.featureNames,
    nodeIds,
    originalIds: ids.originalIds,
    sortedOnLoad,
    file,
    lines,
  };
}

export interface EventArrays {
  name?: string;
  /** Default: max id + 1. */
  numNodes?: number;
  src: ArrayLike<number>;
  dst: ArrayLike<number>;
  t: ArrayLike<number>;
  label?: ArrayLike<number> | null;
  /** Row-major numEvents × edgeDim. */
  edgeFeatures?: ArrayLike<number> | null;
  edgeDim?: number;
}

/**
 * An EventStream from arrays already in memory (tests, synthetic streams): ids are kept as given and
 * must be in [0, numNodes); times must be finite and non-decreasing (this does not sort).
 */
export function eventStreamFromArrays(arrays: EventArrays): EventStream {
  const numEvents = arrays.src.length;
  const where = 'eventStreamFromArrays';
  if (arrays.dst.length !== numEvents || arrays.t.length !== numEvents) {
    throw new Error(`${where}: src, dst and t must have the same length, got ${numEvents}, ${arrays.dst.length}, ${arrays.t.length}`);
  }
  let maxId = -1;
  for (let i = 0; i < numEvents; i++) {
    for (const id of [arrays.src[i], arrays.dst[i]]) {
      if (!Number.isInteger(id) || id < 0 || id > 2 ** 31 - 1) throw new Error(`${where}: event ${i} has node id ${id}, not an integer in [0, 2^31)`);
      if (id > maxId) maxId = id;
    }
    const time = arrays.t[i];
    if (!Number.isFinite(time)) throw new Error(`${where}: event ${i} has time ${time}, not a finite number`);
    if (i > 0 && time < arrays.t[i - 1]) throw new Error(`${where}: event ${i} at t = ${time} is earlier than event ${i - 1} at t = ${arrays.t[i - 1]}; sort the events by time first`);
  }
  const numNodes = arrays.numNodes ?? maxId + 1;
  if (!Number.isSafeInteger(numNodes) || numNodes < 0 || maxId >= numNodes) {
    throw new Error(`${where}: numNodes = ${numNodes} does not cover node id ${maxId}`);
  }
  const edgeDim = arrays.edgeDim ?? 0;
  const features = arrays.edgeFeatures ?? null;
  if ((features === null) !== (edgeDim === 0) || (features !== null && features.length !== numEvents * edgeDim)) {
    throw new Error(`${where}: edgeFeatures must hold numEvents × edgeDim = ${numEvents} × ${edgeDim} values, got ${features?.length ?? 'none'}`);
  }
  if (arrays.label != null && arrays.label.length !== numEvents) {
    throw new Error(`${where}: label must have one value per event (${numEvents}), got ${arrays.label.length}`);
  }
  const originalIds = new Int32Array(numNodes);
  for (let node = 0; node < numNodes; node++) originalIds[node] = node;
  const lines = new Int32Array(numEvents);
  for (let i = 0; i < numEvents; i++) lines[i] = i + 2; // as if written to a CSV with a header
  return {
    name: arrays.name ?? 'events',
    numNodes,
    numEvents,
    src: Int32Array.from(arrays.src),
    dst: Int32Array.from(arrays.dst),
    t: Float64Array.from(arrays.t),
    label: arrays.label == null ? null : Float32Array.from(arrays.label),
    edgeFeatures: features === null ? null : Float32Array.from(features),
    edgeDim,
    edgeFeatureNames: Array.from({ length: edgeDim }, (_, i) => `f${i}`),
    nodeIds: 'keep',
    originalIds,
    sortedOnLoad: false,
    file: '(arrays)',
    lines,
  };
}

/** `events.csv line 17 (event 15)`: how errors elsewhere (memory updates, samplers) name an event. */
export function describeEvent(stream: EventStream, event: number): string {
  return `${stream.file} line ${stream.lines[event]} (event ${event}, ${stream.originalIds[stream.src[event]]} → ${stream.originalIds[stream.dst[event]]} at t = ${stream.t[event]})`;
}

// ---------------------------------------------------------------- header

interface Columns {
  specs: ColumnSpec[];
  hasLabel: boolean;
  featureNames: string[];
}

/** The header names the columns: `src,dst,t`, then optionally `label`, then edge features. */
function parseHeader(file: string, text: string): Columns {
  const start = text.charCodeAt(0) === BYTE_ORDER_MARK ? 1 : 0;
  let end = text.indexOf('\n', start);
  if (end === -1) end = text.length;
  const header = text.slice(start, end).replace(/\r$/, '');
  const expected = `a header row starting with "${REQUIRED_COLUMNS.join(',')}" (then optionally "label", then edge features)`;
  if (header.trim() === '') {
    const empty = text.slice(start).trim() === '';
    throw new DatasetError(file, 1, empty ? `the file is empty; expected ${expected}` : `the first line is empty; expected ${expected}`);
  }
  const names = header.split(',').map((name) => name.trim());
  const missing = REQUIRED_COLUMNS.filter((name, i) => names[i] !== name);
  if (missing.length > 0) {
    const looksLikeData = names.every((name) => name !== '' && !Number.isNaN(Number(name)));
    const hint = looksLikeData ? ' (the header row seems to be missing)' : '';
    throw new DatasetError(file, 1, `expected ${expected}, found "${header}"${hint}`);
  }
  const hasLabel = names[3] === LABEL_COLUMN;
  const featureNames = names.slice(hasLabel ? 4 : 3);
  const seen = new Set<string>(names.slice(0, hasLabel ? 4 : 3));
  featureNames.forEach((name, i) => {
    const column = (hasLabel ? 5 : 4) + i;
    if (name === '') throw new DatasetError(file, 1, `column ${column} of the header has no name`);
    if (name === LABEL_COLUMN) throw new DatasetError(file, 1, `column "label" must come right after "t" (column 4), found it in column ${column}`);
    if (seen.has(name)) throw new DatasetError(file, 1, `column "${name}" appears twice in the header`);
    seen.add(name);
  });
  const specs: ColumnSpec[] = [
    { name: 'src', kind: 'int' },
    { name: 'dst', kind: 'int' },
    { name: 't', kind: 'float' },
  ];
  if (hasLabel) specs.push({ name: LABEL_COLUMN, kind: 'float' });
  for (const name of featureNames) specs.push({ name, kind: 'float' });
  return { specs, hasLabel, featureNames };
}

// ---------------------------------------------------------------- rows

/** Ids are ≥ 0, and ≥ meta.json's node_id_base when it gives one. */
function checkIds(table: NumericTable, src: Int32Array, dst: Int32Array, base: number | null): void {
  const smallest = base ?? 0;
  for (let row = 0; row < table.numRows; row++) {
    if (src[row] >= smallest && dst[row] >= smallest) continue;
    const [column, id] = src[row] < smallest ? ['src', src[row]] : ['dst', dst[row]];
    const problem = id < 0 ? `${column} node id ${id} is negative` : `${column} node id ${id} is below node_id_base = ${base} given in meta.json`;
    throw new DatasetError(table.file, table.lines[row], problem);
  }
}

/** null when already in time order; else the stable sorting permutation (or a refusal). */
function timeOrder(table: NumericTable, t: Float64Array, unsorted: 'sort' | 'refuse'): Int32Array | null {
  let firstDecrease = -1;
  for (let i = 1; i < t.length; i++) {
    if (t[i] < t[i - 1]) {
      firstDecrease = i;
      break;
    }
  }
  if (firstDecrease < 0) return null;
  if (unsorted === 'refuse') {
    const i = firstDecrease;
    throw new DatasetError(
      table.file,
      table.lines[i],
      `t = ${t[i]} is earlier than t = ${t[i - 1]} on line ${table.lines[i - 1]}: events must be in non-decreasing time order ` +
        `(load with unsorted: 'sort' to sort them stably)`,
    );
  }
  const order = new Int32Array(t.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // The row tie-break makes the sort stable whatever the engine's sort does.
  order.sort((a, b) => t[a] - t[b] || a - b);
  return order;
}

interface NodeIds {
  src: Int32Array<ArrayBuffer>;
  dst: Int32Array<ArrayBuffer>;
  numNodes: number;
  numDistinct: number;
  originalIds: Int32Array<ArrayBuffer>;
}

function assignNodeIds(
  file: string,
  src: Int32Array<ArrayBuffer>,
  dst: Int32Array<ArrayBuffer>,
  lines: Int32Array,
  mode: NodeIdMode,
  maxNodes: number,
): NodeIds {
  const numEvents = src.length;
  if (mode === 'keep') {
    let maxId = -1;
    let maxAt = 0;
    for (let i = 0; i < numEvents; i++) {
      const larger = Math.max(src[i], dst[i]);
      if (larger > maxId) {
        maxId = larger;
        maxAt = i;
      }
    }
    if (maxId + 1 > maxNodes) {
      const column = src[maxAt] === maxId ? 'src' : 'dst';
      throw new DatasetError(
        file,
        lines[maxAt],
        `${column} node id ${maxId} is too large: with ids kept as given the graph would have ${maxId + 1} nodes, ` +
          `more than maxNodes = ${maxNodes} (load with nodeIds: 'remap', or raise maxNodes)`,
      );
    }
    const used = new Uint8Array(maxId + 1);
    let numDistinct = 0;
    for (let i = 0; i < numEvents; i++) {
      if (!used[src[i]]) (used[src[i]] = 1), numDistinct++;
      if (!used[dst[i]]) (used[dst[i]] = 1), numDistinct++;
    }
    const originalIds = new Int32Array(maxId + 1);
    for (let node = 0; node <= maxId; node++) originalIds[node] = node;
    return { src, dst, numNodes: maxId + 1, numDistinct, originalIds };
  }

  const idOf = new Map<number, number>();
  const original: number[] = [];
  const newSrc = new Int32Array(numEvents);
  const newDst = new Int32Array(numEvents);
  const remap = (id: number, i: number, column: string): number => {
    let node = idOf.get(id);
    if (node === undefined) {
      node = original.length;
      if (node >= maxNodes) throw new DatasetError(file, lines[i], `${column} node id ${id} is node number ${node + 1}, more than maxNodes = ${maxNodes}`);
      idOf.set(id, node);
      original.push(id);
    }
    return node;
  };
  for (let i = 0; i < numEvents; i++) {
    newSrc[i] = remap(src[i], i, 'src');
    newDst[i] = remap(dst[i], i, 'dst');
  }
  return { src: newSrc, dst: newDst, numNodes: original.length, numDistinct: original.length, originalIds: Int32Array.from(original) };
}

function toFloat32(table: NumericTable, column: string, order: Int32Array | null): Float32Array<ArrayBuffer> {
  const values = table.floatColumn(column);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const row = order === null ? i : order[i];
    out[i] = checkedFloat32(table, row, column, values[row]);
  }
  return out;
}

function featureMatrix(table: NumericTable, names: string[], order: Int32Array | null): Float32Array<ArrayBuffer> {
  const dim = names.length;
  const out = new Float32Array(table.numRows * dim);
  names.forEach((name, f) => {
    const values = table.floatColumn(name);
    for (let i = 0; i < table.numRows; i++) {
      const row = order === null ? i : order[i];
      out[i * dim + f] = checkedFloat32(table, row, name, values[row]);
    }
  });
  return out;
}

function checkedFloat32(table: NumericTable, row: number, column: string, value: number): number {
  if (Math.abs(value) > FLOAT32_MAX) {
    throw new DatasetError(table.file, table.lines[row], `column "${column}": ${value} overflows a 32-bit float`);
  }
  return value;
}

// ---------------------------------------------------------------- meta.json

function parseMeta(text: string): Meta {
  const file = EVENT_STREAM_FILES.meta;
  const record = parseJsonObject(file, text);
  const fieldError = (key: string, problem: string) => new DatasetError(file, lineOfKey(text, key), problem);
  const optionalCount = (key: string, min: number): number | null => {
    if (!(key in record)) return null;
    const value = record[key];
    if (!Number.isSafeInteger(value) || (value as number) < min) {
      throw fieldError(key, `field "${key}" must be an integer ≥ ${min}, found ${JSON.stringify(value)}`);
    }
    return value as number;
  };

  let name: string | null = null;
  if ('name' in record) {
    if (typeof record.name !== 'string' || record.name.trim() === '') {
      throw fieldError('name', `field "name" must be a non-empty string, found ${JSON.stringify(record.name)}`);
    }
    name = record.name;
  }
  if ('kind' in record && record.kind !== EVENT_STREAM_KIND) {
    throw fieldError('kind', `field "kind" is ${JSON.stringify(record.kind)}: this is not an event stream (expected "${EVENT_STREAM_KIND}")`);
  }
  return {
    text,
    name,
    numEvents: optionalCount('num_events', 1),
    numNodes: optionalCount('num_nodes', 1),
    nodeIdBase: optionalCount('node_id_base', 0),
    edgeFeatures: optionalCount('edge_features', 0),
  };
}

function checkAgainstMeta(meta: Meta, file: string, numEvents: number, numDistinct: number, edgeDim: number): void {
  const metaFile = EVENT_STREAM_FILES.meta;
  const disagree = (key: string, value: number, found: string) =>
    new DatasetError(metaFile, lineOfKey(meta.text, key), `${key} = ${value}, but ${file} has ${found}`);
  if (meta.numEvents !== null && meta.numEvents !== numEvents) throw disagree('num_events', meta.numEvents, `${numEvents} events`);
  if (meta.numNodes !== null && meta.numNodes !== numDistinct) throw disagree('num_nodes', meta.numNodes, `${numDistinct} distinct node ids`);
  if (meta.edgeFeatures !== null && meta.edgeFeatures !== edgeDim) {
    throw disagree('edge_features', meta.edgeFeatures, `${edgeDim} edge-feature columns`);
  }
}

