// SAR training with every worker in this process (each on its own adapter and GPUDevice), linked by
// any transport: in-process hand-off, or WebRTC data channels. Each epoch runs all workers
// concurrently; they agree on every metric (summed by all-reduce), so worker 0 speaks for them, with
// memory and traffic reported per worker.

import type { DeviceReport } from '../../gpu/gpu.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';
import type { Engine, EpochMetrics } from '../engine.ts';
import { PeerError } from '../../dist/transport.ts';
import type { SarEpochResult, SarWorker } from './sar-worker.ts';

export class SarEngine implements Engine {
  readonly mode = 'sar' as const;
  readonly workers: number;

  constructor(
    private readonly members: SarWorker[],
    /** Recorded in checkpoints (e.g. worker count, transport, remat). */
    private readonly describe: Record<string, unknown> = {},
    /** Releases what the creator set up for the workers (devices, a signaling server). */
    private readonly release: () => Promise<void> | void = () => {},
  ) {
    if (!members.length) throw new RangeError('SarEngine: needs at least one worker');
    members.forEach((w, i) => {
      if (w.rank !== i) throw new RangeError(`SarEngine: worker at index ${i} has rank ${w.rank}`);
    });
    this.workers = members.length;
  }

  /** Each worker's adapter. */
  get devices(): DeviceReport[] {
    return this.members.map((w) => w.gpu.report);
  }

  get currentEpoch(): number {
    return this.members[0].currentEpoch;
  }

  async *run(epochs: number): AsyncGenerator<EpochMetrics> {
    while (this.currentEpoch < epochs) {
      const results = await settleWorkers(this.members.map((w) => w.trainEpoch()));
      yield toEpochMetrics(this.currentEpoch, results);
    }
  }

  snapshot(): Promise<CheckpointData> {
    // Replicas hold identical weights and optimizer state after every step: worker 0's are everyone's.
    return this.members[0].snapshot({ sar: this.describe });
  }

  dispose(): void {
    for (const w of this.members) w.dispose();
    void Promise.all(this.members.map((w) => w.transport.close())).then(this.release, this.release);
  }
}

/** Combines one epoch of every worker into the engine's metrics. */
export function toEpochMetrics(epoch: number, results: SarEpochResult[]): EpochMetrics {
  const first = results[0];
  return {
    epoch,
    loss: first.loss,
    valLoss: first.valLoss,
    trainAcc: first.trainAcc,
    valAcc: first.valAcc,
    testAcc: first.testAcc,
    epochMs: Math.max(...results.map((r) => r.epochMs)),
    peakGpuBytes: results.map((r) => r.peakGpuBytes),
    gpuBytes: results.map((r) => r.gpuBytes),
    bytesSent: results.map((r) => r.bytesSent),
  };
}

/**
 * Waits for every worker; when any failed, throws the root cause: an error of a worker itself before
 * the PeerErrors its peers saw because of it.
 */
export async function settleWorkers<T>(work: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  if (errors.length) throw errors.find((e) => !(e instanceof PeerError)) ?? errors[0];
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
