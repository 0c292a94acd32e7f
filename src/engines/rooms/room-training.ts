// What a room trains, read from its config (room-protocol.ts's RoomConfig). The config comes from whoever
// created the room, through the server: untrusted, so every field is checked, and a missing one takes the
// default of `webgnn train` (the best documented GCN result on Cora).

import type { RoomConfig } from '../../dist/room-protocol.ts';
import type { OptimizerKind } from '../../nn/optimizer.ts';
import { CHUNKS_PER_STAGE, SNAPSHOT_PERIOD, type PipeOptions } from '../pipe/pipe-options.ts';

export interface RoomTraining {
  dataset: string;
  model: (typeof MODELS)[number];
  /**
   * 'sar': every member a graph partition; 'pipe': every member a pipeline stage (GNNPipe); 'temporal':
   * every member a DistTGL trainer with its own copy of node memory (memory parallelism across tabs).
   */
  mode: 'sar' | 'pipe' | 'temporal';
  epochs: number;
  hidden: number;
  heads: number;
  layers: number;
  dropout: number;
  lr: number;
  weightDecay: number;
  optimizer: OptimizerKind;
  seed: number;
  decayFirstLayerOnly: boolean;
  /** Members offer a persistent checkpoint every this many epochs (0: only at the end). */
  checkpointEvery: number;
  /**
   * Pipe mode's settings (pipe-options.ts). The chunks are fixed for the room's life (default 4 per member
   * of the room's first size), so a regrouped room runs the same chunks over fewer or more stages.
   */
  pipe: PipeOptions;
  /** Temporal mode's settings (TGN on an event stream; `lr` is one trainer's, scaled by the members). */
  temporal: RoomTemporalSettings;
}

export interface RoomTemporalSettings {
  batchSize: number;
  memoryDim: number;
  neighbors: number;
  sampler: 'recent' | 'uniform';
  metric: 'ap' | 'mrr';
  lrScaling: 'linear' | 'none';
}

export class RoomConfigError extends Error {
  constructor(problem: string) {
    super(`room config: ${problem}`);
    this.name = 'RoomConfigError';
  }
}

const MODELS = ['gcn', 'sage', 'gat', 'gcnii', 'resgcn', 'tgn'] as const;
const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;

/** The config a room is created with for these settings (what create sends). */
/** What a room's creator chooses: the model and epochs, anything else left to the defaults. */
export type RoomTrainingSettings = Partial<Omit<RoomTraining, 'pipe' | 'temporal' | 'dataset'>> & Pick<RoomTraining, 'model' | 'epochs'> & { pipe?: Partial<PipeOptions>; temporal?: Partial<RoomTemporalSettings> };

export function roomConfig(t: RoomTrainingSettings & { dataset: string }, size = 2): RoomConfig {
  const config = { mode: 'sar', ...t } as RoomConfig;
  // A pipe room's chunks are fixed at creation: 4 per member of its size unless given.
  if (config.mode === 'pipe') config.pipe = { chunks: CHUNKS_PER_STAGE * size, ...(t.pipe ?? {}) };
  return config;
}

export function roomTraining(config: RoomConfig): RoomTraining {
  const c = config as Record<string, unknown>;
  const num = (key: string, fallback: number, ok: (v: number) => boolean, what: string): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new RoomConfigError(`${key} must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  const int = (key: string, fallback: number, lo: number, hi: number) => num(key, fallback, (v) => Number.isInteger(v) && v >= lo && v <= hi, `an integer in ${lo}..${hi}`);
  const oneOf = <T extends string>(key: string, choices: readonly T[], fallback: T): T => {
    const v = c[key] ?? fallback;
    if (!choices.includes(v as T)) throw new RoomConfigError(`${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  if (typeof c.dataset !== 'string' || !c.dataset) throw new RoomConfigError('dataset must be a name');
  const mode = oneOf('mode', ['sar', 'pipe', 'temporal'] as const, 'sar');
  const model = oneOf('model', MODELS, mode === 'temporal' ? 'tgn' : 'gcn');
  if ((mode === 'temporal') !== (model === 'tgn')) throw new RoomConfigError(mode === 'temporal' ? `a temporal room trains 'tgn', got '${model}'` : `model 'tgn' trains only in a temporal room (mode 'temporal'), got mode '${mode}'`);
  const gat = model === 'gat';
  const temporal = (c.temporal ?? {}) as Record<string, unknown>;
  if (typeof temporal !== 'object' || temporal === null || Array.isArray(temporal)) throw new RoomConfigError(`temporal must be an object of settings, got ${JSON.stringify(c.temporal)}`);
  const temporalInt = (key: string, fallback: number, lo: number, hi: number): number => {
    const v = temporal[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RoomConfigError(`temporal.${key} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
    return v;
  };
  const temporalOneOf = <T extends string>(key: string, choices: readonly T[], fallback: T): T => {
    const v = temporal[key] ?? fallback;
    if (!choices.includes(v as T)) throw new RoomConfigError(`temporal.${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  if (mode === 'pipe' && gat) throw new RoomConfigError("model 'gat' cannot train in pipe mode (attention needs its neighbours' attention inputs from other chunks)");
  // Pipe settings live under config.pipe: each checked like the rest.
  const pipe = (c.pipe ?? {}) as Record<string, unknown>;
  if (typeof pipe !== 'object' || pipe === null || Array.isArray(pipe)) throw new RoomConfigError(`pipe must be an object of settings, got ${JSON.stringify(c.pipe)}`);
  const pipeInt = (key: string, fallback: number, lo: number, hi: number): number => {
    const v = pipe[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RoomConfigError(`pipe.${key} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
    return v;
  };
  const pipeBool = (key: string, fallback: boolean): boolean => {
    const v = pipe[key] ?? fallback;
    if (typeof v !== 'boolean') throw new RoomConfigError(`pipe.${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const stages = pipe.stages ?? 'profile';
  if (stages !== 'profile' && stages !== 'equal') throw new RoomConfigError(`pipe.stages must be 'profile' or 'equal', got ${JSON.stringify(stages)}`);
  return {
    dataset: c.dataset,
    model,
    mode,
    epochs: int('epochs', 200, 1, 100_000),
    hidden: int('hidden', gat ? 8 : model === 'gcnii' ? 64 : 16, 1, 4096),
    heads: int('heads', 8, 1, 64),
    layers: int('layers', model === 'gcnii' ? 16 : model === 'resgcn' ? 8 : 2, 1, 64),
    dropout: num('dropout', gat || model === 'gcnii' ? 0.6 : 0.5, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    // train-temporal's defaults for TGN (lr 2e-4), node classification's otherwise.
    lr: num('lr', mode === 'temporal' ? 2e-4 : gat ? 0.005 : 0.01, (v) => v > 0 && v < 10, 'in (0, 10)'),
    weightDecay: num('weightDecay', mode === 'temporal' ? 0 : 5e-4, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    optimizer: oneOf('optimizer', OPTIMIZERS, 'adam'),
    seed: int('seed', 0, 0, 2 ** 31 - 1),
    decayFirstLayerOnly: typeof c.decayFirstLayerOnly === 'boolean' ? c.decayFirstLayerOnly : model === 'gcn',
    checkpointEvery: int('checkpointEvery', 10, 0, 100_000),
    pipe: {
      // The creator sets 4 per member of the room's size (createRoomPeer); 8 if it did not.
      chunks: pipeInt('chunks', 2 * CHUNKS_PER_STAGE, 1, 1 << 16),
      recompute: pipeBool('recompute', true),
      shuffle: pipeBool('shuffle', true),
      unbiasedGradients: pipeBool('unbiasedGradients', true),
      snapshotPeriod: pipeInt('snapshotPeriod', SNAPSHOT_PERIOD, 1, 100_000),
      warmupEpochs: pipeInt('warmupEpochs', 0, 0, 100_000),
      evalEvery: pipeInt('evalEvery', 1, 1, 100_000),
      stages,
      // A room re-forms its pipeline over whoever remains, so it runs one pipeline (no replicas per stage).
      graphParallel: 1,
    },
    temporal: {
      batchSize: temporalInt('batchSize', 200, 1, 1 << 20),
      memoryDim: temporalInt('memoryDim', 100, 1, 4096),
      neighbors: temporalInt('neighbors', 10, 1, 1024),
      sampler: temporalOneOf('sampler', ['recent', 'uniform'] as const, 'recent'),
      metric: temporalOneOf('metric', ['ap', 'mrr'] as const, 'ap'),
      lrScaling: temporalOneOf('lrScaling', ['linear', 'none'] as const, 'linear'),
    },
  };
}

/** The node classifier a SAR or pipe room builds (a temporal room builds TGN instead). */
export function nodeModelOf(t: RoomTraining): Exclude<RoomTraining['model'], 'tgn'> {
  if (t.model === 'tgn') throw new RoomConfigError("model 'tgn' is a temporal model: a temporal room builds it with the environment's temporalModel");
  return t.model;
}
