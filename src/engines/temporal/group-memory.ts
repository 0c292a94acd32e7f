// A DistTGL memory group's node memory: the owner's table (host rows, served in a fixed order — see
// disttgl-trainer.ts), and a trainer's snapshot of the rows its current batch reads, which is the node
// memory store the batch runner records against (TgnMemoryStore), so one batch's code serves every mode.
// The owner's table can record every operation (who, which iteration, batch and pass) for tests to check
// the order rules.

import type { Gpu } from '../../gpu/gpu.ts';
import { fromArray } from '../../tensor/create.ts';
import { concatColumns } from '../../tensor/ops/layout.ts';
import { hostRows, landRows, resetRows, type HostRows } from '../../nn/tgn/host-rows.ts';
import { advanceIssuedTimes, type FetchedMemory, type MemoryWrite, type SavedMemory, type TgnMemoryStore } from '../../nn/tgn/memory-store.ts';

/** Rows of some nodes: [memory ‖ mail] per node, with the times they reflect. */
export interface MemoryRows {
  nodes: Uint32Array<ArrayBuffer>;
  /** [nodes.length, memoryDim + mailDim]. */
  rows: Float32Array<ArrayBuffer>;
  memoryTime: Float64Array<ArrayBuffer>;
  mailTime: Float64Array<ArrayBuffer>;
}

/** What a memory owner did, in order (instrumentation). */
export interface OwnerOperation {
  op: 'reset' | 'read' | 'write';
  trainer: number;
  iteration: number;
  batch: number;
  position: number;
  pass: number;
  /** The nodes read or written. */
  nodes?: Uint32Array;
}

export class GroupMemoryTable {
  readonly rows: HostRows;
  /** Every operation in the order applied, when instrumented. */
  readonly log: OwnerOperation[] | null;

  constructor(
    readonly numNodes: number,
    readonly memoryDim: number,
    readonly mailDim: number,
    instrument = false,
  ) {
    this.rows = hostRows(numNodes, memoryDim, mailDim);
    this.log = instrument ? [] : null;
  }

  read(nodes: Uint32Array<ArrayBuffer>, who?: Omit<OwnerOperation, 'op'>): MemoryRows {
    const { memoryDim: d, mailDim: m, rows } = this;
    const width = d + m;
    const out = new Float32Array(nodes.length * width);
    const memoryTime = new Float64Array(nodes.length);
    const mailTime = new Float64Array(nodes.length);
    nodes.forEach((v, p) => {
      if (!(v < this.numNodes)) throw new RangeError(`memory read: node ${v} outside [0, ${this.numNodes})`);
      out.set(rows.memory.subarray(v * d, v * d + d), p * width);
      out.set(rows.mail.subarray(v * m, v * m + m), p * width + d);
      memoryTime[p] = rows.memoryTime[v];
      mailTime[p] = rows.mailTime[v];
    });
    if (who) this.log?.push({ op: 'read', ...who, nodes: nodes.slice() });
    return { nodes, rows: out, memoryTime, mailTime };
  }

  /** Lands a trainer's writes (each node at most once per logical batch, by the write rule). */
  write(update: MemoryRows, who?: Omit<OwnerOperation, 'op'>): void {
    for (const v of update.nodes) if (!(v < this.numNodes)) throw new RangeError(`memory write: node ${v} outside [0, ${this.numNodes})`);
    landRows(this.rows, this.memoryDim, this.mailDim, update.nodes, update.rows, update.memoryTime, update.mailTime);
    if (who) this.log?.push({ op: 'write', ...who, nodes: update.nodes.slice() });
  }

  reset(who?: Omit<OwnerOperation, 'op'>): void {
    resetRows(this.rows);
    if (who) this.log?.push({ op: 'reset', ...who });
  }

  /** The whole table (evaluation and checkpoints start from a copy). */
  copy(): SavedMemory {
    return { memory: this.rows.memory.slice(), mail: this.rows.mail.slice(), memoryTime: this.rows.memoryTime.slice(), mailTime: this.rows.mailTime.slice() };
  }
}

/**
 * The memory a trainer's batch reads: the rows of the nodes it touches as the owner served them (one read
 * per position, used by all j passes), and its writes, read back from the device for the owner. Not a
 * whole memory: fetching a node outside the snapshot is an error.
 */
export class SnapshotMemory implements TgnMemoryStore {
  readonly memoryTime: Float64Array;
  readonly mailTime: Float64Array;
  private readonly position: Int32Array;
  private held: MemoryRows | null = null;
  private pending: Array<Promise<MemoryRows>> = [];

  constructor(
    readonly gpu: Gpu,
    readonly numNodes: number,
    readonly memoryDim: number,
    readonly mailDim: number,
  ) {
    this.memoryTime = new Float64Array(numNodes);
    this.mailTime = new Float64Array(numNodes);
    this.position = new Int32Array(numNodes).fill(-1);
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** Replaces the snapshot with `read` (the rows one position's passes use). */
  hold(read: MemoryRows): void {
    if (this.held) for (const v of this.held.nodes) this.position[v] = -1;
    read.nodes.forEach((v, p) => {
      this.position[v] = p;
      this.memoryTime[v] = read.memoryTime[p];
      this.mailTime[v] = read.mailTime[p];
    });
    this.held = read;
  }

  fetch(nodes: Int32Array): FetchedMemory {
    const held = this.held;
    if (!held) throw new Error('SnapshotMemory.fetch: no rows held (the trainer reads its position first)');
    const { memoryDim: d, mailDim: m } = this;
    const width = d + m;
    const memory = new Float32Array(nodes.length * d);
    const mail = new Float32Array(nodes.length * m);
    const sinceMemory = new Float32Array(nodes.length);
    const absorbedTime = new Float64Array(nodes.length);
    nodes.forEach((v, p) => {
      const at = this.position[v];
      if (at < 0) throw new Error(`SnapshotMemory.fetch: node ${v} is not in the rows this trainer read`);
      memory.set(held.rows.subarray(at * width, at * width + d), p * d);
      mail.set(held.rows.subarray(at * width + d, (at + 1) * width), p * m);
      sinceMemory[p] = held.mailTime[at] - held.memoryTime[at];
      absorbedTime[p] = held.mailTime[at];
    });
    return {
      memory: fromArray(this.gpu, memory, [nodes.length, d], { label: 'fetched memory' }),
      mail: fromArray(this.gpu, mail, [nodes.length, m], { label: 'fetched mail' }),
      sinceMemory,
      absorbedTime,
      stale: null,
    };
  }

  write(update: MemoryWrite): void {
    const n = update.nodes.length;
    const packed = concatColumns([update.memory, update.mail]);
    const nodes = update.nodes.slice();
    const memoryTime = update.memoryTimes.slice();
    const mailTime = update.mailTimes.slice();
    const read = this.gpu.read(packed.buffer, 0, n * (this.memoryDim + this.mailDim) * 4).then((bytes) => ({ nodes, rows: new Float32Array(bytes), memoryTime, mailTime }));
    read.catch(() => {}); // awaited by takeWrites
    this.pending.push(read);
    advanceIssuedTimes(this, update);
  }

  /** The writes recorded since the last call, read back (in order). */
  async takeWrites(): Promise<MemoryRows[]> {
    const pending = this.pending;
    this.pending = [];
    return Promise.all(pending);
  }

  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }

  reset(): void {
    if (this.pending.length) throw new Error(`SnapshotMemory.reset: ${this.pending.length} writes not taken`);
    if (this.held) for (const v of this.held.nodes) this.position[v] = -1;
    this.held = null;
    this.memoryTime.fill(0);
    this.mailTime.fill(0);
  }

  save(): Promise<SavedMemory> {
    return Promise.reject(new Error("a trainer's snapshot holds only its batch's rows; save the memory owner's table (GroupMemoryTable.copy) instead"));
  }

  load(): void {
    throw new Error("a trainer's snapshot is filled by hold() with the owner's rows, not loaded from a saved memory");
  }

  dispose(): void {}
}

/** Keeps the rows of `write` whose node `keep` accepts (mini-batch parallelism's last-occurrence rule). */
export function filterRows(write: MemoryRows, width: number, keep: (node: number) => boolean): MemoryRows {
  const picked: number[] = [];
  write.nodes.forEach((v, j) => {
    if (keep(v)) picked.push(j);
  });
  if (picked.length === write.nodes.length) return write;
  const rows = new Float32Array(picked.length * width);
  picked.forEach((j, p) => rows.set(write.rows.subarray(j * width, (j + 1) * width), p * width));
  return {
    nodes: Uint32Array.from(picked, (j) => write.nodes[j]),
    rows,
    memoryTime: Float64Array.from(picked, (j) => write.memoryTime[j]),
    mailTime: Float64Array.from(picked, (j) => write.mailTime[j]),
  };
}

/** Several writes of one trainer as one (in order). */
export function concatRows(writes: MemoryRows[], width: number): MemoryRows {
  if (writes.length === 1) return writes[0];
  const n = writes.reduce((s, w) => s + w.nodes.length, 0);
  const out: MemoryRows = { nodes: new Uint32Array(n), rows: new Float32Array(n * width), memoryTime: new Float64Array(n), mailTime: new Float64Array(n) };
  let at = 0;
  for (const w of writes) {
    out.nodes.set(w.nodes, at);
    out.rows.set(w.rows, at * width);
    out.memoryTime.set(w.memoryTime, at);
    out.mailTime.set(w.mailTime, at);
    at += w.nodes.length;
  }
  return out;
}
