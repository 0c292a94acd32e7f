// Records a whole step (forward, backward, optimizer, metrics) into one command encoder. Consecutive
// dispatches share one compute pass; WebGPU orders them and makes each one's writes visible to the next.

import type { Params } from './params.ts';
import type { Profiler } from './profiler.ts';
import type { UniformArena } from './uniform-arena.ts';

export type Binding = GPUBuffer | GPUBufferBinding;

/** Workgroup counts; a linear count above the per-dimension limit is folded into y. */
export type Workgroups = number | [number, number] | [number, number, number];

/** Work recorded since the last wait for the device: how long that wait will take depends on it. */
export interface WorkTally {
  dispatches: number;
  workgroups: number;
  /** Bytes copied, cleared or uploaded. */
  bytes: number;
}

export class StepEncoder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  readonly tally: WorkTally = { dispatches: 0, workgroups: 0, bytes: 0 };
  /** When set, every dispatch gets its own timed pass. */
  profiler: Profiler | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly uniforms: UniformArena,
    private readonly maxWorkgroupsPerDim: number,
  ) {}

  get hasWork(): boolean {
    return this.encoder !== null;
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'step' }));
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.commandEncoder().beginComputePass());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Binding 0 is `params` (when given); storage buffers follow from binding 1 in order. */
  dispatch(pipeline: GPUComputePipeline, params: Params | null, buffers: Binding[], workgroups: Workgroups): void {
    const [x, y, z] = this.foldWorkgroups(workgroups);
    if (x === 0 || y === 0 || z === 0) return;
    const entries: GPUBindGroupEntry[] = [];
    if (params) entries.push({ binding: 0, resource: this.uniforms.allocate(params) });
    buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: 'buffer' in b ? b : { buffer: b } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: pipeline.label });
    const timestampWrites = this.profiler?.passTimestamps(pipeline.label);
    if (timestampWrites) this.endPass();
    const pass = timestampWrites ? (this.pass = this.commandEncoder().beginComputePass({ timestampWrites })) : this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (timestampWrites) this.endPass();
    this.tally.dispatches++;
    this.tally.workgroups += x * y * z;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.tally.bytes += bytes;
  }

  clear(buffer: GPUBuffer, offset = 0, bytes?: number): void {
    this.endPass();
    this.commandEncoder().clearBuffer(buffer, offset, bytes);
    this.tally.bytes += bytes ?? buffer.size - offset;
  }

  /** The work recorded since the previous call, and a fresh count from now on. */
  takeTally(): WorkTally {
    const taken = { ...this.tally };
    Object.assign(this.tally, { dispatches: 0, workgroups: 0, bytes: 0 });
    return taken;
  }

  /** Ends recording; returns null when nothing was recorded. */
  finish(): GPUCommandBuffer | null {
    if (!this.encoder) return null;
    this.endPass();
    this.profiler?.finishSubmission(this.encoder);
    const commands = this.encoder.finish();
    this.encoder = null;
    return commands;
  }

  private foldWorkgroups(w: Workgroups): [number, number, number] {
    if (typeof w !== 'number') return [w[0], w[1], w[2] ?? 1];
    const max = this.maxWorkgroupsPerDim;
    if (w <= max) return [w, 1, 1];
    const y = Math.ceil(w / max);
    return [Math.ceil(w / y), y, 1];
  }
}
