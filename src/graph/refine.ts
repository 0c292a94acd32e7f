import { shuffledIds } from './sampling.ts';
import { inducedSubgraph } from './coarsen.ts';
import type { WeightedGraph } from './coarsen.ts';

/**
 * Refinement for the multilevel partitioner, on one level of the hierarchy:
 * - refineBisection: Fiduccia–Mattheyses for two sides (hill-climbing moves by gain, rolled back to
 *   the best state seen), used for the initial bisections and for parts = 2;
 * - refineKWayFM: the same for k parts with one priority queue of boundary nodes;
 * - refinePairs: refineBisection on each pair of adjacent parts (cheap on coarse levels);
 * - rebalance: moves the cheapest nodes until every part's weight is within bounds.
 * Every move keeps each part's weight within [minPart, maxPart] once it is there.
 * Gain of moving a node = (edge weight to the destination part) − (edge weight to its own part).
 * Balance is by node weight, i.e. by count of finest-level nodes.
 */

/** k-way FM stops repeating passes once a pass lowers the cut by less than this fraction. */
const FM_MIN_PASS_GAIN = 0.001;

/** Indexed max-heap of node ids keyed by gain, each node at most once; ties come out in (deterministic) heap order. */
export class GainHeap {
  private readonly heap: Int32Array;
  private readonly keys: Float64Array;
  private readonly position: Int32Array;
  private count = 0;

  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  has(node: number): boolean {
    return this.position[node] !== -1;
  }

  /** Inserts the node or changes its key. */
  set(node: number, key: number): void {
    const at = this.position[node];
    if (at === -1) {
      this.heap[this.count] = node;
      this.position[node] = this.count;
      this.keys[node] = key;
      this.siftUp(this.count++);
      return;
    }
    const old = this.keys[node];
    this.keys[node] = key;
    if (key > old) this.siftUp(at);
    else if (key < old) this.siftDown(at);
  }

  remove(node: number): void {
    const at = this.position[node];
    if (at === -1) return;
    this.position[node] = -1;
    const last = this.heap[--this.count];
    if (at === this.count) return;
    this.heap[at] = last;
    this.position[last] = at;
    this.siftUp(at);
    this.siftDown(this.position[last]);
  }

  /** The node with the largest key, or -1 when empty. */
  peek(): number {
    return this.count > 0 ? this.heap[0] : -1;
  }

  /** Key of a node in the heap. */
  keyOf(node: number): number {
    return this.keys[node];
  }

  peekKey(): number {
    return this.count > 0 ? this.keys[this.heap[0]] : -Infinity;
  }

  /** Removes and returns the node with the largest key, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.heap[0];
    this.remove(top);
    return top;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.position[this.heap[i]] = -1;
    this.count = 0;
  }

  private siftUp(at: number): void {
    const { heap, keys, position } = this;
    const node = heap[at];
    const key = keys[node];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keys[heap[parent]] >= key) break;
      heap[at] = heap[parent];
      position[heap[at]] = at;
      at = parent;
    }
    heap[at] = node;
    position[node] = at;
  }

  private siftDown(at: number): void {
    const { heap, keys, position } = this;
    const node = heap[at];
    const key = keys[node];
    const count = this.count;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= count) break;
      if (child + 1 < count && keys[heap[child + 1]] > keys[heap[child]]) child++;
      if (keys[heap[child]] <= key) break;
      heap[at] = heap[child];
      position[heap[at]] = at;
      at = child;
    }
    heap[at] = node;
    position[node] = at;
  }
}

/** Sum of node weights per part. */
export function partWeightsOf(graph: WeightedGraph, where: Int32Array, parts: number): Float64Array {
  const weights = new Float64Array(parts);
  for (let u = 0; u < graph.numNodes; u++) weights[where[u]] += graph.nodeWeights[u];
  return weights;
}

/** Total weight of the edges whose endpoints lie in different parts (each undirected edge once). */
export function weightedCut(graph: WeightedGraph, where: Int32Array): number {
  const { numNodes: n, offsets, neighbors, edgeWeights } = graph;
  let cut = 0;
  for (let u = 0; u < n; u++) {
    const part = where[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) if (where[neighbors[k]] !== part) cut += edgeWeights[k];
  }
  return cut / 2;
}

/** How far `weight` lies outside [min, max]. */
function excess(weight: number, min: number, max: number): number {
  return weight < min ? min - weight : weight > max ? weight - max : 0;
}

/**
 * Fiduccia–Mattheyses refinement of a bisection (`side[u]` is 0 or 1) with side 0's weight to be kept
 * in [minSide0, maxSide0]. Each pass moves unlocked nodes one at a time by best gain, from the side
 * whose move keeps the balance (give or take one node), even when the gain is negative (climbing out
 * of local minima), and then rolls back to the best state seen: least imbalance first, then least cut.
 * A pass gives up after a run of moves without improvement. Passes repeat while they improve, up to
 * `maxPasses`.
 */
export function refineBisection(
  graph: WeightedGraph,
  side: Int32Array,
  minSide0: number,
  maxSide0: number,
  random: () => number,
  maxPasses = 8,
): void {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  if (n < 2) return;
  const internal = new Int32Array(n);
  const external = new Int32Array(n);
  const heaps = [new GainHeap(n), new GainHeap(n)];
  const locked = new Uint8Array(n);
  const moved = new Int32Array(n);
  // Moves without improvement before a pass gives up (METIS: 1% of the nodes, within [15, 100]).
  const patience = Math.min(100, Math.max(15, Math.floor(0.01 * n)));
  // A move may unbalance the sides by up to one node (the heaviest) for a while: under tight bounds FM
  // can then swap nodes across instead of being stuck. The next move must restore the balance, and the
  // state kept is always the most balanced one.
  let tolerance = 0;
  for (let u = 0; u < n; u++) tolerance = Math.max(tolerance, nodeWeights[u]);

  for (let pass = 0; pass < maxPasses; pass++) {
    let weight0 = 0;
    let cut = 0;
    for (let u = 0; u < n; u++) {
      const mine = side[u];
      if (mine === 0) weight0 += nodeWeights[u];
      let inside = 0;
      let outside = 0;
      for (let k = offsets[u]; k < offsets[u + 1]; k++) {
        if (side[neighbors[k]] === mine) inside += edgeWeights[k];
        else outside += edgeWeights[k];
      }
      internal[u] = inside;
      external[u] = outside;
      cut += outside;
    }
    cut /= 2;
    // Out of balance, interior nodes must be movable too (a side may be a whole component with no boundary).
    // Isolated nodes always are: they move for free and make room for moves that pay.
    const everyNode = excess(weight0, minSide0, maxSide0) > 0;
    const order = shuffledIds(n, random);
    for (let index = 0; index < n; index++) {
      const u = order[index];
      const isolated = offsets[u] === offsets[u + 1];
      if (everyNode || external[u] > 0 || isolated) heaps[side[u]].set(u, external[u] - internal[u]);
    }
    locked.fill(0);

    let bestCut = cut;
    let bestExcess = excess(weight0, minSide0, maxSide0);
    let bestCount = 0;
    let count = 0;
    const middle = (minSide0 + maxSide0) / 2;
    for (;;) {
      let from: number;
      if (excess(weight0, minSide0, maxSide0) > 0) {
        from = weight0 > maxSide0 ? 0 : 1;
      } else {
        const top0 = heaps[0].peek();
        const top1 = heaps[1].peek();
        const can0 = top0 !== -1 && weight0 - nodeWeights[top0] >= minSide0 - tolerance;
        const can1 = top1 !== -1 && weight0 + nodeWeights[top1] <= maxSide0 + tolerance;
        if (!can0 && !can1) break;
        if (can0 && can1) {
          const gain0 = heaps[0].peekKey();
          const gain1 = heaps[1].peekKey();
          from = gain0 > gain1 ? 0 : gain1 > gain0 ? 1 : weight0 > middle ? 0 : 1;
        } else {
          from = can0 ? 0 : 1;
        }
      }
      const u = heaps[from].pop();
      if (u === -1) break;
      locked[u] = 1;
      cut -= external[u] - internal[u];
      const to = 1 - from;
      side[u] = to;
      weight0 += from === 0 ? -nodeWeights[u] : nodeWeights[u];
      const swap = internal[u];
      internal[u] = external[u];
      external[u] = swap;
      moved[count++] = u;
      for (let k = offsets[u]; k < offsets[u + 1]; k++) {
        const v = neighbors[k];
        const w = edgeWeights[k];
        if (side[v] === to) {
          internal[v] += w;
          external[v] -= w;
        } else {
          internal[v] -= w;
          external[v] += w;
        }
        if (locked[v]) continue;
        const heap = heaps[side[v]];
        if (everyNode || external[v] > 0) heap.set(v, external[v] - internal[v]);
        else heap.remove(v);
      }
      const nowExcess = excess(weight0, minSide0, maxSide0);
      if (nowExcess < bestExcess || (nowExcess === bestExcess && cut < bestCut)) {
        bestExcess = nowExcess;
        bestCut = cut;
        bestCount = count;
      } else if (count - bestCount > patience) {
        break;
      }
    }
    for (let i = count - 1; i >= bestCount; i--) side[moved[i]] ^= 1;
    heaps[0].clear();
    heaps[1].clear();
    if (bestCount === 0) break;
  }
}

/**
 * Moves nodes until every part's weight lies in [minPart, maxPart], the most violated part first and
 * within it the move of highest gain first (gains re-checked lazily as they change). With unit node
 * weights (the finest level) this always succeeds when bounds are feasible; on coarse levels heavy nodes
 * can make it impossible, and it stops when no move helps. Returns whether the result is balanced.
 */
export function rebalance(
  graph: WeightedGraph,
  where: Int32Array,
  parts: number,
  minPart: number,
  maxPart: number,
): boolean {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  const partWeights = partWeightsOf(graph, where, parts);
  const connection = new Float64Array(parts);
  const heap = new GainHeap(n);

  // Edge weight from u to `part`, and to u's own part.
  const connectionTo = (u: number, part: number): number => {
    let sum = 0;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) if (where[neighbors[k]] === part) sum += edgeWeights[k];
    return sum;
  };

  // Best destination for u leaving `from` (an adjacent part with room, else the lightest part with room),
  // written to bestMove; false when no part has room.
  const bestMove = { part: -1, gain: 0 };
  const findDestination = (u: number): boolean => {
    const from = where[u];
    const weight = nodeWeights[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) connection[where[neighbors[k]]] += edgeWeights[k];
    const inside = connection[from];
    let best = -1;
    let bestGain = -Infinity;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const part = where[neighbors[k]];
      if (part === from || partWeights[part] + weight > maxPart) continue;
      const gain = connection[part] - inside;
      if (gain > bestGain) {
        best = part;
        bestGain = gain;
      }
    }
    for (let k = offsets[u]; k < offsets[u + 1]; k++) connection[where[neighbors[k]]] = 0;
    if (best === -1) {
      for (let part = 0; part < parts; part++) {
        if (part === from || partWeights[part] + weight > maxPart) continue;
        if (best === -1 || partWeights[part] < partWeights[best]) best = part;
      }
      bestGain = -inside;
    }
    bestMove.part = best;
    bestMove.gain = bestGain;
    return best !== -1;
  };

  const move = (u: number, to: number): void => {
    partWeights[where[u]] -= nodeWeights[u];
    partWeights[to] += nodeWeights[u];
    where[u] = to;
  };

  for (let round = 0; round < 4 * parts + 8; round++) {
    let over = -1;
    let under = -1;
    let worstOver = 0;
    let worstUnder = 0;
    for (let part = 0; part < parts; part++) {
      if (partWeights[part] - maxPart > worstOver) {
        worstOver = partWeights[part] - maxPart;
        over = part;
      }
      if (minPart - partWeights[part] > worstUnder) {
        worstUnder = minPart - partWeights[part];
        under = part;
      }
    }
    if (over === -1 && under === -1) return true;
    let moves = 0;
    if (worstOver >= worstUnder) {
      // Drain the heaviest part into parts with room.
      for (let u = 0; u < n; u++) {
        if (where[u] !== over || partWeights[over] - nodeWeights[u] < minPart) continue;
        if (findDestination(u)) heap.set(u, bestMove.gain);
      }
      while (partWeights[over] > maxPart && heap.size > 0) {
        const u = heap.pop();
        if (partWeights[over] - nodeWeights[u] < minPart || !findDestination(u)) continue;
        if (heap.size > 0 && bestMove.gain < heap.peekKey()) {
          heap.set(u, bestMove.gain); // stale key: try again in order
          continue;
        }
        move(u, bestMove.part);
        moves++;
      }
    } else {
      // Fill the lightest part from parts that can spare the node.
      const gainOf = (u: number): number => connectionTo(u, under) - connectionTo(u, where[u]);
      const canGive = (u: number): boolean =>
        where[u] !== under &&
        partWeights[where[u]] - nodeWeights[u] >= minPart &&
        partWeights[under] + nodeWeights[u] <= maxPart;
      for (let u = 0; u < n; u++) if (canGive(u)) heap.set(u, gainOf(u));
      while (partWeights[under] < minPart && heap.size > 0) {
        const u = heap.pop();
        if (!canGive(u)) continue;
        const gain = gainOf(u);
        if (heap.size > 0 && gain < heap.peekKey()) {
          heap.set(u, gain);
          continue;
        }
        move(u, under);
        moves++;
      }
    }
    heap.clear();
    if (moves === 0) break;
  }
  for (let part = 0; part < parts; part++) {
    if (partWeights[part] > maxPart || partWeights[part] < minPart) return false;
  }
  return true;
}

/**
 * Pairwise FM: for each pair of parts sharing cut edges, heaviest cut first, runs refineBisection on the
 * subgraph induced by the two parts, keeping both within [minPart, maxPart]. It moves whole clusters
 * between two parts where single-node moves see only losses. Costs about (parts − 1) sweeps of the
 * graph, so it is meant for the small, coarse levels.
 */
export function refinePairs(
  graph: WeightedGraph,
  where: Int32Array,
  parts: number,
  minPart: number,
  maxPart: number,
  random: () => number,
): void {
  const { numNodes: n, offsets, neighbors, edgeWeights } = graph;
  // Cut weight between every pair of parts (the quotient graph).
  const between = new Float64Array(parts * parts);
  for (let u = 0; u < n; u++) {
    const p = where[u];
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const q = where[neighbors[k]];
      if (q > p) between[p * parts + q] += edgeWeights[k];
    }
  }
  const pairs: number[] = [];
  for (let p = 0; p < parts; p++) {
    for (let q = p + 1; q < parts; q++) if (between[p * parts + q] > 0) pairs.push(p * parts + q);
  }
  pairs.sort((a, b) => between[b] - between[a] || a - b);

  // Members of each part, kept up to date as pairs exchange nodes, so a pair costs only its own nodes.
  const sizes = new Int32Array(parts);
  for (let u = 0; u < n; u++) sizes[where[u]]++;
  const members: Int32Array[] = [];
  for (let p = 0; p < parts; p++) members.push(new Int32Array(sizes[p]));
  sizes.fill(0);
  for (let u = 0; u < n; u++) members[where[u]][sizes[where[u]]++] = u;

  for (const pair of pairs) {
    const p = Math.floor(pair / parts);
    const q = pair % parts;
    const ids = new Int32Array(members[p].length + members[q].length);
    ids.set(members[p]);
    ids.set(members[q], members[p].length);
    const sub = inducedSubgraph(graph, ids);
    const side = new Int32Array(ids.length);
    side.fill(1, members[p].length);
    const total = sub.totalNodeWeight;
    refineBisection(sub, side, Math.max(minPart, total - maxPart), Math.min(maxPart, total - minPart), random);
    let inP = 0;
    for (let id = 0; id < ids.length; id++) if (side[id] === 0) inP++;
    members[p] = new Int32Array(inP);
    members[q] = new Int32Array(ids.length - inP);
    let fillP = 0;
    let fillQ = 0;
    for (let id = 0; id < ids.length; id++) {
      const u = ids[id];
      if (side[id] === 0) {
        where[u] = p;
        members[p][fillP++] = u;
      } else {
        where[u] = q;
        members[q][fillQ++] = u;
      }
    }
  }
}

/**
 * k-way Fiduccia–Mattheyses: boundary nodes wait in one priority queue keyed by the gain of their best
 * move (to an adjacent part with room, keeping the source at or above `minPart`); each pass moves the
 * best one at a time, locking it, even at negative gain, and rolls back to the lowest cut seen, giving
 * up after a run of moves without improvement.
 *
 * A move changes the neighbours' gains by at most 2·w, so instead of rescanning their adjacency (costly
 * around hubs) their keys are raised to that upper bound, and the exact best move is computed when a
 * node reaches the top: if it falls below the next key it goes back in the queue. The node taken is
 * therefore always a true best move.
 */
export function refineKWayFM(
  graph: WeightedGraph,
  where: Int32Array,
  parts: number,
  minPart: number,
  maxPart: number,
  random: () => number,
  maxPasses = 6,
): void {
  const { numNodes: n, offsets, neighbors, edgeWeights, nodeWeights } = graph;
  const partWeights = partWeightsOf(graph, where, parts);
  const connection = new Float64Array(parts);
  const touched = new Int32Array(parts);
  const heap = new GainHeap(n);
  // 0: free; 1: moved this pass; 2: reached the top without an allowed move (left alone until the next pass).
  const state = new Uint8Array(n);
  const movedNode = new Int32Array(n);
  const movedFrom = new Int32Array(n);
  // Moves without improvement before a pass gives up: enough to carry a small cluster across.
  const patience = Math.min(1000, Math.max(25, Math.floor(0.02 * n)));

  let bestPart = -1;
  let bestGain = 0;
  // Exact best allowed move of u into bestPart / bestGain; returns whether u has one.
  const evaluate = (u: number): boolean => {
    const from = where[u];
    let numTouched = 0;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const part = where[neighbors[k]];
      if (connection[part] === 0) touched[numTouched++] = part;
      connection[part] += edgeWeights[k];
    }
    const weight = nodeWeights[u];
    const inside = connection[from];
    bestPart = -1;
    bestGain = -Infinity;
    if (partWeights[from] - weight >= minPart) {
      for (let t = 0; t < numTouched; t++) {
        const part = touched[t];
        if (part === from || partWeights[part] + weight > maxPart) continue;
        const gain = connection[part] - inside;
        if (gain > bestGain || (gain === bestGain && partWeights[part] < partWeights[bestPart])) {
          bestPart = part;
          bestGain = gain;
        }
      }
      if (numTouched === 0) {
        // An isolated node moves for free to the lightest part, making room for moves that pay.
        for (let part = 0; part < parts; part++) {
          if (part === from || partWeights[part] + weight > maxPart) continue;
          if (bestPart === -1 || partWeights[part] < partWeights[bestPart]) bestPart = part;
        }
        bestGain = 0;
      }
    }
    for (let t = 0; t < numTouched; t++) connection[touched[t]] = 0;
    return bestPart !== -1;
  };

  let cut = weightedCut(graph, where);
  for (let pass = 0; pass < maxPasses; pass++) {
    state.fill(0);
    const order = shuffledIds(n, random);
    for (let index = 0; index < n; index++) {
      const u = order[index];
      if (evaluate(u)) heap.set(u, bestGain);
    }
    let count = 0;
    let bestCount = 0;
    let total = 0;
    let bestTotal = 0;
    while (heap.size > 0) {
      const u = heap.pop();
      if (!evaluate(u)) {
        state[u] = 2;
        continue;
      }
      if (heap.size > 0 && bestGain < heap.peekKey()) {
        heap.set(u, bestGain);
        continue;
      }
      const from = where[u];
      const to = bestPart;
      where[u] = to;
      partWeights[from] -= nodeWeights[u];
      partWeights[to] += nodeWeights[u];
      state[u] = 1;
      movedNode[count] = u;
      movedFrom[count++] = from;
      total += bestGain;
      if (total > bestTotal) {
        bestTotal = total;
        bestCount = count;
      } else if (count - bestCount > patience) {
        break;
      }
      for (let k = offsets[u]; k < offsets[u + 1]; k++) {
        const v = neighbors[k];
        if (state[v] !== 0) continue;
        const part = where[v];
        if (heap.has(v)) {
          // Upper bound of v's new best gain (see the comment above).
          if (part === from) heap.set(v, heap.keyOf(v) + 2 * edgeWeights[k]);
          else if (part !== to) heap.set(v, heap.keyOf(v) + edgeWeights[k]);
        } else if (part !== to && evaluate(v)) {
          // v just gained a neighbour outside its part (a node of its own part only lowers its gains).
          heap.set(v, bestGain);
        }
      }
    }
    for (let i = count - 1; i >= bestCount; i--) {
      const u = movedNode[i];
      partWeights[where[u]] -= nodeWeights[u];
      partWeights[movedFrom[i]] += nodeWeights[u];
      where[u] = movedFrom[i];
    }
    heap.clear();
    // A further pass costs a sweep of the graph; stop once the cut barely moves.
    cut -= bestTotal;
    if (bestTotal <= FM_MIN_PASS_GAIN * cut) break;
  }
}
