import { rngU32 } from '../tensor/random.ts';
import type { EventStream } from './event-stream.ts';

/**
 * Chronological train / validation / test split of an event stream, with TGN's inductive protocol
 * (Rossi et al. 2020, `utils/data_processing.py::get_data`):
 *
 * 1. Cuts: `valTime` and `testTime` are the `train` and `train + val` quantiles of the event times
 *    (numpy's default linear interpolation, as `np.quantile(ts, [0.70, 0.85])`).
 *    train: t ≤ valTime; val: valTime < t ≤ testTime; test: t > testTime. Ties at a cut therefore go to
 *    the EARLIER split: events at one time are never split between two sets (so no set learns from a
 *    same-time event of the next); with heavy ties a split can be smaller than its fraction, even empty.
 * 2. Held-out nodes: among the nodes of events after valTime (val or test events), sample
 *    floor(newNodeFraction × number of distinct nodes in the stream) nodes, seeded. The count is a
 *    fraction of ALL nodes, as in TGN's code (`int(0.1 * n_total_unique_nodes)`), capped at the
 *    candidates. Every training event touching a held-out node is removed from train.
 * 3. New nodes: every node without a training event: the held-out ones plus the nodes first seen after
 *    the validation cut (and nodes whose only training events were removed). inductiveVal / inductiveTest
 *    are the val / test events with at least one new node. val and test themselves keep all their events
 *    (the transductive evaluation).
 *
 * TGN draws with Python's `random.seed(2020)`; here the draw is a seeded partial Fisher–Yates shuffle of
 * the candidates in increasing id order keyed by rngU32, so the same seed gives the same sets on every
 * platform and batch layout (not the same nodes as TGN's Python run).
 */

export interface TemporalSplitOptions {
  /** Fraction of time (by event quantile) for training. Default 0.70. */
  train?: number;
  /** Fraction for validation; test gets the rest. Default 0.15. */
  val?: number;
  /** Seed of the held-out node draw. Default 0. */
  seed?: number;
  /** Held-out nodes as a fraction of all distinct nodes. Default 0.1; 0 = purely transductive. */
  newNodeFraction?: number;
}

export interface TemporalSplit {
  /** Events with t ≤ valTime go to train, valTime < t ≤ testTime to val, the rest to test. */
  valTime: number;
  testTime: number;
  /** Event ids, increasing (hence in time order). */
  train: Int32Array<ArrayBuffer>;
  val: Int32Array<ArrayBuffer>;
  test: Int32Array<ArrayBuffer>;
  /** Val / test events with at least one node in newNodes. */
  inductiveVal: Int32Array<ArrayBuffer>;
  inductiveTest: Int32Array<ArrayBuffer>;
  /** The sampled nodes whose training events were removed (increasing). */
  heldOutNodes: Int32Array<ArrayBuffer>;
  /** All nodes of the stream that have no training event (increasing); includes heldOutNodes. */
  newNodes: Int32Array<ArrayBuffer>;
  /** 1 for the nodes in newNodes, per node id (length numNodes). */
  isNewNode: Uint8Array<ArrayBuffer>;
  /** Events in the training window (t ≤ valTime) left out because they touch a held-out node. */
  droppedTrainEvents: number;
}

/** RNG stream of the held-out node draw (one of src/tensor/random.ts's RNG_STREAM bases would be nicer). */
export const TEMPORAL_SPLIT_STREAM = 0x6000;

export function splitEvents(stream: EventStream, options: TemporalSplitOptions = {}): TemporalSplit {
  const trainFraction = options.train ?? 0.7;
  const valFraction = options.val ?? 0.15;
  const seed = options.seed ?? 0;
  const newNodeFraction = options.newNodeFraction ?? 0.1;
  const where = 'splitEvents';
  if (!(trainFraction > 0 && trainFraction < 1)) throw new Error(`${where}: train must be in (0, 1), got ${trainFraction}`);
  if (!(valFraction >= 0 && trainFraction + valFraction < 1)) {
    throw new Error(`${where}: val must be ≥ 0 with train + val < 1, got train ${trainFraction}, val ${valFraction}`);
  }
  if (!(newNodeFraction >= 0 && newNodeFraction <= 1)) throw new Error(`${where}: newNodeFraction must be in [0, 1], got ${newNodeFraction}`);
  if (!Number.isInteger(seed)) throw new Error(`${where}: seed must be an integer, got ${seed}`);

  const { numEvents, numNodes, src, dst, t } = stream;
  if (numEvents === 0) throw new Error(`${where}: the stream "${stream.name}" has no events`);
  for (let i = 1; i < numEvents; i++) {
    if (t[i] < t[i - 1]) throw new Error(`${where}: events of "${stream.name}" are not in time order (event ${i} at t = ${t[i]} after t = ${t[i - 1]})`);
  }
  const valTime = quantileOfSorted(t, trainFraction);
  const testTime = quantileOfSorted(t, trainFraction + valFraction);

  // Nodes of the events after the validation cut, and all nodes of the stream.
  const inLaterEvents = new Uint8Array(numNodes);
  const inStream = new Uint8Array(numNodes);
  for (let i = 0; i < numEvents; i++) {
    inStream[src[i]] = inStream[dst[i]] = 1;
    if (t[i] > valTime) inLaterEvents[src[i]] = inLaterEvents[dst[i]] = 1;
  }
  const candidates = nodesWhere(inLaterEvents);
  const numDistinct = nodesWhere(inStream).length;
  const heldOutNodes = sampleWithoutReplacement(candidates, Math.min(candidates.length, Math.floor(newNodeFraction * numDistinct)), seed);
  const isHeldOut = new Uint8Array(numNodes);
  for (const node of heldOutNodes) isHeldOut[node] = 1;

  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  let droppedTrainEvents = 0;
  const inTrain = new Uint8Array(numNodes);
  for (let i = 0; i < numEvents; i++) {
    if (t[i] <= valTime) {
      if (isHeldOut[src[i]] || isHeldOut[dst[i]]) {
        droppedTrainEvents++;
        continue;
      }
      train.push(i);
      inTrain[src[i]] = inTrain[dst[i]] = 1;
    } else if (t[i] <= testTime) val.push(i);
    else test.push(i);
  }

  const isNewNode = new Uint8Array(numNodes);
  for (let node = 0; node < numNodes; node++) isNewNode[node] = inStream[node] && !inTrain[node] ? 1 : 0;
  const touchesNew = (i: number) => isNewNode[src[i]] === 1 || isNewNode[dst[i]] === 1;
  return {
    valTime,
    testTime,
    train: Int32Array.from(train),
    val: Int32Array.from(val),
    test: Int32Array.from(test),
    inductiveVal: Int32Array.from(val.filter(touchesNew)),
    inductiveTest: Int32Array.from(test.filter(touchesNew)),
    heldOutNodes,
    newNodes: nodesWhere(isNewNode),
    isNewNode,
    droppedTrainEvents,
  };
}

/**
 * numpy's default (linear) quantile of values sorted ascending, with numpy's arithmetic
 * (virtual index n·q + (1 − q) − 1, and the lerp taken from the upper end when the weight is ≥ 0.5),
 * so cuts equal `np.quantile` to the last bit and ties at a cut land on the same side.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantileOfSorted: no values');
  const position = Math.min(Math.max(n * q + (1 + q * (1 - 1 - 1)) - 1, 0), n - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  const weight = position - below;
  const a = sorted[below];
  const b = sorted[above];
  const difference = b - a;
  return weight >= 0.5 ? b - difference * (1 - weight) : a + difference * weight;
}

function nodesWhere(flags: Uint8Array): Int32Array<ArrayBuffer> {
  let count = 0;
  for (const flag of flags) count += flag;
  const nodes = new Int32Array(count);
  let k = 0;
  for (let node = 0; node < flags.length; node++) if (flags[node]) nodes[k++] = node;
  return nodes;
}

/** `count` of the items, seeded: the first `count` slots of a keyed Fisher–Yates shuffle, sorted. */
function sampleWithoutReplacement(items: Int32Array, count: number, seed: number): Int32Array<ArrayBuffer> {
  const pool = items.slice();
  for (let i = 0; i < count; i++) {
    const u = rngU32(seed, TEMPORAL_SPLIT_STREAM, 0, i, 0) / 2 ** 32;
    const j = i + Math.min(Math.floor(u * (pool.length - i)), pool.length - i - 1);
    const swap = pool[i];
    pool[i] = pool[j];
    pool[j] = swap;
  }
  return pool.slice(0, count).sort();
}

/** Refuses a split with an empty training, validation or test set (too few events to train and evaluate). */
export function requireEverySet(split: TemporalSplit, stream: { name: string; numEvents: number }): void {
  const [train, val, test] = [split.train.length, split.val.length, split.test.length];
  if (train && val && test) return;
  throw new Error(
    `${stream.numEvents} events of ${stream.name} split into ${train} training, ${val} validation and ${test} test events; every set needs events: train on more events`,
  );
}
