// What a room trains, read from its config (room-protocol.ts's RoomConfig). The config comes from whoever
// created the room, through the server: untrusted, so every field is checked, and a missing one takes the
// default of `webgnn train` (the best documented GCN result on Cora).

import type { RoomConfig } from '../../dist/room-protocol.ts';
import type { OptimizerKind } from '../../nn/optimizer.ts';

export interface RoomTraining {
  dataset: string;
  model: 'gcn' | 'sage' | 'gat';
  mode: 'sar';
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
}

export class RoomConfigError extends Error {
  constructor(problem: string) {
    super(`room config: ${problem}`);
    this.name = 'RoomConfigError';
  }
}

const MODELS = ['gcn', 'sage', 'gat'] as const;
const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;

/** The config a room is created with for these settings (what create sends). */
export function roomConfig(t: Partial<RoomTraining> & Pick<RoomTraining, 'dataset' | 'model' | 'epochs'>): RoomConfig {
  return { mode: 'sar', ...t } as RoomConfig;
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
  if (c.mode !== 'sar') throw new RoomConfigError(`mode ${JSON.stringify(c.mode)} is not one a room trains yet (only 'sar')`);
  const model = oneOf('model', MODELS, 'gcn');
  const gat = model === 'gat';
  return {
    dataset: c.dataset,
    model,
    mode: 'sar',
    epochs: int('epochs', 200, 1, 100_000),
    hidden: int('hidden', gat ? 8 : 16, 1, 4096),
    heads: int('heads', 8, 1, 64),
    layers: int('layers', 2, 1, 64),
    dropout: num('dropout', gat ? 0.6 : 0.5, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    lr: num('lr', gat ? 0.005 : 0.01, (v) => v > 0 && v < 10, 'in (0, 10)'),
    weightDecay: num('weightDecay', 5e-4, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    optimizer: oneOf('optimizer', OPTIMIZERS, 'adam'),
    seed: int('seed', 0, 0, 2 ** 31 - 1),
    decayFirstLayerOnly: typeof c.decayFirstLayerOnly === 'boolean' ? c.decayFirstLayerOnly : model === 'gcn',
    checkpointEvery: int('checkpointEvery', 10, 0, 100_000),
  };
}
