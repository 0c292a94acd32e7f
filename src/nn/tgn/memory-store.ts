// Where TGN's per-node state lives, behind one interface: memory s_v with the time it reflects and a
// one-slot mailbox (last message with its timestamp). NodeMemory keeps the rows on the GPU (reads and
// writes are ordered by the queue, so a batch always sees the previous batch's writes); HostNodeMemory
// keeps them in host RAM, as MSPipe and TGL do for graphs whose memory does not fit the device (a
// browser binds at most 128 MiB per storage buffer by default), fetching a batch's rows by upload and
// landing its writes by readback — which is where staleness comes from and what MSPipe's pipeline hides.
// Times are float64 on the CPU in both (unix seconds need more than f32's 24 bits; every Δt and every
// "never back in time" check is computed there exactly).

import type { Tensor } from '../../tensor/tensor.ts';

export class MemoryOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryOrderError';
  }
}

/** What a batch reads for its distinct nodes (rows in the order asked). */
export interface FetchedMemory {
  memory: Tensor;
  mail: Tensor;
  /** Per row: the mailbox message's time minus the memory's time (what φ encodes when the mail is absorbed). */
  sinceMemory: Float32Array;
  /** Per row: the time the memory will reflect once it absorbs the mail (the mail's time). */
  absorbedTime: Float64Array;
  /** Per row: whether the row is stale — a write of an earlier batch for this node has not landed yet. */
  stale: Uint8Array | null;
}

/** A batch's writes, in event order (later entries win): each node's new memory row and its new message. */
export interface MemoryWrite {
  nodes: Uint32Array;
  memory: Tensor;
  mail: Tensor;
  /** Per entry: the time the new memory row reflects. */
  memoryTimes: Float64Array;
  /** Per entry: the new message's time. */
  mailTimes: Float64Array;
}

export interface SavedMemory {
  memory: Float32Array;
  mail: Float32Array;
  memoryTime: Float64Array;
  mailTime: Float64Array;
}

export interface TgnMemoryStore {
  readonly numNodes: number;
  readonly memoryDim: number;
  readonly mailDim: number;
  /**
   * Times as every write issued so far leaves them (whether or not a host write has landed): the order
   * check reads these, so an event older than a node's message is refused the same way in every mode.
   */
  readonly memoryTime: Float64Array;
  readonly mailTime: Float64Array;
  /** Rows of `nodes` (tensors in the caller's scope). */
  fetch(nodes: Int32Array): FetchedMemory;
  /** Records a batch's writes (the GPU ones at once; host ones land when their readback arrives). */
  write(update: MemoryWrite): void;
  /**
   * Lands writes until at most `k` are still to land, and with `eager` also those already read back
   * (resolves at once for device memory).
   */
  settle(k: number, eager?: boolean): Promise<void>;
  /** Writes issued and not yet landed. */
  readonly inFlight: number;
  /** Back to the start of time (every epoch starts from empty memory). */
  reset(): void;
  save(): Promise<SavedMemory>;
  load(saved: { memory: Float32Array; mail: Float32Array; memoryTime: ArrayLike<number>; mailTime: ArrayLike<number> }): void;
  dispose(): void;
}

/** The issued times after `update` (both stores keep them the same way): memory moves forward only, messages are the latest. */
export function advanceIssuedTimes(store: { memoryTime: Float64Array; mailTime: Float64Array }, update: MemoryWrite): void {
  const { nodes, memoryTimes, mailTimes } = update;
  for (let j = 0; j < nodes.length; j++) {
    const v = nodes[j];
    if (memoryTimes[j] > store.memoryTime[v]) store.memoryTime[v] = memoryTimes[j];
    store.mailTime[v] = mailTimes[j];
  }
}

export function checkSavedMemory(saved: { memory: Float32Array; mail: Float32Array; memoryTime: ArrayLike<number>; mailTime: ArrayLike<number> }, store: TgnMemoryStore, what: string): void {
  const { numNodes, memoryDim, mailDim } = store;
  if (saved.memory.length !== numNodes * memoryDim || saved.mail.length !== numNodes * mailDim || saved.memoryTime.length !== numNodes || saved.mailTime.length !== numNodes) {
    throw new RangeError(`${what}.load: saved state does not fit ${numNodes} nodes × memory ${memoryDim}, mail ${mailDim}`);
  }
}
