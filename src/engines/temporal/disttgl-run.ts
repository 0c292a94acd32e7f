// A DistTGL engine over devices and transports the caller made (in-process devices, WebRTC peers): one
// trainer per rank, each with its own replica of the model (built by `makeModel`, materialised from the
// same seed, so every replica starts identical).

import type { Gpu } from '../../gpu/gpu.ts';
import type { Transport } from '../../dist/transport.ts';
import type { EventStream } from '../../graph/event-stream.ts';
import type { TemporalSplit } from '../../graph/temporal-split.ts';
import type { TemporalModel } from '../../nn/temporal-model.ts';
import { DistTglEngine } from './disttgl-engine.ts';
import { DistTglTrainer, type DistTglOptions } from './disttgl-trainer.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';

export function createDistTglEngine(
  gpus: Gpu[],
  transports: Transport[],
  stream: EventStream,
  split: TemporalSplit,
  makeModel: () => TemporalModel,
  options: DistTglOptions,
  release: () => Promise<void> | void = () => {},
  resume?: CheckpointData,
  /** 'weights': resume only the weights, optimizer and epoch, with fresh memory groups (DistTglTrainer). */
  resumeMode: 'exact' | 'weights' = 'exact',
): { engine: DistTglEngine; trainers: DistTglTrainer[] } {
  if (gpus.length !== transports.length) throw new RangeError(`DistTGL: ${gpus.length} devices for ${transports.length} transports`);
  const trainers: DistTglTrainer[] = [];
  try {
    for (let r = 0; r < gpus.length; r++) trainers.push(new DistTglTrainer(gpus[r], transports[r], makeModel(), stream, split, options, resume, resumeMode));
  } catch (error) {
    for (const t of trainers) t.dispose();
    throw error;
  }
  const engine = new DistTglEngine(
    trainers,
    options.layout,
    { config: distTglConfig(trainers[0].model, options), batches: trainers[0].batchesPerPass, seed: options.seed, startEpoch: resume?.epoch ?? 0 },
    gpus.map((g) => g.report),
    async () => {
      for (const t of trainers) t.dispose();
      await Promise.all(transports.map((t) => t.close()));
      await release();
    },
  );
  return { engine, trainers };
}

/** What a DistTGL checkpoint's config holds: the model's own, and the training settings. */
export function distTglConfig(model: Pick<TemporalModel, 'checkpointConfig'>, options: DistTglOptions): Record<string, unknown> {
  const { seed, lr, lrScaling, batchSize, sampler, optimizer, weightDecay } = options;
  return { ...model.checkpointConfig(), training: { seed, lr, lrScaling: lrScaling ?? 'linear', batchSize, sampler: sampler ?? 'recent', optimizer: optimizer ?? 'adam', weightDecay: weightDecay ?? 0 } };
}
