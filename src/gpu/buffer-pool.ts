// Every GPU buffer of a device comes from here, so memory figures are measured, not guessed.
// `allocatedBytes` counts all buffers that exist on the device (including released ones kept for
// reuse): that is the device memory the runtime holds, and its peak is what we report.
// Released buffers are reused by exact (aligned) size and usage; a training step allocates the same
// sizes every step, so after the first step nothing new is created.

const ALIGN = 256;

export function alignedSize(bytes: number): number {
  return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
}

interface FreeLists {
  /** Safe for any use. */
  clean: GPUBuffer[];
  /** Released while commands that use them were recorded but not yet submitted: safe only for writes
   * recorded into the same command stream (GPU order protects them), not for queue.writeBuffer. */
  pending: GPUBuffer[];
}

export class BufferPool {
  allocatedBytes = 0;
  peakAllocatedBytes = 0;
  /** Bytes in buffers currently handed out (not in the free lists). */
  liveBytes = 0;
  peakLiveBytes = 0;
  buffersCreated = 0;
  private readonly free = new Map<string, FreeLists>();
  /** Discarded while still used by unsubmitted commands: destroyed at the next submit. */
  private readonly doomed: GPUBuffer[] = [];
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  /** Creation order of each buffer: free lists are kept sorted by it (see release). */
  private readonly serials = new WeakMap<GPUBuffer, number>();
  private readonly maxBufferSize: number;
  /** Told of every buffer the pool destroys (the step encoder forgets its cached bind groups). */
  onDestroy: ((buffer: GPUBuffer) => void) | null = null;

  constructor(private readonly device: GPUDevice) {
    this.maxBufferSize = Number(device.limits.maxBufferSize);
  }

  /** A buffer of at least `bytes`. `forUpload` buffers will be written with queue.writeBuffer. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label = '', forUpload = false): GPUBuffer {
    const size = alignedSize(bytes);
    const lists = this.free.get(`${usage}:${size}`);
    let buffer = lists?.clean.pop() ?? (forUpload ? undefined : lists?.pending.pop());
    if (!buffer) {
      if (size > this.maxBufferSize) {
        throw new RangeError(`buffer '${label}' of ${size} bytes exceeds this device's maxBufferSize (${this.maxBufferSize})`);
      }
      buffer = this.device.createBuffer({ size, usage, label });
      this.sizes.set(buffer, size);
      this.serials.set(buffer, this.buffersCreated);
      this.allocatedBytes += size;
      this.buffersCreated++;
      if (this.allocatedBytes > this.peakAllocatedBytes) this.peakAllocatedBytes = this.allocatedBytes;
    }
    this.liveBytes += size;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
    return buffer;
  }

  /** Returns a buffer for reuse. `pendingWork`: commands using it are recorded but not submitted. */
  release(buffer: GPUBuffer, pendingWork: boolean): void {
    const size = this.sizeOf(buffer);
    const key = `${buffer.usage}:${size}`;
    let lists = this.free.get(key);
    if (!lists) this.free.set(key, (lists = { clean: [], pending: [] }));
    this.insertSorted(pendingWork ? lists.pending : lists.clean, buffer);
    this.liveBytes -= size;
  }

  /**
   * Free lists are kept in creation order, whatever order buffers come back in: which buffer the next
   * acquire gets then depends only on which buffers are free, so a step that repeats the previous one
   * gets the very same buffers for the same tensors, and its bind groups (keyed by buffer) are cache hits.
   */
  private insertSorted(list: GPUBuffer[], buffer: GPUBuffer): void {
    const serial = this.serials.get(buffer)!;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.serials.get(list[mid])! < serial) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, buffer);
  }

  /**
   * Gives a buffer's memory back to the device instead of keeping it for reuse: for transient buffers of
   * sizes that will not recur (a peer's rows in one SAR round). A buffer still used by unsubmitted
   * commands is destroyed after the next submit (destroying submitted work's buffers is safe: the
   * device frees them once that work is done).
   */
  discard(buffer: GPUBuffer, pendingWork: boolean): void {
    this.liveBytes -= this.sizeOf(buffer);
    if (pendingWork) this.doomed.push(buffer);
    else this.destroy(buffer);
  }

  private destroy(buffer: GPUBuffer): void {
    this.allocatedBytes -= this.sizeOf(buffer);
    this.onDestroy?.(buffer);
    buffer.destroy();
  }

  /** Called after a submit: everything released before it is now clean. */
  markSubmitted(): void {
    for (const b of this.doomed) this.destroy(b);
    this.doomed.length = 0;
    for (const lists of this.free.values()) {
      if (lists.pending.length) {
        for (const b of lists.pending) this.insertSorted(lists.clean, b);
        lists.pending.length = 0;
      }
    }
  }

  /**
   * Destroys all cached free buffers (e.g. between phases of different shapes). Those still used by
   * unsubmitted commands are destroyed after the next submit instead, like discarded ones.
   */
  trim(): void {
    for (const lists of this.free.values()) {
      for (const b of lists.clean) this.destroy(b);
      this.doomed.push(...lists.pending);
    }
    this.free.clear();
  }

  /** Restarts peak tracking from the current state (for measuring one phase). */
  resetPeak(): void {
    this.peakAllocatedBytes = this.allocatedBytes;
    this.peakLiveBytes = this.liveBytes;
  }

  sizeOf(buffer: GPUBuffer): number {
    const size = this.sizes.get(buffer);
    if (size === undefined) throw new Error(`buffer '${buffer.label}' was not allocated by this pool`);
    return size;
  }
}
