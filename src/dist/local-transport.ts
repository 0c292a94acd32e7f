// In-process transport: every worker lives in this process with its own adapter and GPUDevice, and a
// message is handed to the peer's transport object without copying (send takes ownership of the
// buffer). Delivery is deferred to the next task (setImmediate in Node; a MessageChannel in browsers, where
// chained setTimeout(0) is clamped to 4 ms) so that a sender never runs the receiver's code inline,
// as with a real link.

import { BaseTransport, type TransportOptions } from './transport.ts';
import type { WireArray, WireHeader } from './wire.ts';
import { nextTask } from '../gpu/next-task.ts';

export class LocalTransport extends BaseTransport {
  readonly name = 'local' as const;
  private peers: LocalTransport[] = [];
  private isClosed = false;

  /** N transports linked to each other, rank i at index i. */
  static group(size: number, options: TransportOptions = {}): LocalTransport[] {
    const group = Array.from({ length: size }, (_, rank) => new LocalTransport(rank, size, options));
    for (const t of group) t.peers = group;
    return group;
  }

  protected transmit(peer: number, header: WireHeader, data: WireArray): Promise<void> {
    const target = this.peers[peer];
    if (this.isClosed) return Promise.reject(new Error(`worker ${this.rank}: local link closed`));
    if (!target) return Promise.reject(new Error(`worker ${this.rank}: no local link to peer ${peer}`));
    nextTask(() => {
      if (target.isClosed) return;
      if (target.admit(this.rank, header)) target.deliver(this.rank, header, data);
    });
    return Promise.resolve();
  }

  protected async closeLinks(): Promise<void> {
    this.isClosed = true;
    // Peers learn that this worker is gone, as they would from a closed channel; queued sends still
    // arrive first because they were scheduled earlier.
    for (const peer of this.peers) {
      if (peer !== this) nextTask(() => peer.linkClosed(this.rank));
    }
  }

  /** Test hook: delivers a raw (possibly invalid) header and payload to this worker as if from `peer`. */
  injectFrom(peer: number, header: WireHeader, data: WireArray): void {
    if (this.admit(peer, header)) this.deliver(peer, header, data);
  }
}

