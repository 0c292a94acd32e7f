// The messages between a DistTGL trainer and its memory group's owner, over any transport: a read (the
// nodes a position touches → their rows and times) and a write (a first pass's rows for the owner to land).
// Times are float64 (unix seconds need more than f32), sent as u32 pairs. Everything received is checked
// against the memory's size before it is used; a bad message ends the session naming the peer.

import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { WireArray } from '../../dist/wire.ts';
import type { MemoryRows } from './group-memory.ts';

const TAG = {
  readRequest: makeTag(TAG_CHANNEL.temporalMemory, 1),
  readRows: makeTag(TAG_CHANNEL.temporalMemory, 2),
  readTimes: makeTag(TAG_CHANNEL.temporalMemory, 3),
  writeNodes: makeTag(TAG_CHANNEL.temporalMemory, 4),
  writeRows: makeTag(TAG_CHANNEL.temporalMemory, 5),
  writeTimes: makeTag(TAG_CHANNEL.temporalMemory, 6),
} as const;

export interface MemoryShape {
  numNodes: number;
  /** memoryDim + mailDim. */
  width: number;
}

/** Bytes this worker sent on memory messages (reads and writes), counted as the transport counts them. */
export class MemoryLink {
  bytesSent = 0;

  constructor(
    readonly transport: Transport,
    readonly shape: MemoryShape,
  ) {}

  /** Trainer side: the rows of `nodes` from `owner`. */
  async read(owner: number, nodes: Uint32Array<ArrayBuffer>): Promise<MemoryRows> {
    const n = nodes.length;
    await this.send(owner, TAG.readRequest, nodes.slice());
    const [rows, times] = await Promise.all([
      this.transport.recv(owner, TAG.readRows, { kind: 'f32', shape: [n * this.shape.width] }),
      this.transport.recv(owner, TAG.readTimes, { kind: 'u32', shape: [4 * n] }),
    ]);
    const t = new Float64Array((times.data as Uint32Array).slice().buffer);
    return { nodes, rows: rows.data as Float32Array<ArrayBuffer>, memoryTime: t.slice(0, n), mailTime: t.slice(n) };
  }

  /** Owner side: the next read request of `reader`, answered by `serve`. */
  async serveRead(reader: number, serve: (nodes: Uint32Array<ArrayBuffer>) => MemoryRows): Promise<void> {
    const request = await this.transport.recv(reader, TAG.readRequest, { kind: 'u32', maxElements: this.shape.numNodes });
    const nodes = this.checkNodes(reader, request.data as Uint32Array<ArrayBuffer>, 'read');
    const served = serve(nodes);
    await Promise.all([this.send(reader, TAG.readRows, served.rows), this.send(reader, TAG.readTimes, packTimes(served.memoryTime, served.mailTime))]);
  }

  /** Trainer side: a first pass's writes to `owner`. */
  async write(owner: number, update: MemoryRows): Promise<void> {
    await Promise.all([
      this.send(owner, TAG.writeNodes, update.nodes.slice()),
      this.send(owner, TAG.writeRows, update.rows.slice()),
      this.send(owner, TAG.writeTimes, packTimes(update.memoryTime, update.mailTime)),
    ]);
  }

  /** Owner side: the next write of `writer`. */
  async receiveWrite(writer: number): Promise<MemoryRows> {
    const message = await this.transport.recv(writer, TAG.writeNodes, { kind: 'u32', maxElements: 2 * this.shape.numNodes });
    const nodes = this.checkNodes(writer, message.data as Uint32Array<ArrayBuffer>, 'write');
    const n = nodes.length;
    const [rows, times] = await Promise.all([
      this.transport.recv(writer, TAG.writeRows, { kind: 'f32', shape: [n * this.shape.width] }),
      this.transport.recv(writer, TAG.writeTimes, { kind: 'u32', shape: [4 * n] }),
    ]);
    const t = new Float64Array((times.data as Uint32Array).slice().buffer);
    const update = { nodes, rows: rows.data as Float32Array<ArrayBuffer>, memoryTime: t.slice(0, n), mailTime: t.slice(n) };
    for (let j = 0; j < n; j++) {
      if (!Number.isFinite(update.memoryTime[j]) || !Number.isFinite(update.mailTime[j])) this.refuse(writer, `write: time of node ${nodes[j]} is not a finite number`);
    }
    for (const v of update.rows) if (!Number.isFinite(v)) this.refuse(writer, 'write: a memory row holds NaN or an infinity');
    return update;
  }

  private async send(peer: number, tag: number, data: WireArray): Promise<void> {
    const bytes = data.byteLength;
    await this.transport.send(peer, tag, data);
    this.bytesSent += bytes;
  }

  private checkNodes(peer: number, nodes: Uint32Array<ArrayBuffer>, what: string): Uint32Array<ArrayBuffer> {
    for (const v of nodes) if (!(v < this.shape.numNodes)) this.refuse(peer, `${what}: node ${v} outside [0, ${this.shape.numNodes})`);
    return nodes;
  }

  private refuse(peer: number, reason: string): never {
    const message = `trainer ${this.transport.rank}: a memory ${reason} from trainer ${peer}`;
    this.transport.abort(message);
    throw new Error(message);
  }
}

/** memoryTime then mailTime, float64, as u32 words. */
function packTimes(memoryTime: Float64Array, mailTime: Float64Array): Uint32Array<ArrayBuffer> {
  const both = new Float64Array(memoryTime.length * 2);
  both.set(memoryTime);
  both.set(mailTime, memoryTime.length);
  return new Uint32Array(both.buffer);
}
