import { shuffledIds } from './sampling.ts';
import type { Csr } from './csr.ts';

/**
 * Coarsening for the multilevel partitioner: heavy-edge matching and contraction.
 *
 * A WeightedGraph is an undirected graph stored symmetrically (edge {u, v} appears in the rows of both
 * u and v with the same weight), without self loops. A node's weight counts the finest-level nodes
 * merged into it, an edge's weight the finest-level edges merged into it, so balance (by node weight)
 * and cut (by edge weight) mean the same thing on every level.
 */
export interface WeightedGraph {
  numNodes: number;
  /** numNodes + 1 offsets into neighbors / edgeWeights. */
  offsets: Int32Array;
  neighbors: Int32Array;
  edgeWeights: Int32Array;
  nodeWeights: Int32Array;
  totalNodeWeight: number;
}

/** One coarsening step: `graph` is the coarser graph, `coarseOf[u]` the node of it that finer node u merged into. */
export interface CoarseningLevel {
  graph: WeightedGraph;
  coarseOf: Int32Array;
}

export interface CoarsenOptions {
  /** Stop once the graph has at most this many nodes. */
  coarsenTo: number;
  random: () => number;
}

/** Stop when a round of matching removes less than this fraction of the nodes: the graph stopped shrinking. */
const STALL_RATIO = 0.92;

/** Two-hop matching is worth its cost only when plain matching leaves many nodes unmatched (METIS uses 10%). */
const TWO_HOP_THRESHOLD = 0.1;

/** Only low-degree unmatched nodes are paired through a shared neighbour; hubs would cost too much to scan. */
const TWO_HOP_MAX_DEGREE = 64;

/**
 * The finest level: every stored entry off the diagonal becomes an edge of weight 1 (values ignored),
 * every node weight 1. Expects a symmetric Csr without duplicate entries in a row.
 */
export function weightedGraphFromCsr(csr: Csr): WeightedGraph {
  const n = csr.numRows;
  const { rowPtr, colIdx } = csr;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) if (colIdx[k] !== i) count++;
    offsets[i + 1] = offsets[i] + count;
  }
  const neighbors = new Int32Array(offsets[n]);
  let fill = 0;
  for (let i = 0; i < n; i++) {
    for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) if (colIdx[k] !== i) neighbors[fill++] = colIdx[k];
  }
  return {
    numNodes: n,
    offsets,
    neighbors,
    edgeWeights: new Int32Array(neighbors.length).fill(1),
    nodeWeights: new Int32Array(n).fill(1),
    totalNodeWeight: n,
  };
}

/**
 * Repeated matching and contraction until the graph has at most `coarsenTo` nodes or stops shrinking.
 * Returns the levels from finest-but-one to coarsest (empty when `graph` is already small enough).
 */
export function coarsenGraph(graph: WeightedGraph, options: CoarsenOptions): CoarseningLevel[] {
  const { coarsenTo, random } = options;
  // Cap merged node weights (as METIS does) so the coarsest graph can still be split evenly.
  const maxNodeWeight = Math.max(1, Math.ceil((1.5 * graph.totalNodeWeight) / Math.max(1, coarsenTo)));
  const levels: CoarseningLevel[] = [];
  let current = graph;
  while (current.numNodes > coarsenTo) {
    const { coarseOf, numCoarse } = heavyEdgeMatching(current, random, maxNodeWeight);
    if (numCoarse > STALL_RATIO * current.numNodes) break;
    const coarse = contractGraph(current, coarseOf, numCoarse);
    levels.push({ graph: coarse, coarseOf });
    current = coarse;
  }
  return levels;
}

/**
 * Heavy-edge matching: nodes are visited in random order, lowest degree first (sorted HEM, which keeps
 * leaves from being stranded around hubs), and each unmatched node is matched with the unmatched
 * neighbour of heaviest edge weight whose merged weight stays within `maxNodeWeight`. Nodes left over
 * are then paired through a shared neighbour (two-hop matching, essential on power-law graphs where
 * the leaves of a hub can only match the hub) and isolated nodes are paired with each other. Returns
 * the coarse id of every node; matched pairs share one.
 */
export function heavyEdgeMatching(
  graph: WeightedGraph,
  random: () => number,
  maxNodeWeight: number,
): { coarseOf: Int32Array; numCoarse: number } {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  const match = new Int32Array(n).fill(-1);
  const order = randomOrderByDegree(graph, random);
  let unmatched = 0;
  for (let index = 0; index < n; index++) {
    const u = order[index];
    if (match[u] !== -1) continue;
    const room = maxNodeWeight - nodeWeights[u];
    let best = -1;
    let bestWeight = 0;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const v = neighbors[k];
      if (match[v] === -1 && edgeWeights[k] > bestWeight && nodeWeights[v] <= room) {
        best = v;
        bestWeight = edgeWeights[k];
      }
    }
    if (best === -1) {
      unmatched++;
    } else {
      match[u] = best;
      match[best] = u;
    }
  }
  if (unmatched > TWO_HOP_THRESHOLD * n) matchTwoHop(graph, match, maxNodeWeight);
  matchIsolated(graph, match, maxNodeWeight);

  const coarseOf = new Int32Array(n).fill(-1);
  let numCoarse = 0;
  for (let u = 0; u < n; u++) {
    if (coarseOf[u] !== -1) continue;
    coarseOf[u] = numCoarse;
    if (match[u] !== -1) coarseOf[match[u]] = numCoarse;
    numCoarse++;
  }
  return { coarseOf, numCoarse };
}

/**
 * Merges the nodes that share a coarse id: node weights add up, edges between merged groups add up,
 * edges inside a group vanish (they can never be cut any more).
 */
export function contractGraph(graph: WeightedGraph, coarseOf: Int32Array, numCoarse: number): WeightedGraph {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  // Members of each coarse node, grouped by counting sort.
  const memberStart = new Int32Array(numCoarse + 1);
  for (let u = 0; u < n; u++) memberStart[coarseOf[u] + 1]++;
  for (let c = 0; c < numCoarse; c++) memberStart[c + 1] += memberStart[c];
  const memberFill = memberStart.slice(0, numCoarse);
  const members = new Int32Array(n);
  for (let u = 0; u < n; u++) members[memberFill[coarseOf[u]]++] = u;

  const coarseOffsets = new Int32Array(numCoarse + 1);
  const coarseNeighbors = new Int32Array(neighbors.length);
  const coarseEdgeWeights = new Int32Array(neighbors.length);
  const coarseNodeWeights = new Int32Array(numCoarse);
  // slotOf[c] = where coarse neighbour c sits in the row being built; stale values point before the row.
  const slotOf = new Int32Array(numCoarse).fill(-1);
  let fill = 0;
  for (let c = 0; c < numCoarse; c++) {
    const rowStart = fill;
    let weight = 0;
    for (let m = memberStart[c]; m < memberStart[c + 1]; m++) {
      const u = members[m];
      weight += nodeWeights[u];
      for (let k = offsets[u]; k < offsets[u + 1]; k++) {
        const target = coarseOf[neighbors[k]];
        if (target === c) continue;
        const slot = slotOf[target];
        if (slot >= rowStart && coarseNeighbors[slot] === target) {
          coarseEdgeWeights[slot] += edgeWeights[k];
        } else {
          slotOf[target] = fill;
          coarseNeighbors[fill] = target;
          coarseEdgeWeights[fill++] = edgeWeights[k];
        }
      }
    }
    coarseNodeWeights[c] = weight;
    coarseOffsets[c + 1] = fill;
  }
  return {
    numNodes: numCoarse,
    offsets: coarseOffsets,
    neighbors: coarseNeighbors.slice(0, fill),
    edgeWeights: coarseEdgeWeights.slice(0, fill),
    nodeWeights: coarseNodeWeights,
    totalNodeWeight: graph.totalNodeWeight,
  };
}

/** The subgraph induced by `ids` (its node i is node ids[i] of `graph`); edges leaving the set are dropped. */
export function inducedSubgraph(graph: WeightedGraph, ids: Int32Array): WeightedGraph {
  const { offsets, neighbors, edgeWeights, nodeWeights } = graph;
  const count = ids.length;
  const local = new Int32Array(graph.numNodes).fill(-1);
  for (let id = 0; id < count; id++) local[ids[id]] = id;
  let entries = 0;
  for (let id = 0; id < count; id++) {
    const u = ids[id];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) if (local[neighbors[k]] !== -1) entries++;
  }
  const subOffsets = new Int32Array(count + 1);
  const subNeighbors = new Int32Array(entries);
  const subEdgeWeights = new Int32Array(entries);
  const subNodeWeights = new Int32Array(count);
  let fill = 0;
  let totalNodeWeight = 0;
  for (let id = 0; id < count; id++) {
    const u = ids[id];
    subNodeWeights[id] = nodeWeights[u];
    totalNodeWeight += nodeWeights[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const v = local[neighbors[k]];
      if (v === -1) continue;
      subNeighbors[fill] = v;
      subEdgeWeights[fill++] = edgeWeights[k];
    }
    subOffsets[id + 1] = fill;
  }
  return {
    numNodes: count,
    offsets: subOffsets,
    neighbors: subNeighbors,
    edgeWeights: subEdgeWeights,
    nodeWeights: subNodeWeights,
    totalNodeWeight,
  };
}

/** A random permutation of the nodes, stably sorted by degree (counting sort), lowest first. */
function randomOrderByDegree(graph: WeightedGraph, random: () => number): Int32Array {
  const n = graph.numNodes;
  const shuffled = shuffledIds(n, random);
  let maxDegree = 0;
  for (let u = 0; u < n; u++) maxDegree = Math.max(maxDegree, graph.offsets[u + 1] - graph.offsets[u]);
  const bucketStart = new Int32Array(maxDegree + 2);
  for (let u = 0; u < n; u++) bucketStart[graph.offsets[u + 1] - graph.offsets[u] + 1]++;
  for (let d = 0; d <= maxDegree; d++) bucketStart[d + 1] += bucketStart[d];
  const order = new Int32Array(n);
  for (let index = 0; index < n; index++) {
    const u = shuffled[index];
    order[bucketStart[graph.offsets[u + 1] - graph.offsets[u]]++] = u;
  }
  return order;
}

/**
 * Pairs unmatched low-degree nodes that share a neighbour (METIS's "2-hop any" matching): for every
 * node h, the unmatched nodes listing h as a neighbour are matched two by two.
 */
function matchTwoHop(graph: WeightedGraph, match: Int32Array, maxNodeWeight: number): void {
  const { numNodes: n, offsets, neighbors, nodeWeights } = graph;
  const listStart = new Int32Array(n + 1);
  for (let u = 0; u < n; u++) {
    const degree = offsets[u + 1] - offsets[u];
    if (match[u] !== -1 || degree === 0 || degree > TWO_HOP_MAX_DEGREE) continue;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) listStart[neighbors[k] + 1]++;
  }
  for (let h = 0; h < n; h++) listStart[h + 1] += listStart[h];
  const listFill = listStart.slice(0, n);
  const lists = new Int32Array(listStart[n]);
  for (let u = 0; u < n; u++) {
    const degree = offsets[u + 1] - offsets[u];
    if (match[u] !== -1 || degree === 0 || degree > TWO_HOP_MAX_DEGREE) continue;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) lists[listFill[neighbors[k]]++] = u;
  }
  for (let h = 0; h < n; h++) {
    let waiting = -1;
    for (let k = listStart[h]; k < listStart[h + 1]; k++) {
      const u = lists[k];
      if (match[u] === -1) waiting = pairOrWait(waiting, u, match, nodeWeights, maxNodeWeight);
    }
  }
}

/** Isolated nodes have no neighbour to match: pair them with each other so they do not stall coarsening. */
function matchIsolated(graph: WeightedGraph, match: Int32Array, maxNodeWeight: number): void {
  const { numNodes: n, offsets, nodeWeights } = graph;
  let waiting = -1;
  for (let u = 0; u < n; u++) {
    if (match[u] === -1 && offsets[u + 1] === offsets[u]) waiting = pairOrWait(waiting, u, match, nodeWeights, maxNodeWeight);
  }
}

/**
 * Pairs unmatched `u` with the node `waiting` for a partner (-1: none) when their weights fit; returns
 * who waits next: u when nobody waited, or when u is the lighter of two that do not fit (the lighter one
 * has the better chance of a partner); -1 once they are matched.
 */
function pairOrWait(waiting: number, u: number, match: Int32Array, nodeWeights: ArrayLike<number>, maxNodeWeight: number): number {
  if (waiting === -1) return u;
  if (nodeWeights[waiting] + nodeWeights[u] <= maxNodeWeight) {
    match[waiting] = u;
    match[u] = waiting;
    return -1;
  }
  return nodeWeights[u] < nodeWeights[waiting] ? u : waiting;
}
