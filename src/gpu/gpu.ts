// One GPU device with everything the runtime needs around it: its buffer pool, kernel cache, the
// encoder that records the current step, and errors surfaced with the kernel that caused them.

import type { AdapterDescription } from './adapter-description.ts';
import { BufferPool } from './buffer-pool.ts';
import { KernelCache, type KernelSpec } from './kernel-cache.ts';
import { Profiler } from './profiler.ts';
import { QuietWaits } from './quiet-waits.ts';
import type { Params } from './params.ts';
import type { AdapterRequest, GpuProvider } from './provider.ts';
import { StepEncoder, type Binding, type Workgroups } from './step-encoder.ts';
import { UniformArena } from './uniform-arena.ts';

export interface GpuOptions extends AdapterRequest {
  /** Use subgroup operations when the adapter has them (default true); false forces the fallbacks. */
  subgroups?: boolean;
  /** A name for this device in errors and reports (e.g. 'worker 2'). */
  label?: string;
  /** Time every kernel with timestamp queries (see Profiler). */
  profile?: boolean;
}

export interface WorkCounts {
  dispatches: number;
  submits: number;
  bindGroupsCreated: number;
  bindGroupsReused: number;
  pipelineLookups: number;
  pipelinesCompiled: number;
  buffersCreated: number;
}

/** The counts from `before` to `after`. */
export function workSince(before: WorkCounts, after: WorkCounts): WorkCounts {
  const out = { ...after };
  for (const k of Object.keys(out) as Array<keyof WorkCounts>) out[k] -= before[k];
  return out;
}

/** What a device runs on, for reports: its adapter, and whether kernels use subgroup operations there. */
export interface DeviceReport {
  adapter: AdapterDescription;
  subgroups: boolean;
}

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuError';
  }
}

export class Gpu {
  readonly pool: BufferPool;
  readonly kernels: KernelCache;
  /** Kernel dispatches so far (per-step overhead: `webgnn train --profile` prints them per epoch). */
  dispatches = 0;
  readonly encoder: StepEncoder;
  readonly hasSubgroups: boolean;
  readonly label: string;
  profiler: Profiler | null = null;
  /** Number of submissions so far. */
  submissions = 0;
  /** How this device waits for results (see QuietWaits: sleeps where the environment would spin). */
  readonly waits: QuietWaits;
  private readonly uniforms: UniformArena;
  private firstError: string | null = null;
  private lostReason: string | null = null;
  private destroyed = false;
  private owner: unknown;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    useSubgroups: boolean,
    label: string,
    owner: unknown,
    quietWaits: boolean,
  ) {
    this.owner = owner;
    this.waits = new QuietWaits(quietWaits);
    this.label = label;
    this.hasSubgroups = useSubgroups;
    this.pool = new BufferPool(device);
    this.kernels = new KernelCache(device, { SUBGROUPS: useSubgroups });
    this.uniforms = new UniformArena(device, this.pool);
    this.encoder = new StepEncoder(device, this.uniforms, Number(device.limits.maxComputeWorkgroupsPerDimension));
    this.pool.onDestroy = (buffer) => this.encoder.forget(buffer);
    device.addEventListener('uncapturederror', (event) => {
      this.firstError ??= (event as GPUUncapturedErrorEvent).error.message;
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  static async create(provider: GpuProvider, options: GpuOptions = {}): Promise<Gpu> {
    const { adapter, description, owner, quietWaits } = await provider.requestAdapter(options);
    const wanted: GPUFeatureName[] = [];
    const useSubgroups = options.subgroups !== false && adapter.features.has('subgroups');
    if (useSubgroups) wanted.push('subgroups' as GPUFeatureName);
    if (adapter.features.has('timestamp-query')) wanted.push('timestamp-query');
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      label: options.label ?? description.name,
      requiredFeatures: wanted,
      requiredLimits: {
        maxBufferSize: limits.maxBufferSize,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
      },
    });
    const gpu = new Gpu(device, description, useSubgroups, options.label ?? description.name, owner, quietWaits === true);
    if (options.profile) {
      if (!device.features.has('timestamp-query')) throw new GpuError(`${gpu.label}: profiling needs the 'timestamp-query' feature, which this adapter lacks`);
      gpu.profiler = gpu.encoder.profiler = new Profiler(device);
    }
    return gpu;
  }

  /** What this device has done and created so far, for per-epoch overhead counts. */
  workCounts(): WorkCounts {
    const groups = this.encoder.bindGroups;
    return { dispatches: this.dispatches, submits: this.submissions, bindGroupsCreated: groups.misses, bindGroupsReused: groups.hits, pipelineLookups: this.kernels.lookups, pipelinesCompiled: this.kernels.compiled, buffersCreated: this.pool.buffersCreated };
  }

  get report(): DeviceReport {
    return { adapter: this.adapter, subgroups: this.hasSubgroups };
  }

  get maxStorageBinding(): number {
    return Number(this.device.limits.maxStorageBufferBindingSize);
  }

  kernel(spec: KernelSpec): GPUComputePipeline {
    return this.kernels.get(spec);
  }

  dispatch(pipeline: GPUComputePipeline, params: Params | null, buffers: Binding[], workgroups: Workgroups): void {
    this.dispatches++;
    this.encoder.dispatch(pipeline, params, buffers, workgroups);
  }

  /** A pooled storage buffer. `forUpload` when it will be written from the CPU. */
  allocate(bytes: number, label = '', forUpload = false): GPUBuffer {
    this.checkUsable();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return this.pool.acquire(bytes, usage, label, forUpload);
  }

  release(buffer: GPUBuffer): void {
    this.pool.release(buffer, this.encoder.hasWork);
  }

  /** Frees a buffer's device memory (see BufferPool.discard) instead of keeping it for reuse. */
  discard(buffer: GPUBuffer): void {
    this.pool.discard(buffer, this.encoder.hasWork);
  }

  /**
   * Writes `data` into `buffer` at once (queue.writeBuffer: ahead of commands recorded but not yet
   * submitted). For fresh buffers; to overwrite one that recorded commands use, call `overwrite`.
   */
  upload(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
    this.encoder.tally.bytes += data.byteLength;
  }

  /** Writes `data` into `buffer` after everything recorded so far (submits first), in program order. */
  overwrite(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    if (this.encoder.hasWork) this.submit();
    this.upload(buffer, data, byteOffset);
  }

  /** Submits everything recorded so far. */
  submit(): void {
    this.checkUsable();
    const commands = this.encoder.finish();
    if (!commands) return;
    this.uniforms.flush(this.device.queue);
    this.device.queue.submit([commands]);
    this.pool.markSubmitted();
    this.submissions++;
  }

  /** Submits, then copies `bytes` of `buffer` back. The only way data comes back to the CPU. */
  async read(buffer: GPUBuffer, byteOffset = 0, bytes?: number): Promise<ArrayBuffer> {
    const length = bytes ?? this.pool.sizeOf(buffer) - byteOffset;
    const size = Math.ceil(length / 4) * 4;
    const staging = this.pool.acquire(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback', true);
    this.encoder.copy(buffer, byteOffset, staging, 0, size);
    this.submit();
    try {
      await this.waits.wait(`read ${buffer.label}`, this.encoder.takeTally(), () => staging.mapAsync(GPUMapMode.READ, 0, size));
    } catch (error) {
      this.checkUsable();
      throw new GpuError(`${this.label}: reading back '${buffer.label}' failed: ${(error as Error).message}`);
    }
    const copy = staging.getMappedRange(0, size).slice(0, length);
    staging.unmap();
    this.pool.release(staging, false);
    this.checkUsable();
    return copy;
  }

  /** Waits for all submitted work (used by benchmarks for honest timings). */
  async finish(): Promise<void> {
    this.submit();
    await this.waits.wait('finish', this.encoder.takeTally(), () => this.device.queue.onSubmittedWorkDone());
    this.checkUsable();
  }

  private checkUsable(): void {
    if (this.destroyed) throw new GpuError(`${this.label}: the GPU device was destroyed`);
    if (this.lostReason) throw new GpuError(`${this.label}: the GPU device was lost (${this.lostReason})`);
    if (this.firstError) {
      const message = this.firstError;
      this.firstError = null;
      throw new GpuError(`${this.label}: WebGPU error: ${message}`);
    }
  }

  /**
   * Destroys the device once nothing of it is in flight: pending reads settled, submitted work done,
   * and the device's `lost` promise (which destroying it resolves) settled. Afterwards dawn.node has no
   * callback left to deliver for this device, so the thread that made it may end. A thread that ends,
   * or is terminated, while dawn.node is inside a call or still owes it a callback aborts the whole
   * process (node-addon-api's fatal "Error::ThrowAsJavaScriptException napi_throw"). Never throws.
   */
  async close(): Promise<void> {
    if (this.destroyed) return;
    await this.waits.whenIdle();
    if (!this.lostReason) {
      // Work recorded but never submitted is dropped with the device.
      await this.device.queue.onSubmittedWorkDone().catch(() => {});
    }
    this.destroy();
    await this.device.lost;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.trim();
    this.device.destroy();
    // Dropping the dawn.node instance lets the process exit once nothing else holds it.
    this.owner = null;
  }
}
