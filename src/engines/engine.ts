// The one engine interface: an engine takes a model, a dataset, a set of workers and options, and
// yields a stream of metrics. The CLI, the browser worker and the tests drive every mode through it.

import type { DeviceReport } from '../gpu/gpu.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';

export type EngineMode = 'single' | 'sar' | 'pipe' | 'temporal';

export interface EpochMetrics {
  epoch: number;
  loss: number;
  valLoss: number;
  trainAcc: number;
  valAcc: number;
  testAcc: number;
  /** Wall time of the epoch, from recording its first command to its metrics arriving. */
  epochMs: number;
  /** Peak GPU bytes held so far, per worker. */
  peakGpuBytes: number[];
  /** GPU bytes in use now, per worker. */
  gpuBytes: number[];
  /** Distributed modes: bytes each worker sent to its peers during this epoch. */
  bytesSent?: number[];
  /**
   * Pipe mode: false on epochs without an exact evaluation (validation and test figures are then the
   * last evaluation's, and early stopping does not take the epoch as a best).
   */
  evaluated?: boolean;
  /** Pipe mode: ages in epochs of the historical rows read this epoch (embeddings; gradients). */
  staleness?: { maxAge: number; meanAge: number; gradientMaxAge: number; gradientMeanAge: number };
}

/** Node classification engines yield EpochMetrics; the temporal engine its own link-prediction metrics. */
export interface Engine<Metrics = EpochMetrics> {
  readonly mode: EngineMode;
  readonly workers: number;
  /** Trains from the next epoch on; the consumer may stop iterating at any time. */
  run(epochs: number): AsyncGenerator<Metrics>;
  /** Everything needed to continue exactly where training stands. */
  snapshot(): Promise<CheckpointData>;
  /** The device of each worker (its adapter, and whether subgroup kernels run), where the engine knows them. */
  readonly devices?: DeviceReport[];
  /** Frees the engine's devices and tensors; engines whose workers are threads settle once every thread has ended. */
  dispose(): void | Promise<void>;
}
