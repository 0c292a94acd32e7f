// TGN's per-node state on the GPU (see memory-store.ts): rows [N, d] read by gathers and written by
// last-write-wins scatters, in queue order — a batch always sees every earlier batch's writes, so this
// store is never stale. Not parameters: TGN detaches memory after each batch.

import type { Gpu } from '../../gpu/gpu.ts';
import { fromArray, zeros } from '../../tensor/create.ts';
import { fill } from '../../tensor/ops/elementwise.ts';
import { scatterLastWrite } from '../../tensor/ops/memory.ts';
import { gatherRows } from '../../tensor/ops/rows.ts';
import { keep } from '../../tensor/scope.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { advanceIssuedTimes, checkSavedMemory, type FetchedMemory, type MemoryWrite, type SavedMemory, type TgnMemoryStore } from './memory-store.ts';

export class NodeMemory implements TgnMemoryStore {
  readonly memory: Tensor;
  readonly mail: Tensor;
  readonly memoryTime: Float64Array;
  readonly mailTime: Float64Array;
  readonly inFlight = 0;

  constructor(
    readonly gpu: Gpu,
    readonly numNodes: number,
    readonly memoryDim: number,
    readonly mailDim: number,
  ) {
    this.memory = keep(zeros(gpu, [numNodes, memoryDim], 'f32', 'tgn memory'));
    this.mail = keep(zeros(gpu, [numNodes, mailDim], 'f32', 'tgn mailbox'));
    this.memoryTime = new Float64Array(numNodes);
    this.mailTime = new Float64Array(numNodes);
  }

  fetch(nodes: Int32Array): FetchedMemory {
    const index = fromArray(this.gpu, Uint32Array.from(nodes), [nodes.length], { dtype: 'u32' });
    return {
      memory: gatherRows(this.memory, index),
      mail: gatherRows(this.mail, index),
      sinceMemory: Float32Array.from(nodes, (v) => this.mailTime[v] - this.memoryTime[v]),
      absorbedTime: Float64Array.from(nodes, (v) => this.mailTime[v]),
      stale: null,
    };
  }

  write(update: MemoryWrite): void {
    const nodes = fromArray(this.gpu, update.nodes, [update.nodes.length], { dtype: 'u32' });
    scatterLastWrite(this.memory, update.memory, nodes);
    scatterLastWrite(this.mail, update.mail, nodes);
    advanceIssuedTimes(this, update);
  }

  async settle(): Promise<void> {}

  reset(): void {
    fill(this.memory, 0);
    fill(this.mail, 0);
    this.memoryTime.fill(0);
    this.mailTime.fill(0);
  }

  async save(): Promise<SavedMemory> {
    return {
      memory: new Float32Array(await this.memory.toArray()),
      mail: new Float32Array(await this.mail.toArray()),
      memoryTime: this.memoryTime.slice(),
      mailTime: this.mailTime.slice(),
    };
  }

  load(saved: { memory: Float32Array; mail: Float32Array; memoryTime: ArrayLike<number>; mailTime: ArrayLike<number> }): void {
    checkSavedMemory(saved, this, 'NodeMemory');
    this.gpu.overwrite(this.memory.buffer, saved.memory);
    this.gpu.overwrite(this.mail.buffer, saved.mail);
    this.memoryTime.set(saved.memoryTime);
    this.mailTime.set(saved.mailTime);
  }

  dispose(): void {
    this.memory.dispose();
    this.mail.dispose();
  }
}
