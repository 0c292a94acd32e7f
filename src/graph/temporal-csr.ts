import { rngU32 } from '../tensor/random.ts';
import type { EventStream } from './event-stream.ts';

/**
 * Per-node temporal adjacency for continuous-time dynamic graphs, and the temporal neighbour samplers
 * of TGN/TGAT.
 *
 * Every event u → v at time t is an entry of both endpoints: u gets (neighbour v, event, t) and v gets
 * (neighbour u, event, t), as TGN's NeighborFinder does (a self loop gives its node two entries).
 * Each node's entries are sorted by time, equal times by event id.
 *
 * A query (node, time) sees only the node's entries STRICTLY before `time` (numpy's
 * `searchsorted(side='left')` in TGN): an event never informs a prediction at its own time or earlier.
 * Answers are `nodes.length × k` row-major slots; slots past a node's available neighbours are padding
 * with mask 0, neighbour 0, event 0 and time = the query time (valid indices, so GPU gathers stay in
 * bounds, and Δt = 0). Always apply the mask.
 *
 * Two ways to find a node's position at a time: binary search (any query order), or a TemporalCursor
 * that keeps one pointer per node and steps it as training moves forward in time (amortised O(1) per
 * query; same answers in any order, since it also steps back when a query is earlier).
 */

export interface TemporalNeighbors {
  /** Slots per query. */
  readonly k: number;
  /** nodes.length × k, row-major. */
  readonly neighbors: Int32Array<ArrayBuffer>;
  readonly eventIds: Int32Array<ArrayBuffer>;
  readonly times: Float64Array<ArrayBuffer>;
  /** 1 for a real neighbour, 0 for padding (float, ready to upload as an attention mask). */
  readonly mask: Float32Array<ArrayBuffer>;
  /** Real neighbours per query (≤ k). */
  readonly counts: Int32Array<ArrayBuffer>;
}

export interface UniformSampleOptions {
  /** Key of each query's draws instead of its row (e.g. an event id), so draws do not depend on the batch layout. */
  keys?: Int32Array;
  /** RNG stream; default TEMPORAL_NEIGHBOR_STREAM. */
  stream?: number;
}

/** RNG stream of uniform temporal neighbour sampling (one of src/tensor/random.ts's RNG_STREAM bases would be nicer). */
export const TEMPORAL_NEIGHBOR_STREAM = 0x7000;

/** Finds where a node's entries before a time end: by binary search, or by a cursor. */
type PositionFinder = (node: number, time: number) => number;

export class TemporalCsr {
  readonly numNodes: number;
  /** Entries of node v are [offsets[v], offsets[v + 1]). */
  readonly offsets: Int32Array<ArrayBuffer>;
  readonly neighbors: Int32Array<ArrayBuffer>;
  readonly eventIds: Int32Array<ArrayBuffer>;
  readonly times: Float64Array<ArrayBuffer>;

  /**
   * From events (src[i], dst[i], t[i]) whose ids are eventIds[i] (default i); any order. Node ids must be
   * in [0, numNodes), times finite.
   */
  constructor(numNodes: number, src: ArrayLike<number>, dst: ArrayLike<number>, t: ArrayLike<number>, eventIds?: ArrayLike<number>) {
    const where = 'TemporalCsr';
    const numEvents = src.length;
    if (!Number.isInteger(numNodes) || numNodes < 0) throw new Error(`${where}: numNodes must be a non-negative integer, got ${numNodes}`);
    if (dst.length !== numEvents || t.length !== numEvents || (eventIds && eventIds.length !== numEvents)) {
      throw new Error(`${where}: src, dst, t (and eventIds) must have the same length, got ${numEvents}, ${dst.length}, ${t.length}${eventIds ? `, ${eventIds.length}` : ''}`);
    }
    const idOf = (i: number) => (eventIds ? eventIds[i] : i);
    for (let i = 0; i < numEvents; i++) {
      for (const node of [src[i], dst[i]]) {
        if (!Number.isInteger(node) || node < 0 || node >= numNodes) {
          throw new Error(`${where}: event ${idOf(i)} has node ${node}, outside [0, ${numNodes})`);
        }
      }
      if (!Number.isFinite(t[i])) throw new Error(`${where}: event ${idOf(i)} has time ${t[i]}, not a finite number`);
    }

    // Events by (time, id); a stream's events already are, so this is a copy in the common case.
    const order = new Int32Array(numEvents);
    for (let i = 0; i < numEvents; i++) order[i] = i;
    let sorted = true;
    for (let i = 1; i < numEvents && sorted; i++) sorted = t[i] > t[i - 1] || (t[i] === t[i - 1] && idOf(i) > idOf(i - 1));
    if (!sorted) order.sort((a, b) => t[a] - t[b] || idOf(a) - idOf(b));

    // Counting sort by node keeps that order within each node.
    const offsets = new Int32Array(numNodes + 1);
    for (let i = 0; i < numEvents; i++) {
      offsets[src[i] + 1]++;
      offsets[dst[i] + 1]++;
    }
    for (let v = 0; v < numNodes; v++) offsets[v + 1] += offsets[v];
    const fill = offsets.slice(0, numNodes);
    const neighbors = new Int32Array(2 * numEvents);
    const ids = new Int32Array(2 * numEvents);
    const times = new Float64Array(2 * numEvents);
    for (const i of order) {
      const u = src[i];
      const v = dst[i];
      let at = fill[u]++;
      neighbors[at] = v;
      ids[at] = idOf(i);
      times[at] = t[i];
      at = fill[v]++;
      neighbors[at] = u;
      ids[at] = idOf(i);
      times[at] = t[i];
    }
    this.numNodes = numNodes;
    this.offsets = offsets;
    this.neighbors = neighbors;
    this.eventIds = ids;
    this.times = times;
  }

  /** The stream's events, or only `events` (ids into the stream, e.g. a training split). */
  static fromStream(stream: EventStream, events?: Int32Array): TemporalCsr {
    if (!events) return new TemporalCsr(stream.numNodes, stream.src, stream.dst, stream.t);
    const src = new Int32Array(events.length);
    const dst = new Int32Array(events.length);
    const t = new Float64Array(events.length);
    events.forEach((event, i) => {
      if (!Number.isInteger(event) || event < 0 || event >= stream.numEvents) {
        throw new Error(`TemporalCsr.fromStream: event id ${event} outside [0, ${stream.numEvents})`);
      }
      src[i] = stream.src[event];
      dst[i] = stream.dst[event];
      t[i] = stream.t[event];
    });
    return new TemporalCsr(stream.numNodes, src, dst, t, events);
  }

  degree(node: number): number {
    return this.offsets[node + 1] - this.offsets[node];
  }

  /** Index (into the entry arrays) of the first entry of `node` at or after `time`: entries before it are strictly earlier. */
  searchBefore(node: number, time: number): number {
    let lo = this.offsets[node];
    let hi = this.offsets[node + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The k most recent neighbours strictly before each query time, most recent first. */
  mostRecent(nodes: Int32Array, times: Float64Array, k: number): TemporalNeighbors {
    return gatherMostRecent(this, 'mostRecent', nodes, times, k, (node, time) => this.searchBefore(node, time));
  }

  /** k neighbours drawn uniformly with replacement among those strictly before each query time, keyed by (seed, stream, step, key, slot). */
  uniform(nodes: Int32Array, times: Float64Array, k: number, seed: number, step: number, options: UniformSampleOptions = {}): TemporalNeighbors {
    return gatherUniform(this, 'uniform', nodes, times, k, seed, step, options, (node, time) => this.searchBefore(node, time));
  }

  /** A forward-moving cursor over this graph, starting before every entry. */
  cursor(): TemporalCursor {
    return new TemporalCursor(this);
  }
}

/**
 * One pointer per node, moved to each query's time: as training walks through the stream in time order,
 * each pointer only steps forward, one entry at a time, instead of a binary search per query. A query
 * earlier than a node's pointer (a new epoch without reset(), or a batch whose blocks are not in time
 * order) steps it back, so answers always equal the binary search's; `backwardSteps` counts those steps.
 * Keep one cursor per pass over the events: asking a second question about the same batch (say uniform
 * after mostRecent) with the same cursor steps back through that batch. Within a batch, interleave a
 * node's queries by event (src, dst, negative of event i, then of i + 1, ...) rather than in blocks.
 */
export class TemporalCursor {
  readonly csr: TemporalCsr;
  /** Entry index of each node's pointer: its entries before the pointer are before the last query time. */
  private readonly position: Int32Array;
  /** Steps taken backwards since the last reset (0 while queries come in non-decreasing time). */
  backwardSteps = 0;

  constructor(csr: TemporalCsr) {
    this.csr = csr;
    this.position = csr.offsets.slice(0, csr.numNodes);
  }

  /** Back to the start of time (a new epoch). */
  reset(): void {
    this.position.set(this.csr.offsets.subarray(0, this.csr.numNodes));
    this.backwardSteps = 0;
  }

  /** Same as TemporalCsr.searchBefore, moving the node's pointer there. */
  searchBefore(node: number, time: number): number {
    const times = this.csr.times;
    const start = this.csr.offsets[node];
    const end = this.csr.offsets[node + 1];
    let at = this.position[node];
    while (at < end && times[at] < time) at++;
    while (at > start && times[at - 1] >= time) {
      at--;
      this.backwardSteps++;
    }
    this.position[node] = at;
    return at;
  }

  mostRecent(nodes: Int32Array, times: Float64Array, k: number): TemporalNeighbors {
    return gatherMostRecent(this.csr, 'cursor.mostRecent', nodes, times, k, (node, time) => this.searchBefore(node, time));
  }

  uniform(nodes: Int32Array, times: Float64Array, k: number, seed: number, step: number, options: UniformSampleOptions = {}): TemporalNeighbors {
    return gatherUniform(this.csr, 'cursor.uniform', nodes, times, k, seed, step, options, (node, time) => this.searchBefore(node, time));
  }
}

// ---------------------------------------------------------------- shared gathering

function emptyAnswer(count: number, k: number): TemporalNeighbors {
  return {
    k,
    neighbors: new Int32Array(count * k),
    eventIds: new Int32Array(count * k),
    times: new Float64Array(count * k),
    mask: new Float32Array(count * k),
    counts: new Int32Array(count),
  };
}

function checkQueries(csr: TemporalCsr, where: string, nodes: Int32Array, times: Float64Array, k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new Error(`${where}: k must be a non-negative integer, got ${k}`);
  if (nodes.length !== times.length) throw new Error(`${where}: nodes and times must have the same length, got ${nodes.length} and ${times.length}`);
  for (let q = 0; q < nodes.length; q++) {
    if (nodes[q] < 0 || nodes[q] >= csr.numNodes) throw new Error(`${where}: query ${q} has node ${nodes[q]}, outside [0, ${csr.numNodes})`);
    if (Number.isNaN(times[q])) throw new Error(`${where}: query ${q} has time NaN`);
  }
}

function gatherMostRecent(csr: TemporalCsr, where: string, nodes: Int32Array, times: Float64Array, k: number, positionOf: PositionFinder): TemporalNeighbors {
  checkQueries(csr, where, nodes, times, k);
  const out = emptyAnswer(nodes.length, k);
  for (let q = 0; q < nodes.length; q++) {
    const node = nodes[q];
    const end = positionOf(node, times[q]);
    const available = Math.min(k, end - csr.offsets[node]);
    out.counts[q] = available;
    const row = q * k;
    for (let slot = 0; slot < k; slot++) {
      if (slot < available) {
        const entry = end - 1 - slot;
        out.neighbors[row + slot] = csr.neighbors[entry];
        out.eventIds[row + slot] = csr.eventIds[entry];
        out.times[row + slot] = csr.times[entry];
        out.mask[row + slot] = 1;
      } else out.times[row + slot] = times[q];
    }
  }
  return out;
}

function gatherUniform(
  csr: TemporalCsr,
  where: string,
  nodes: Int32Array,
  times: Float64Array,
  k: number,
  seed: number,
  step: number,
  options: UniformSampleOptions,
  positionOf: PositionFinder,
): TemporalNeighbors {
  checkQueries(csr, where, nodes, times, k);
  const keys = options.keys;
  if (keys && keys.length !== nodes.length) throw new Error(`${where}: keys must have one entry per query (${nodes.length}), got ${keys.length}`);
  const stream = options.stream ?? TEMPORAL_NEIGHBOR_STREAM;
  const out = emptyAnswer(nodes.length, k);
  for (let q = 0; q < nodes.length; q++) {
    const node = nodes[q];
    const start = csr.offsets[node];
    const available = positionOf(node, times[q]) - start;
    const row = q * k;
    if (available === 0) {
      out.times.fill(times[q], row, row + k);
      continue;
    }
    out.counts[q] = k;
    const key = keys ? keys[q] : q;
    for (let slot = 0; slot < k; slot++) {
      const draw = Math.floor((rngU32(seed, stream, step, key, slot) / 2 ** 32) * available);
      const entry = start + Math.min(draw, available - 1);
      out.neighbors[row + slot] = csr.neighbors[entry];
      out.eventIds[row + slot] = csr.eventIds[entry];
      out.times[row + slot] = csr.times[entry];
      out.mask[row + slot] = 1;
    }
  }
  return out;
}
