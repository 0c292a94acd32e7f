// Which `webgnn train` flags apply to which run. A flag the user typed that the chosen run would ignore is
// refused with the reason, never dropped silently. Only flags given on the command line count (commander's
// getOptionValueSource(key) === 'cli'): defaults and model defaults never trip a rule.
//
// train-temporal's rules are few and live beside its two runs: one trainer refuses the DistTGL flags
// (train-disttgl.ts, refuseDistTglFlags), several refuse MSPipe's staleness, --memory and checkpoints
// (refuseSequentialFlags there), and --staleness K with --memory device is TemporalEngine's own check.

import type { Command } from 'commander';
import { PIPE_ATTENTION_REFUSAL } from '../engines/pipe/chunked-graph.ts';

/** What the rules look at: the parsed flags of `webgnn train`. */
export interface TrainFlagValues {
  mode: 'single' | 'sar' | 'pipe';
  model: string;
  checkpoint?: string;
  room?: string;
  elastic?: boolean;
}

interface FlagRule {
  /** The option's key in commander (camelCase; 'remat' for --no-remat). */
  key: string;
  /** The flag as the user types it. */
  flag: string;
  /** Why the flag does not apply to this run, or null when it does. */
  refuse(flags: TrainFlagValues): string | null;
}

const needsSar = (key: string, flag: string, what: string): FlagRule => ({
  key,
  flag,
  refuse: (f) => (f.mode === 'sar' ? null : `${flag} needs --mode sar (${what}); this run is --mode ${f.mode}${f.mode === 'single' ? ', on one device' : ''}`),
});

/** A flag of a run over several workers (SAR or pipeline stages). */
const needsWorkers = (key: string, flag: string, what: string): FlagRule => ({
  key,
  flag,
  refuse: (f) => (f.mode === 'sar' || f.mode === 'pipe' ? null : `${flag} needs --mode sar or --mode pipe (${what}); this run is --mode ${f.mode}, on one device`),
});

const needsPipe = (key: string, flag: string, what: string): FlagRule => ({
  key,
  flag,
  refuse: (f) => (f.mode === 'pipe' ? null : `${flag} needs --mode pipe (${what}); this run is --mode ${f.mode}`),
});

/** A flag that a room run decides for itself (every member must agree, and the room's protocol fixes it). */
const inRoom = (f: TrainFlagValues) => f.room !== undefined || f.elastic === true;
const roomFlag = (f: TrainFlagValues) => (f.room !== undefined ? '--room' : '--elastic');

const notInRoom = (key: string, flag: string, why: string): FlagRule => ({
  key,
  flag,
  refuse: (f) => (inRoom(f) ? `${flag} does not apply with ${roomFlag(f)}: ${why}` : null),
});

const needsRoom = (key: string, flag: string): FlagRule => ({
  key,
  flag,
  refuse: (f) => (inRoom(f) ? null : `${flag} needs --room <url> or --elastic (it is a room setting)`),
});

const roomRule = (key: 'room' | 'elastic', flag: string): FlagRule => ({
  key,
  flag,
  refuse: (f) =>
    f.mode === 'single'
      ? `${flag} needs --mode sar or --mode pipe (a room trains SAR partitions or pipeline stages over its members); this run is --mode single`
      : !/^(gcn|sage|gat|gcnii|resgcn)$/.test(f.model)
        ? `${flag} trains a built-in model (gcn, sage, gat, gcnii, resgcn): members that join cannot load ${f.model}`
        : key === 'elastic' && f.room !== undefined
          ? '--elastic runs its own room server; with --room the room is on the server given there (use one or the other)'
          : null,
});

export const TRAIN_FLAG_RULES: readonly FlagRule[] = [
  roomRule('room', '--room'),
  roomRule('elastic', '--elastic'),
  notInRoom('transport', '--transport', "a room's members are linked by WebRTC"),
  notInRoom('remat', '--no-remat', 'room members always rematerialize (SAR)'),
  notInRoom('partition', '--partition', "the room's leader partitions with the multilevel partitioner"),
  notInRoom('patience', '--patience', 'a room trains the epochs it was created with, every member to the end'),
  needsRoom('minMembers', '--min-members'),
  needsRoom('name', '--name'),
  needsWorkers('workers', '--workers', 'the number of SAR workers or pipeline stages'),
  needsWorkers('transport', '--transport', 'how the workers talk'),
  needsSar('remat', '--no-remat', "SAR's baseline that keeps fetched rows"),
  needsSar('partition', '--partition', 'how the graph is split over SAR workers'),
  needsPipe('chunks', '--chunks', 'how many chunks the graph is cut into for the pipeline'),
  needsPipe('recompute', '--no-recompute', "keeping each chunk's activations instead of recomputing its forward"),
  needsPipe('shuffle', '--no-shuffle', "GNNPipe's per-epoch chunk order, trick 1"),
  needsPipe('unbiasedGradients', '--no-unbiased-gradients', "GNNPipe's ×2 historical gradients, trick 2"),
  needsPipe('snapshotPeriod', '--snapshot-period', "GNNPipe's historical-embedding snapshot, trick 3"),
  needsPipe('warmup', '--warmup', 'exact epochs before pipelining'),
  needsPipe('evalEvery', '--eval-every', "how often the pipeline's exact evaluation runs; other modes evaluate every epoch"),
  needsPipe('stages', '--stages', 'how the model is cut into pipeline stages'),
  needsPipe('graphParallel', '--graph-parallel', 'replicas of every pipeline stage, graph parallelism inside a stage'),
  notInRoom('graphParallel', '--graph-parallel', 'a room re-forms one pipeline over whoever remains, so it runs no replicas of a stage'),
  {
    key: 'model',
    flag: '--model',
    refuse: (f) => (f.mode === 'pipe' && f.model === 'gat' ? PIPE_ATTENTION_REFUSAL : null),
  },
  {
    key: 'profile',
    flag: '--profile',
    refuse: (f) =>
      f.mode !== 'single' ? `--profile times the kernels of one device and is not supported with --mode ${f.mode} (each worker is its own device); profile with --mode single` : null,
  },
  {
    key: 'heads',
    flag: '--heads',
    refuse: (f) => (f.model === 'gat' ? null : `--heads is the number of GAT attention heads and needs --model gat; this run is --model ${f.model}`),
  },
  {
    key: 'residual',
    flag: '--residual',
    refuse: (f) =>
      f.model === 'gcn' || f.model === 'sage'
        ? null
        : `--residual adds residual connections to the built-in gcn and sage models; ${
            f.model === 'gcnii' || f.model === 'resgcn' ? `--model ${f.model} has residual connections of its own` : `this run is --model ${f.model}`
          }`,
  },
  notInRoom('residual', '--residual', "a room's members build the plain built-in model (the room's settings carry no residual flag)"),
  {
    key: 'convWeightDecay',
    flag: '--conv-weight-decay',
    refuse: (f) => (f.model === 'gcnii' ? null : `--conv-weight-decay is the weight decay of GCNII's convolutions and needs --model gcnii; this run is --model ${f.model}`),
  },
  {
    key: 'checkpointEvery',
    flag: '--checkpoint-every',
    refuse: (f) =>
      f.checkpoint === undefined
        ? '--checkpoint-every needs --checkpoint <path> (where to save)'
        : f.mode === 'pipe' && !inRoom(f)
          ? "--checkpoint-every does not apply to --mode pipe: its checkpoint keeps the best validation epoch of the exact evaluations, saved at each new best"
          : null,
  },
];

/** Throws naming every flag the user gave that this run would ignore, and why. */
export function checkTrainFlags(flags: TrainFlagValues, command: Pick<Command, 'getOptionValueSource'>, rules: readonly FlagRule[] = TRAIN_FLAG_RULES): void {
  const problems = rules.flatMap((rule) => {
    if (command.getOptionValueSource(rule.key) !== 'cli') return [];
    const why = rule.refuse(flags);
    return why ? [why] : [];
  });
  if (problems.length) throw new Error(problems.join('; '));
}
