// A workload's graph as the cost model sees it: sizes and a degree distribution, from a dataset at
// hand (measured) or from a description (a preset with published sizes, or numbers on the command line).

import type { EventStream } from '../graph/event-stream.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import { buildAdjacency } from '../graph/csr.ts';
import { ProfileError } from './device-profile.ts';

/** Degrees: measured on the graph, or a power law with exponent γ (P(d) ∝ d^−γ) scaled to the mean degree. */
export type DegreeModel = { kind: 'measured'; degrees: Int32Array } | { kind: 'power-law'; exponent: number } | { kind: 'uniform' };

export interface GraphWorkload {
  name: string;
  nodes: number;
  /** Non-zeros of the symmetric adjacency without self loops (each undirected edge twice). */
  nnz: number;
  features: number;
  classes: number;
  degrees: DegreeModel;
  /** Where the sizes come from (a citation, 'measured on …', or 'given'). */
  source: string;
  /** The graph itself when it is at hand (the edge cut is then measured by partitioning it). */
  dataset?: NodeDataset;
  /** Fraction of edges cut by a good partition into N parts, when published or assumed (see edge-cut.ts). */
  edgeCut?: { fraction: (workers: number) => number; source: string };
}

export interface EventWorkload {
  name: string;
  nodes: number;
  events: number;
  /** Features per event (0 when the stream has none). */
  edgeFeatures: number;
  source: string;
  /** Events in the training split, when the stream is at hand (else the plan takes a fraction). */
  trainEvents?: number;
  /** Mean distinct nodes in the training batches of `events` events, when the stream is at hand. */
  uniqueNodesPerBatch?: (events: number) => number;
}

/** The stream and its split as the engine will have them: sizes measured, batches' distinct nodes counted. */
export function eventWorkloadOf(stream: EventStream, split: TemporalSplit): EventWorkload {
  const train = split.train;
  const cache = new Map<number, number>();
  return {
    name: stream.name,
    nodes: stream.numNodes,
    events: stream.numEvents,
    edgeFeatures: stream.edgeDim,
    source: `measured on ${stream.name} (${stream.numEvents} events, ${train.length} in training)`,
    trainEvents: train.length,
    uniqueNodesPerBatch(events: number): number {
      const known = cache.get(events);
      if (known !== undefined) return known;
      const seen = new Int32Array(stream.numNodes).fill(-1);
      let total = 0;
      let batches = 0;
      for (let start = 0; start < train.length; start += events, batches++) {
        for (let q = start; q < Math.min(train.length, start + events); q++) {
          for (const v of [stream.src[train[q]], stream.dst[train[q]]]) {
            if (seen[v] !== batches) {
              seen[v] = batches;
              total++;
            }
          }
        }
      }
      const mean = batches ? total / batches : 0;
      cache.set(events, mean);
      return mean;
    },
  };
}

export function graphWorkloadOf(dataset: NodeDataset): GraphWorkload {
  const adjacency = buildAdjacency(dataset.numNodes, dataset.edgeSrc, dataset.edgeDst, { undirected: true, selfLoops: 'remove' });
  const degrees = new Int32Array(dataset.numNodes);
  for (let i = 0; i < dataset.numNodes; i++) degrees[i] = adjacency.rowPtr[i + 1] - adjacency.rowPtr[i];
  return {
    name: dataset.name,
    nodes: dataset.numNodes,
    nnz: adjacency.rowPtr[dataset.numNodes],
    features: dataset.numFeatures,
    classes: dataset.numClasses,
    degrees: { kind: 'measured', degrees },
    source: `measured on ${dataset.name}`,
    dataset,
  };
}

/**
 * A degree sample standing for the distribution: `count` equally likely degrees (quantile midpoints),
 * their mean the graph's nnz/nodes, none above nodes − 1.
 */
export function degreeSample(w: GraphWorkload, count = 2000): Float64Array {
  const mean = w.nnz / w.nodes;
  const out = new Float64Array(count);
  if (w.degrees.kind === 'measured') {
    const sorted = Float64Array.from(w.degrees.degrees).sort();
    for (let i = 0; i < count; i++) out[i] = sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / count) * sorted.length))];
    return out;
  }
  if (w.degrees.kind === 'uniform') return out.fill(mean);
  const a = 1 / (w.degrees.exponent - 1);
  for (let i = 0; i < count; i++) out[i] = Math.pow(1 - (i + 0.5) / count, -a);
  // Scale to the mean, capping at n − 1 and rescaling the rest until the mean holds.
  const cap = w.nodes - 1;
  for (let iter = 0; iter < 20; iter++) {
    let sum = 0;
    for (const d of out) sum += d;
    const f = (mean * count) / sum;
    if (Math.abs(f - 1) < 1e-9) break;
    for (let i = 0; i < count; i++) out[i] = Math.min(cap, out[i] * f);
  }
  return out;
}

/** A graph described by numbers (command line or a workload file); every field is checked, naming it. */
export function describedGraph(fields: Record<string, unknown>, where: string): GraphWorkload {
  const num = (key: string, min: number): number => {
    const v = fields[key];
    if (v === undefined || v === null) throw new ProfileError(`${where}: missing field '${key}'`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ProfileError(`${where}: field '${key}' must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const nodes = num('nodes', 1);
  const edges = num('edges', 0);
  const exponent = fields.degree_exponent === undefined ? undefined : num('degree_exponent', 1.01);
  const cut = fields.edge_cut === undefined ? undefined : num('edge_cut', 0);
  if (cut !== undefined && cut > 1) throw new ProfileError(`${where}: field 'edge_cut' is a fraction of edges, at most 1, got ${cut}`);
  return {
    name: typeof fields.name === 'string' ? fields.name : 'described graph',
    nodes,
    nnz: 2 * edges,
    features: num('features', 1),
    classes: num('classes', 1),
    degrees: exponent === undefined ? { kind: 'uniform' } : { kind: 'power-law', exponent },
    source: `given in ${where}`,
    edgeCut: cut === undefined ? undefined : { fraction: (n) => (n === 1 ? 0 : cut), source: `given in ${where}` },
  };
}
