import type { NodeDataset } from './node-dataset.ts';
import { AliasSampler, checkCount, checkSeed, shuffledIds } from './sampling.ts';

/**
 * Deterministic synthetic graphs and data for tests and benchmarks. The same seed gives the same
 * output on every run. (Expected degrees use Math.pow, which engines may round differently in the last
 * bit, so two different JS engines could in rare cases disagree on an edge.)
 */

/** Mulberry32: a tiny, fast 32-bit seeded generator; returns uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PowerLawGraphOptions {
  numNodes: number;
  /** Number of edge-list entries (undirected edges, in the sense of edges.csv). */
  numEdges: number;
  /** Exponent γ of the degree distribution P(k) ∝ k^-γ; must be > 1. Default 2.1 (web and social graphs). */
  exponent?: number;
  seed: number;
  /** Allow src === dst. Default false: self loops are redrawn. */
  allowSelfLoops?: boolean;
}

export interface EdgeList {
  src: Int32Array<ArrayBuffer>;
  dst: Int32Array<ArrayBuffer>;
}

/**
 * Chung–Lu graph: both endpoints of every edge are drawn with probability proportional to a node
 * weight w ∝ rank^(-1/(γ-1)), which gives a power-law degree distribution with exponent γ. With the
 * default γ = 2.1 and 1e5 edges the biggest hubs have degrees in the thousands. Node ids are shuffled so
 * hubs are spread over the id range rather than at 0, 1, 2, ... Duplicate edges can occur
 * (buildAdjacency removes them). Alias sampling: O(1) per endpoint.
 */
export function powerLawGraph(options: PowerLawGraphOptions): EdgeList {
  const { numNodes, numEdges, seed } = options;
  const exponent = options.exponent ?? 2.1;
  const allowSelfLoops = options.allowSelfLoops ?? false;
  checkCount('powerLawGraph', 'numNodes', numNodes);
  checkCount('powerLawGraph', 'numEdges', numEdges);
  checkSeed('powerLawGraph', seed);
  if (!(exponent > 1) || !Number.isFinite(exponent)) {
    throw new Error(`powerLawGraph: exponent must be a finite number > 1, got ${exponent}`);
  }
  if (numEdges > 0 && numNodes === 0) throw new Error('powerLawGraph: numEdges > 0 needs numNodes > 0');
  if (numEdges > 0 && numNodes === 1 && !allowSelfLoops) {
    throw new Error('powerLawGraph: a single node has only self loops; pass allowSelfLoops: true');
  }

  const random = mulberry32(seed);
  const weights = new Float64Array(numNodes);
  const decay = -1 / (exponent - 1);
  for (let rank = 0; rank < numNodes; rank++) weights[rank] = Math.pow(rank + 1, decay);
  const ids = shuffledIds(numNodes, random);
  const weightOf = new Float64Array(numNodes);
  for (let rank = 0; rank < numNodes; rank++) weightOf[ids[rank]] = weights[rank];
  // Alias sampling: O(1) per draw with two random numbers (a column, then a coin).
  const table = new AliasSampler(weightOf, ids, 0, numNodes);
  const sample = (): number => table.sample(random);

  const src = new Int32Array(numEdges);
  const dst = new Int32Array(numEdges);
  for (let e = 0; e < numEdges; e++) {
    const s = sample();
    let d = sample();
    while (d === s && !allowSelfLoops) d = sample();
    src[e] = s;
    dst[e] = d;
  }
  return { src, dst };
}

/** Dense row-major numNodes × numFeatures features, uniform in [0, 1). */
export function randomFeatures(numNodes: number, numFeatures: number, seed: number): Float32Array<ArrayBuffer> {
  checkCount('randomFeatures', 'numNodes', numNodes);
  checkCount('randomFeatures', 'numFeatures', numFeatures);
  checkSeed('randomFeatures', seed);
  const random = mulberry32(seed);
  const features = new Float32Array(numNodes * numFeatures);
  for (let i = 0; i < features.length; i++) features[i] = random();
  return features;
}

/** One class per node, uniform in [0, numClasses). */
export function randomLabels(numNodes: number, numClasses: number, seed: number): Int32Array<ArrayBuffer> {
  checkCount('randomLabels', 'numNodes', numNodes);
  checkCount('randomLabels', 'numClasses', numClasses);
  if (numClasses === 0 && numNodes > 0) throw new Error('randomLabels: numClasses must be positive');
  checkSeed('randomLabels', seed);
  const random = mulberry32(seed);
  const labels = new Int32Array(numNodes);
  for (let i = 0; i < numNodes; i++) labels[i] = Math.floor(random() * numClasses);
  return labels;
}

export interface SyntheticNodeDatasetOptions {
  numNodes: number;
  numEdges: number;
  numFeatures: number;
  numClasses: number;
  seed: number;
  exponent?: number;
  /** Fractions of the nodes in train and val (default 0.1 and 0.2); the rest is test. */
  trainFraction?: number;
  valFraction?: number;
}

/**
 * A NodeDataset of the loader's shape with a power-law graph, random features and labels, and a random
 * split: for speed and memory benchmarks (its labels are noise, so accuracy means nothing).
 */
export function syntheticNodeDataset(options: SyntheticNodeDatasetOptions): NodeDataset {
  const { numNodes, numEdges, numFeatures, numClasses, seed } = options;
  const trainFraction = options.trainFraction ?? 0.1;
  const valFraction = options.valFraction ?? 0.2;
  if (!(trainFraction > 0 && valFraction >= 0 && trainFraction + valFraction <= 1)) {
    throw new Error(`syntheticNodeDataset: bad split fractions train ${trainFraction}, val ${valFraction}`);
  }
  // Separate streams per part, so changing one size does not reshuffle the others.
  const { src, dst } = powerLawGraph({ numNodes, numEdges, exponent: options.exponent, seed });
  const features = randomFeatures(numNodes, numFeatures, seed ^ 0x5f3759df);
  const labels = randomLabels(numNodes, numClasses, seed ^ 0x2545f491);
  const order = shuffledIds(numNodes, mulberry32(seed ^ 0x1b873593));
  const numTrain = Math.max(1, Math.floor(numNodes * trainFraction));
  const numVal = Math.min(numNodes - numTrain, Math.floor(numNodes * valFraction));
  const sorted = (ids: Int32Array) => ids.slice().sort();
  return {
    name: `synthetic-${numNodes}-${numEdges}-${seed}`,
    numNodes,
    numFeatures,
    numClasses,
    features,
    labels,
    train: sorted(order.subarray(0, numTrain)),
    val: sorted(order.subarray(numTrain, numTrain + numVal)),
    test: sorted(order.subarray(numTrain + numVal)),
    edgeSrc: src,
    edgeDst: dst,
  };
}
