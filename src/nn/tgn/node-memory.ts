// TGN's per-node state: memory s_v (N × d) with the time it reflects, and a one-slot mailbox (the last
// message m_v with its timestamp). Rows live on the GPU; times are kept on the CPU in float64 (unix
// seconds need more than f32's 24 bits, and every Δt and every "never back in time" check is computed
// there exactly). Not parameters: TGN detaches memory after each batch.

import type { Gpu } from '../../gpu/gpu.ts';
import { zeros } from '../../tensor/create.ts';
import { fill } from '../../tensor/ops/elementwise.ts';
import { keep } from '../../tensor/scope.ts';
import type { Tensor } from '../../tensor/tensor.ts';

export class MemoryOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryOrderError';
  }
}

export class NodeMemory {
  readonly memory: Tensor;
  readonly mail: Tensor;
  /** Time each node's memory reflects (the timestamp of the last message it absorbed). */
  readonly memoryTime: Float64Array;
  /** Timestamp of the message in each node's mailbox (0 with an empty mailbox). */
  readonly mailTime: Float64Array;

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

  /** Back to the start of time (every epoch starts from empty memory). */
  reset(): void {
    fill(this.memory, 0);
    fill(this.mail, 0);
    this.memoryTime.fill(0);
    this.mailTime.fill(0);
  }

  /** The values to save in a checkpoint (rows read back). */
  async save(): Promise<{ memory: Float32Array; mail: Float32Array; memoryTime: Float64Array; mailTime: Float64Array }> {
    return {
      memory: new Float32Array(await this.memory.toArray()),
      mail: new Float32Array(await this.mail.toArray()),
      memoryTime: this.memoryTime.slice(),
      mailTime: this.mailTime.slice(),
    };
  }

  load(saved: { memory: Float32Array; mail: Float32Array; memoryTime: ArrayLike<number>; mailTime: ArrayLike<number> }): void {
    if (saved.memory.length !== this.memory.size || saved.mail.length !== this.mail.size || saved.memoryTime.length !== this.numNodes || saved.mailTime.length !== this.numNodes) {
      throw new RangeError(`NodeMemory.load: saved state does not fit ${this.numNodes} nodes × memory ${this.memoryDim}, mail ${this.mailDim}`);
    }
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
