// A sub-group of a transport's ranks seen as a transport of its own: rank i of the group is parent rank
// members[i]. Collectives and engines written for "ranks 0..size−1" then run unchanged inside a group
// (a hybrid pipeline's stage replicas, one pipeline among several). Messages, byte counters, failures and
// aborts are the parent's: a failure anywhere fails every group of that worker, as one session should.
// Two groups of one parent may share tags only when their peers differ (matching is per peer and tag).

import type { Expectation, PeerError, TensorMessage, Transport, TransportStats } from './transport.ts';
import type { WireArray } from './wire.ts';

export class GroupTransport implements Transport {
  readonly rank: number;

  constructor(
    readonly parent: Transport,
    /** Parent ranks of the group's members, group rank i at index i; must include the parent's own rank. */
    readonly members: readonly number[],
  ) {
    const seen = new Set<number>();
    for (const m of members) {
      if (!Number.isInteger(m) || m < 0 || m >= parent.size || seen.has(m)) throw new RangeError(`GroupTransport: members [${members}] must be distinct ranks in 0..${parent.size - 1}`);
      seen.add(m);
    }
    this.rank = members.indexOf(parent.rank);
    if (this.rank < 0) throw new RangeError(`GroupTransport: worker ${parent.rank} is not among the members [${members}]`);
  }

  get name(): Transport['name'] {
    return this.parent.name;
  }

  get size(): number {
    return this.members.length;
  }

  /** The parent's counters for the members only, by group rank (a fresh copy: read it before and after). */
  get stats(): TransportStats {
    const pick = (a: number[]) => this.members.map((m) => a[m]);
    const s = this.parent.stats;
    return { bytesSent: pick(s.bytesSent), bytesReceived: pick(s.bytesReceived), messagesSent: pick(s.messagesSent), messagesReceived: pick(s.messagesReceived) };
  }

  get failure(): PeerError | null {
    return this.parent.failure;
  }

  send(peer: number, tag: number, data: WireArray, shape?: readonly number[]): Promise<void> {
    return this.parent.send(this.parentRank(peer, 'send'), tag, data, shape);
  }

  recv(peer: number, tag: number, expect?: Expectation): Promise<TensorMessage> {
    return this.parent.recv(this.parentRank(peer, 'recv'), tag, expect);
  }

  onFailure(listener: (error: PeerError) => void): () => void {
    return this.parent.onFailure(listener);
  }

  refuseUnclaimed(where: string): PeerError | null {
    return this.parent.refuseUnclaimed?.(where) ?? null;
  }

  abort(reason: string): void {
    this.parent.abort(reason);
  }

  /** Closes the parent (closing twice is a no-op): a worker's groups end together. */
  close(): Promise<void> {
    return this.parent.close();
  }

  private parentRank(peer: number, op: string): number {
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.members.length || peer === this.rank) {
      throw new RangeError(`worker ${this.parent.rank} ${op}: group peer must be another rank in 0..${this.members.length - 1}, got ${peer}`);
    }
    return this.members[peer];
  }
}
