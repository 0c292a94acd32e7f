// TGN's per-node state in host RAM (see memory-store.ts), as MSPipe and TGL keep it: a batch's rows are
// uploaded when it fetches them, and its writes come back by one readback each and land in issue order
// when `settle` says so — exactly the writes beyond the newest k, so a fixed k reads the same state
// whatever the timing (reproducible); `eager` also lands whatever has already arrived. Until a write
// lands, a later batch that fetches the same node reads its older row — that node is stale, and the fetch
// says so. Landing keeps memory moving forward only: a row computed from an older state than the one
// already landed is dropped (its message is still the newest and is kept).

import type { Gpu } from '../../gpu/gpu.ts';
import { fromArray } from '../../tensor/create.ts';
import { concatColumns } from '../../tensor/ops/layout.ts';
import { hostRows, landRows, type HostRows } from './host-rows.ts';
import { advanceIssuedTimes, checkSavedMemory, type FetchedMemory, type MemoryWrite, type SavedMemory, type TgnMemoryStore } from './memory-store.ts';

interface PendingWrite {
  nodes: Uint32Array;
  memoryTimes: Float64Array;
  mailTimes: Float64Array;
  /** The rows read back, once arrived (applied later, in issue order, when settle says so). */
  data: Float32Array | null;
  arrived: Promise<void>;
}

export class HostNodeMemory implements TgnMemoryStore {
  /** Rows and times as landed. */
  readonly rows: HostRows;
  readonly memoryTime: Float64Array;
  readonly mailTime: Float64Array;
  /** Per node: writes issued for it that have not landed. */
  private readonly pendingPerNode: Int32Array;
  private readonly pending: PendingWrite[] = [];
  /** The first failed readback: every later call throws it (the store is then unusable). */
  private failure: Error | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly numNodes: number,
    readonly memoryDim: number,
    readonly mailDim: number,
  ) {
    this.rows = hostRows(numNodes, memoryDim, mailDim);
    this.memoryTime = new Float64Array(numNodes);
    this.mailTime = new Float64Array(numNodes);
    this.pendingPerNode = new Int32Array(numNodes);
  }

  get inFlight(): number {
    return this.pending.length;
  }

  fetch(nodes: Int32Array): FetchedMemory {
    this.throwIfFailed();
    const { memoryDim: d, mailDim: m, rows } = this;
    const memory = new Float32Array(nodes.length * d);
    const mail = new Float32Array(nodes.length * m);
    const sinceMemory = new Float32Array(nodes.length);
    const absorbedTime = new Float64Array(nodes.length);
    const stale = new Uint8Array(nodes.length);
    nodes.forEach((v, p) => {
      memory.set(rows.memory.subarray(v * d, v * d + d), p * d);
      mail.set(rows.mail.subarray(v * m, v * m + m), p * m);
      sinceMemory[p] = rows.mailTime[v] - rows.memoryTime[v];
      absorbedTime[p] = rows.mailTime[v];
      stale[p] = this.pendingPerNode[v] > 0 ? 1 : 0;
    });
    return {
      memory: fromArray(this.gpu, memory, [nodes.length, d], { label: 'fetched memory' }),
      mail: fromArray(this.gpu, mail, [nodes.length, m], { label: 'fetched mail' }),
      sinceMemory,
      absorbedTime,
      stale,
    };
  }

  write(update: MemoryWrite): void {
    this.throwIfFailed();
    const n = update.nodes.length;
    const packed = concatColumns([update.memory, update.mail]);
    const read = this.gpu.read(packed.buffer, 0, n * (this.memoryDim + this.mailDim) * 4);
    const entry: PendingWrite = { nodes: update.nodes.slice(), memoryTimes: update.memoryTimes.slice(), mailTimes: update.mailTimes.slice(), data: null, arrived: Promise.resolve() };
    for (const v of new Set(entry.nodes)) this.pendingPerNode[v]++;
    entry.arrived = read.then(
      (bytes) => {
        entry.data = new Float32Array(bytes);
      },
      (error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    this.pending.push(entry);
    advanceIssuedTimes(this, update);
  }

  /** Lands the oldest pending write (its rows have arrived). */
  private landOldest(): void {
    const entry = this.pending.shift()!;
    landRows(this.rows, this.memoryDim, this.mailDim, entry.nodes, entry.data!, entry.memoryTimes, entry.mailTimes);
    for (const v of new Set(entry.nodes)) this.pendingPerNode[v]--;
  }

  /**
   * Lands writes in issue order until at most `k` are pending (waiting for their readbacks); `eager`
   * then also lands every next one that has already arrived (the freshest memory without waiting).
   */
  async settle(k: number, eager = false): Promise<void> {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`HostNodeMemory.settle: k must be a non-negative integer, got ${k}`);
    while (this.pending.length > k) {
      await this.pending[0].arrived;
      this.throwIfFailed();
      this.landOldest();
    }
    if (eager) while (this.pending.length && this.pending[0].data) this.landOldest();
    this.throwIfFailed();
  }

  reset(): void {
    if (this.pending.length) throw new Error(`HostNodeMemory.reset: ${this.pending.length} writes have not landed (settle(0) first)`);
    for (const a of [this.rows.memory, this.rows.mail, this.rows.memoryTime, this.rows.mailTime, this.memoryTime, this.mailTime]) a.fill(0);
  }

  async save(): Promise<SavedMemory> {
    await this.settle(0);
    return { memory: this.rows.memory.slice(), mail: this.rows.mail.slice(), memoryTime: this.rows.memoryTime.slice(), mailTime: this.rows.mailTime.slice() };
  }

  load(saved: { memory: Float32Array; mail: Float32Array; memoryTime: ArrayLike<number>; mailTime: ArrayLike<number> }): void {
    checkSavedMemory(saved, this, 'HostNodeMemory');
    if (this.pending.length) throw new Error(`HostNodeMemory.load: ${this.pending.length} writes have not landed`);
    this.rows.memory.set(saved.memory);
    this.rows.mail.set(saved.mail);
    for (const times of [this.rows.memoryTime, this.memoryTime]) times.set(saved.memoryTime);
    for (const times of [this.rows.mailTime, this.mailTime]) times.set(saved.mailTime);
  }

  /** Host arrays are garbage-collected; nothing on the device to free. */
  dispose(): void {}

  private throwIfFailed(): void {
    if (this.failure) throw new Error(`TGN host memory: a write-back failed, memory is no longer consistent: ${this.failure.message}`);
  }
}
