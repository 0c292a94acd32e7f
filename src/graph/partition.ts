import { checkSeed, shuffledIds } from './sampling.ts';
import { coarsenGraph, inducedSubgraph, weightedGraphFromCsr } from './coarsen.ts';
import type { WeightedGraph } from './coarsen.ts';
import { buildAdjacency, transposeCsr, validateCsr } from './csr.ts';
import type { Csr } from './csr.ts';
import { GainHeap, rebalance, refineBisection, refineKWayFM, refinePairs, weightedCut } from './refine.ts';
import { mulberry32 } from './synthetic.ts';

/**
 * METIS-style multilevel graph partitioning (Karypis & Kumar 1998), giving each worker of the
 * distributed engine one part:
 * 1. coarsen: heavy-edge matching and contraction (coarsen.ts) down to about 20·parts nodes;
 * 2. initial partition of the coarsest graph: recursive bisection, each bisection the best of several
 *    greedy graph-growing tries refined by Fiduccia–Mattheyses;
 * 3. uncoarsen: project the parts level by level, rebalancing and refining at each (refine.ts);
 * 4. a final rebalance so the node counts meet the bounds exactly.
 * Deterministic for a given seed (one mulberry32 stream drives every random choice).
 */

export interface PartitionOptions {
  parts: number;
  /** Seed of every random choice; default 0. */
  seed?: number;
  /**
   * Allowed node-count imbalance, default 0.05: every part gets between floor(n/parts · (1 − imbalance))
   * and ceil(n/parts · (1 + imbalance)) nodes, and at least one node.
   */
  imbalance?: number;
}

export interface Partition {
  parts: number;
  /** Part of each node, Int32Array of length n. */
  assignment: Int32Array<ArrayBuffer>;
}

export interface PartSizeBounds {
  min: number;
  max: number;
}

const DEFAULT_IMBALANCE = 0.05;

/** Greedy-growing tries per bisection of the coarsest graph; fewer when that graph is large. */
const BISECTION_TRIES = 8;

/** Levels up to this many nodes also get pairwise FM refinement (see refineLevel). */
const PAIRWISE_MAX_NODES = 10_000;

/**
 * Node-count bounds for each part. The minimum is raised to 1 so no worker is left without nodes
 * (feasible because parts <= n).
 */
export function partSizeBounds(numNodes: number, parts: number, imbalance = DEFAULT_IMBALANCE): PartSizeBounds {
  const ideal = numNodes / parts;
  return {
    min: Math.max(numNodes > 0 ? 1 : 0, Math.floor(ideal * (1 - imbalance))),
    max: Math.ceil(ideal * (1 + imbalance)),
  };
}

/**
 * Multilevel partition of an undirected graph given as a symmetric Csr (rows and cols = nodes; self
 * loops ignored; values ignored, every edge weight 1 at the finest level).
 */
export function partitionGraph(adjacency: Csr, options: PartitionOptions): Partition {
  const { parts, seed, imbalance } = checkOptions('partitionGraph', options);
  validateCsr(adjacency, 'partitionGraph');
  if (adjacency.numRows !== adjacency.numCols) {
    throw new Error(`partitionGraph: adjacency must be square, got ${adjacency.numRows} × ${adjacency.numCols}`);
  }
  const n = adjacency.numRows;
  if (parts === 1) return { parts, assignment: new Int32Array(n) };
  if (parts > n) throw new Error(`partitionGraph: parts (${parts}) must not exceed the number of nodes (${n})`);
  checkSymmetric(adjacency, 'partitionGraph');

  const bounds = partSizeBounds(n, parts, imbalance);
  const random = mulberry32(seed);
  const finest = weightedGraphFromCsr(adjacency);
  const levels = coarsenGraph(finest, { coarsenTo: Math.max(20 * parts, 40), random });
  const graphAt = (level: number): WeightedGraph => (level < 0 ? finest : levels[level].graph);

  let where = initialPartition(graphAt(levels.length - 1), parts, imbalance, random);
  refineLevel(graphAt(levels.length - 1), where, parts, bounds, random);
  for (let level = levels.length - 1; level >= 0; level--) {
    const { coarseOf } = levels[level];
    const finer = graphAt(level - 1);
    const projected = new Int32Array(finer.numNodes);
    for (let u = 0; u < finer.numNodes; u++) projected[u] = where[coarseOf[u]];
    where = projected;
    refineLevel(finer, where, parts, bounds, random);
  }
  if (!rebalance(finest, where, parts, bounds.min, bounds.max)) {
    throw new Error(`partitionGraph: internal error, could not balance ${n} nodes into ${parts} parts`);
  }
  return { parts, assignment: Int32Array.from(where) };
}

/**
 * Builds the symmetric adjacency of an edge list (undirected, self loops removed, duplicates merged)
 * and partitions it.
 */
export function partitionEdgeList(
  numNodes: number,
  src: Int32Array,
  dst: Int32Array,
  options: PartitionOptions,
): Partition {
  return partitionGraph(buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'remove' }), options);
}

/** Baseline: nodes shuffled by seed and dealt into parts of equal size (balanced random). */
export function randomPartition(numNodes: number, parts: number, seed = 0): Partition {
  if (!Number.isInteger(numNodes) || numNodes < 0) {
    throw new Error(`randomPartition: numNodes must be a non-negative integer, got ${numNodes}`);
  }
  checkParts('randomPartition', parts);
  checkSeed('randomPartition', seed);
  if (parts > 1 && parts > numNodes) {
    throw new Error(`randomPartition: parts (${parts}) must not exceed the number of nodes (${numNodes})`);
  }
  const order = shuffledIds(numNodes, mulberry32(seed));
  const assignment = new Int32Array(numNodes);
  for (let i = 0; i < numNodes; i++) assignment[order[i]] = i % parts;
  return { parts, assignment };
}

/** Number of undirected edges (i < j, i ≠ j) whose endpoints lie in different parts. */
export function edgeCut(adjacency: Csr, partition: Partition): number {
  validateCsr(adjacency, 'edgeCut');
  checkAssignment('edgeCut', partition, adjacency.numRows);
  const { numRows, rowPtr, colIdx } = adjacency;
  const { assignment } = partition;
  let cut = 0;
  for (let i = 0; i < numRows; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (j > i && assignment[i] !== assignment[j]) cut++;
    }
  }
  return cut;
}

/** Node counts per part. */
export function partSizes(partition: Partition): Int32Array {
  checkAssignment('partSizes', partition, partition.assignment.length);
  const sizes = new Int32Array(partition.parts);
  for (let i = 0; i < partition.assignment.length; i++) sizes[partition.assignment[i]]++;
  return sizes;
}

/** Balance, then improve the cut: 2-way FM for two parts; pairwise and k-way FM for more. */
function refineLevel(
  graph: WeightedGraph,
  where: Int32Array,
  parts: number,
  bounds: PartSizeBounds,
  random: () => number,
): void {
  if (parts === 2) {
    // Side 0 alone decides the balance of both: w0 ∈ [min, max] and total − w0 ∈ [min, max].
    const total = graph.totalNodeWeight;
    refineBisection(
      graph,
      where,
      Math.max(bounds.min, total - bounds.max),
      Math.min(bounds.max, total - bounds.min),
      random,
    );
    return;
  }
  rebalance(graph, where, parts, bounds.min, bounds.max);
  // Pairwise FM costs about (parts − 1) sweeps of the graph, so only on the small, coarse levels, where
  // it moves whole clusters between parts; k-way FM then works on every level.
  if (graph.numNodes <= PAIRWISE_MAX_NODES) refinePairs(graph, where, parts, bounds.min, bounds.max, random);
  refineKWayFM(graph, where, parts, bounds.min, bounds.max, random);
}

/**
 * Recursive bisection: split into ⌊parts/2⌋ and ⌈parts/2⌉ parts with weights in that ratio, then
 * recurse on the two induced subgraphs. Each bisection may deviate by (1 + imbalance)^(1/depth) so
 * the deviations of the nested bisections compound to about the allowed imbalance.
 */
function initialPartition(graph: WeightedGraph, parts: number, imbalance: number, random: () => number): Int32Array {
  const where = new Int32Array(graph.numNodes);
  const depth = Math.ceil(Math.log2(parts));
  const slack = Math.pow(1 + imbalance, 1 / depth);
  const ids = new Int32Array(graph.numNodes);
  for (let u = 0; u < graph.numNodes; u++) ids[u] = u;
  const split = (sub: WeightedGraph, subIds: Int32Array, subParts: number, firstPart: number): void => {
    if (subParts === 1 || sub.numNodes === 0) {
      for (let u = 0; u < sub.numNodes; u++) where[subIds[u]] = firstPart;
      return;
    }
    const leftParts = Math.floor(subParts / 2);
    const total = sub.totalNodeWeight;
    const target0 = (total * leftParts) / subParts;
    const target1 = total - target0;
    const max0 = Math.max(Math.ceil(target0), Math.floor(target0 * slack));
    const max1 = Math.max(Math.ceil(target1), Math.floor(target1 * slack));
    const side = bisect(sub, target0, Math.max(0, total - max1), max0, random);
    for (let s = 0; s < 2; s++) {
      const members: number[] = [];
      for (let u = 0; u < sub.numNodes; u++) if (side[u] === s) members.push(u);
      const half = inducedSubgraph(sub, Int32Array.from(members));
      const halfIds = Int32Array.from(members, (u) => subIds[u]);
      split(half, halfIds, s === 0 ? leftParts : subParts - leftParts, s === 0 ? firstPart : firstPart + leftParts);
    }
  };
  split(graph, ids, parts, 0);
  return where;
}

/** Best of several greedy-growing bisections refined by FM: least imbalance, then least cut. */
function bisect(graph: WeightedGraph, target0: number, min0: number, max0: number, random: () => number): Int32Array {
  const size = graph.numNodes + graph.neighbors.length;
  const tries = Math.max(2, Math.min(BISECTION_TRIES, Math.floor(400_000 / Math.max(1, size))));
  let best: Int32Array | null = null;
  let bestExcess = Infinity;
  let bestCut = Infinity;
  for (let attempt = 0; attempt < tries; attempt++) {
    const side = growBisection(graph, target0, max0, random);
    refineBisection(graph, side, min0, max0, random);
    let weight0 = 0;
    for (let u = 0; u < graph.numNodes; u++) if (side[u] === 0) weight0 += graph.nodeWeights[u];
    const outside = weight0 < min0 ? min0 - weight0 : weight0 > max0 ? weight0 - max0 : 0;
    const cut = weightedCut(graph, side);
    if (outside < bestExcess || (outside === bestExcess && cut < bestCut)) {
      best = side;
      bestExcess = outside;
      bestCut = cut;
    }
  }
  return best!;
}

/**
 * Greedy graph growing: side 0 starts at a random node and repeatedly absorbs the side-1 node whose
 * move cuts the fewest edges, until it reaches its target weight. When the current component is used
 * up (disconnected graphs), the next seed is a random node of a component that still fits whole, so
 * small components are not cut; only when none fits does a seed start a component that will be split.
 */
function growBisection(graph: WeightedGraph, target0: number, max0: number, random: () => number): Int32Array {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  const side = new Int32Array(n).fill(1);
  const gain = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    let degree = 0;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) degree += edgeWeights[k];
    gain[u] = -degree; // moving u to side 0 cuts all its edges to side 1
  }
  const { component, componentWeight } = connectedComponents(graph);
  const seeds = shuffledIds(n, random);
  let nextFitting = 0;
  let nextAny = 0;
  const heap = new GainHeap(n);
  let weight0 = 0;
  while (weight0 < target0) {
    let u = heap.pop();
    if (u === -1) {
      // A component that does not fit now never will (the room only shrinks), so one sweep suffices.
      const fits = (v: number): boolean => side[v] === 1 && componentWeight[component[v]] <= max0 - weight0;
      while (nextFitting < n && !fits(seeds[nextFitting])) nextFitting++;
      if (nextFitting < n) {
        u = seeds[nextFitting++];
      } else {
        while (nextAny < n && side[seeds[nextAny]] === 0) nextAny++;
        if (nextAny === n) break;
        u = seeds[nextAny++];
      }
    }
    if (weight0 + nodeWeights[u] > max0) continue; // would overshoot; smaller nodes may still fit
    side[u] = 0;
    weight0 += nodeWeights[u];
    componentWeight[component[u]] -= nodeWeights[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const v = neighbors[k];
      if (side[v] === 0) continue;
      gain[v] += 2 * edgeWeights[k];
      heap.set(v, gain[v]);
    }
  }
  return side;
}

/** Connected component of every node (breadth-first), and each component's node weight. */
function connectedComponents(graph: WeightedGraph): { component: Int32Array; componentWeight: Float64Array } {
  const { numNodes: n, offsets, neighbors, nodeWeights } = graph;
  const component = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const weights: number[] = [];
  for (let start = 0; start < n; start++) {
    if (component[start] !== -1) continue;
    const id = weights.length;
    let weight = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    component[start] = id;
    while (head < tail) {
      const u = queue[head++];
      weight += nodeWeights[u];
      for (let k = offsets[u]; k < offsets[u + 1]; k++) {
        const v = neighbors[k];
        if (component[v] === -1) {
          component[v] = id;
          queue[tail++] = v;
        }
      }
    }
    weights.push(weight);
  }
  return { component, componentWeight: Float64Array.from(weights) };
}

/**
 * Every entry (i, j) must have its mirror (j, i), and no row may repeat a column (a repeat would
 * count an edge twice). Compares each row of A with the same row of Aᵀ through a marker array: O(nnz).
 */
function checkSymmetric(csr: Csr, caller: string): void {
  const transposed = transposeCsr({ ...csr, values: null });
  const { numRows, rowPtr, colIdx } = csr;
  const mark = new Int32Array(numRows).fill(-1);
  for (let i = 0; i < numRows; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
      const j = colIdx[k];
      if (mark[j] === i) throw new Error(`${caller}: adjacency row ${i} lists column ${j} twice`);
      mark[j] = i;
    }
    if (transposed.rowPtr[i + 1] - transposed.rowPtr[i] !== rowPtr[i + 1] - rowPtr[i]) {
      throw new Error(
        `${caller}: adjacency is not symmetric: row ${i} has ${rowPtr[i + 1] - rowPtr[i]} entries but ` +
          `column ${i} has ${transposed.rowPtr[i + 1] - transposed.rowPtr[i]} ` +
          `(build it with buildAdjacency(..., { undirected: true }))`,
      );
    }
    for (let k = transposed.rowPtr[i]; k < transposed.rowPtr[i + 1]; k++) {
      const j = transposed.colIdx[k];
      if (mark[j] !== i) {
        throw new Error(
          `${caller}: adjacency is not symmetric: entry (${j}, ${i}) has no mirror (${i}, ${j}) ` +
            `(build it with buildAdjacency(..., { undirected: true }))`,
        );
      }
    }
  }
}

function checkOptions(caller: string, options: PartitionOptions): Required<PartitionOptions> {
  if (options === null || typeof options !== 'object') throw new Error(`${caller}: options must be an object`);
  const parts = options.parts;
  const seed = options.seed ?? 0;
  const imbalance = options.imbalance ?? DEFAULT_IMBALANCE;
  checkParts(caller, parts);
  checkSeed(caller, seed);
  if (typeof imbalance !== 'number' || !(imbalance >= 0 && imbalance < 1)) {
    throw new Error(`${caller}: imbalance must be a number in [0, 1), got ${imbalance}`);
  }
  return { parts, seed, imbalance };
}

function checkParts(caller: string, parts: number): void {
  if (!Number.isInteger(parts) || parts < 1 || parts > 2 ** 31 - 1) {
    throw new Error(`${caller}: parts must be an integer >= 1, got ${parts}`);
  }
}

function checkAssignment(caller: string, partition: Partition, numNodes: number): void {
  checkParts(caller, partition.parts);
  const { assignment, parts } = partition;
  if (assignment.length !== numNodes) {
    throw new Error(`${caller}: assignment has ${assignment.length} entries, expected ${numNodes}`);
  }
  for (let i = 0; i < assignment.length; i++) {
    const part = assignment[i];
    if (!(part >= 0 && part < parts)) {
      throw new Error(`${caller}: assignment[${i}] = ${part} is out of range [0, ${parts})`);
    }
  }
}
