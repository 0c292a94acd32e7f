// The flags of `webgnn train-temporal` (one trainer: train-temporal.ts; several: train-disttgl.ts).

import type { OptimizerKind } from '../nn/optimizer.ts';

export interface TrainTemporalFlags {
  dataset: string;
  model: 'tgn';
  epochs: number;
  batchSize: number;
  staleness: string;
  memory?: 'device' | 'host';
  patience: number;
  seed: number;
  lr: number;
  optimizer: OptimizerKind;
  weightDecay: number;
  memoryDim: number;
  neighbors: number;
  sampler: 'recent' | 'uniform';
  adapter?: string;
  json: boolean;
  progress: boolean;
  checkpoint?: string;
  resume?: string;
  /** Train on the first this many events only. */
  events?: number;
  /** DistTGL: trainers, their i×j×k layout, how they are linked, and whether lr scales with N. */
  workers: number;
  parallel?: string;
  transport: 'local' | 'threads' | 'webrtc';
  lrScaling: 'linear' | 'none';
  /** Evaluation ranks each event against one negative (AP, AUC) or also against 49 (MRR, and the best epoch by it). */
  metric: 'ap' | 'mrr';
  /** DistTGL's static node memory: true learns it first (phase one, --static-epochs), a path reads it. */
  staticMemory?: boolean | string;
  staticEpochs: number;
  staticMemorySave?: string;
  /** A temporal room: create it on this server and lead it, or run it over --workers processes (--elastic). */
  room?: string;
  elastic: boolean;
  minMembers?: number;
  name?: string;
}
