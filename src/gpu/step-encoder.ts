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

/**
 * Bind groups created before the cache starts over: bounds what it holds (groups, and the per-buffer key
 * lists, which keep the keys of forgotten groups until then) for a workload whose bindings never repeat.
 */
const MAX_BIND_GROUPS = 4096;

/**
 * Bind groups by (pipeline, bound buffers, offsets, sizes). A training step binds the same pooled
 * buffers and the same uniform slots (the arena's offsets repeat every submission) step after step, so
 * after the first step nothing is created. A cached group stays valid while its buffers live, returned
 * to the pool or not: the pool hands out the same GPUBuffer objects again, and a binding names the
 * object. A destroyed buffer is never bound again (ids are per object, never reused), so forgetting
 * its groups (`forget`) only frees memory.
 */
class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  /** Keys of the groups that bind each buffer, for forget(). */
  private readonly byBuffer = new Map<GPUBuffer, string[]>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  /** Groups created since the cache last started over. */
  private created = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice) {}

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  get(pipeline: GPUComputePipeline, uniform: GPUBufferBinding | null, buffers: Binding[]): GPUBindGroup {
    let key = String(this.id(pipeline));
    if (uniform) key += `|u${this.id(uniform.buffer)}@${uniform.offset ?? 0}+${uniform.size ?? -1}`;
    for (const b of buffers) key += 'buffer' in b ? `|${this.id(b.buffer)}@${b.offset ?? 0}+${b.size ?? -1}` : `|${this.id(b)}`;
    const cached = this.groups.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const entries: GPUBindGroupEntry[] = [];
    if (uniform) entries.push({ binding: 0, resource: uniform });
    buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: 'buffer' in b ? b : { buffer: b } }));
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: pipeline.label });
    if (this.created === MAX_BIND_GROUPS) this.clear();
    this.created++;
    this.groups.set(key, group);
    if (uniform) this.index(uniform.buffer, key);
    for (const b of buffers) this.index('buffer' in b ? b.buffer : b, key);
    return group;
  }

  private index(buffer: GPUBuffer, key: string): void {
    const keys = this.byBuffer.get(buffer);
    if (keys) keys.push(key);
    else this.byBuffer.set(buffer, [key]);
  }

  /** Drops the groups that bind `buffer` (it is being destroyed). */
  forget(buffer: GPUBuffer): void {
    const keys = this.byBuffer.get(buffer);
    if (!keys) return;
    this.byBuffer.delete(buffer);
    for (const key of keys) this.groups.delete(key);
  }

  get size(): number {
    return this.groups.size;
  }

  clear(): void {
    this.groups.clear();
    this.byBuffer.clear();
    this.created = 0;
  }
}

export class StepEncoder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  readonly tally: WorkTally = { dispatches: 0, workgroups: 0, bytes: 0 };
  /** When set, every dispatch gets its own timed pass. */
  profiler: Profiler | null = null;
  readonly bindGroups: BindGroupCache;

  constructor(
    private readonly device: GPUDevice,
    private readonly uniforms: UniformArena,
    private readonly maxWorkgroupsPerDim: number,
  ) {
    this.bindGroups = new BindGroupCache(device);
  }

  /** Forgets the cached bind groups of a buffer being destroyed (BufferPool's onDestroy). */
  forget(buffer: GPUBuffer): void {
    this.bindGroups.forget(buffer);
  }

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
    const bindGroup = this.bindGroups.get(pipeline, params ? this.uniforms.allocate(params) : null, buffers);
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
