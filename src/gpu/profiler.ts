// GPU time per kernel from timestamp queries. When enabled, the step encoder gives every dispatch
// its own compute pass with begin/end timestamps (so profiling changes batching: use it to find
// what dominates, not to measure end-to-end time). Needs the adapter's 'timestamp-query' feature.

const CAPACITY = 4096; // timestamps per submission (2 per dispatch)

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private labels: string[] = [];
  private readonly totals = new Map<string, { calls: number; ns: bigint }>();
  private readonly pending: Array<Promise<void>> = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY });
    this.resolve = device.createBuffer({ size: CAPACITY * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  /** Timestamp writes for the next dispatch's pass, or undefined when this submission is full. */
  passTimestamps(label: string): GPUComputePassTimestampWrites | undefined {
    const index = this.labels.length * 2;
    if (index + 2 > CAPACITY) return undefined;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 };
  }

  /** Appends the resolve and readback of this submission's timestamps to `encoder`. */
  finishSubmission(encoder: GPUCommandEncoder): void {
    const count = this.labels.length * 2;
    if (!count) return;
    const labels = this.labels;
    this.labels = [];
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolve, 0);
    const staging = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(this.resolve, 0, staging, 0, count * 8);
    // Mapped after submit (mapAsync waits for the work itself).
    queueMicrotask(() => {
      this.pending.push(
        staging.mapAsync(GPUMapMode.READ).then(() => {
          const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
          staging.destroy();
          labels.forEach((label, i) => {
            const t = this.totals.get(label) ?? { calls: 0, ns: 0n };
            const dt = stamps[2 * i + 1] - stamps[2 * i];
            t.calls++;
            t.ns += dt > 0n ? dt : 0n;
            this.totals.set(label, t);
          });
        }),
      );
    });
  }

  /** Totals per kernel since the last reset, slowest first. */
  async report(): Promise<KernelTime[]> {
    await new Promise((r) => setTimeout(r, 0));
    await Promise.all(this.pending.splice(0));
    return [...this.totals.entries()]
      .map(([kernel, t]) => ({ kernel, calls: t.calls, ms: Number(t.ns) / 1e6 }))
      .sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.totals.clear();
  }
}
