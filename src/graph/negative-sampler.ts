import { RNG_STREAM, rngU32 } from '../tensor/random.ts';
import type { EventStream } from './event-stream.ts';

/**
 * Negative destinations for link prediction: for each event, nodes drawn uniformly from a pool.
 * Draw j of event e in step s is rngU32(seed, stream, s, e, j), so an event gets the same negatives
 * whatever batch it lands in and in whatever order, and the GPU could draw the same ones
 * (shaders/random.wgsl hashes the same keys). As in TGN and TGL, a negative may equal the event's source
 * or its true destination; nothing is excluded.
 *
 * Pools:
 * - 'all': every node id 0..numNodes−1 (TGL's NegLinkSampler);
 * - 'seen': the nodes of events 0..e (the event's own included), in order of first appearance. With the
 *   loader's default id remapping that is exactly the ids 0..k−1;
 * - a list of node ids, e.g. the distinct destinations of the training events (TGN's RandEdgeSampler).
 */

export type NegativePool = 'all' | 'seen' | Int32Array;

export interface NegativeSamplerOptions {
  seed: number;
  /** Default 'all'. */
  pool?: NegativePool;
  /** RNG stream; default RNG_STREAM.negatives. Use different streams for train and evaluation negatives if wanted. */
  stream?: number;
}

export class NegativeSampler {
  readonly seed: number;
  readonly stream: number;
  private readonly numEvents: number;
  /** Candidate nodes in pool order ('seen': order of first appearance). */
  private readonly candidates: Int32Array;
  /** 'seen' only: number of candidates available at each event; null = all of them. */
  private readonly availableAt: Int32Array | null;

  constructor(events: EventStream, options: NegativeSamplerOptions) {
    const pool = options.pool ?? 'all';
    if (!Number.isInteger(options.seed)) throw new Error(`NegativeSampler: seed must be an integer, got ${options.seed}`);
    this.seed = options.seed;
    this.stream = options.stream ?? RNG_STREAM.negatives;
    this.numEvents = events.numEvents;
    if (pool === 'all') {
      this.candidates = new Int32Array(events.numNodes);
      for (let node = 0; node < events.numNodes; node++) this.candidates[node] = node;
      this.availableAt = null;
    } else if (pool === 'seen') {
      const seen = new Uint8Array(events.numNodes);
      const order: number[] = [];
      this.availableAt = new Int32Array(events.numEvents);
      for (let e = 0; e < events.numEvents; e++) {
        for (const node of [events.src[e], events.dst[e]]) {
          if (!seen[node]) {
            seen[node] = 1;
            order.push(node);
          }
        }
        this.availableAt[e] = order.length;
      }
      this.candidates = Int32Array.from(order);
    } else if (pool instanceof Int32Array) {
      for (const node of pool) {
        if (node < 0 || node >= events.numNodes) throw new Error(`NegativeSampler: pool node ${node} outside [0, ${events.numNodes})`);
      }
      this.candidates = pool.slice();
      this.availableAt = null;
    } else {
      throw new Error(`NegativeSampler: pool must be 'all', 'seen' or an Int32Array of node ids, got ${String(pool)}`);
    }
    if (this.candidates.length === 0) throw new Error('NegativeSampler: the pool of negative nodes is empty');
  }

  /** eventIds.length × perEvent negatives, row-major (draws of one event together). */
  sample(eventIds: Int32Array, step: number, perEvent = 1): Int32Array<ArrayBuffer> {
    if (!Number.isInteger(perEvent) || perEvent < 1) throw new Error(`NegativeSampler.sample: perEvent must be a positive integer, got ${perEvent}`);
    if (!Number.isInteger(step)) throw new Error(`NegativeSampler.sample: step must be an integer, got ${step}`);
    const out = new Int32Array(eventIds.length * perEvent);
    for (let i = 0; i < eventIds.length; i++) {
      const event = eventIds[i];
      if (event < 0 || event >= this.numEvents) throw new Error(`NegativeSampler.sample: event id ${event} outside [0, ${this.numEvents})`);
      const size = this.availableAt ? this.availableAt[event] : this.candidates.length;
      for (let j = 0; j < perEvent; j++) {
        const draw = Math.floor((rngU32(this.seed, this.stream, step, event, j) / 2 ** 32) * size);
        out[i * perEvent + j] = this.candidates[Math.min(draw, size - 1)];
      }
    }
    return out;
  }
}
