// `webgnn train-temporal --room ws://… --workers N` (create a temporal room and lead it) and `--elastic` (the
// room on 127.0.0.1 with `webgnn join` children): DistTGL across members, each one memory group (memory
// parallelism: members share gradients, never memory). `--epochs` counts passes, as everywhere in
// train-temporal: the room trains ⌈epochs / N⌉ epochs of N passes each (fewer passes an epoch if it
// shrinks). Flags that a room cannot honour are refused with the reason.

import type { RoomTrainingSettings } from '../engines/rooms/room-training.ts';
import { leadRoom, trainElastic } from './room-command.ts';
import type { TrainTemporalFlags } from './train-temporal-flags.ts';

export async function trainTemporalRoom(flags: TrainTemporalFlags): Promise<void> {
  if (flags.room !== undefined && flags.elastic) throw new Error('--room and --elastic are two ways to run a room: give one');
  if (flags.parallel !== undefined && flags.parallel !== 'memory') {
    throw new Error(`--parallel ${flags.parallel} does not apply in a room: its members share no memory (each is one memory group; epoch and mini-batch parallelism need a shared memory, i.e. one machine)`);
  }
  if (flags.staleness !== '0') throw new Error('--staleness does not compose with a room (DistTGL trainers read their memory in order): use --workers 1 for MSPipe');
  if (flags.memory !== undefined) throw new Error("--memory does not apply in a room: each member's memory group lives in its own host RAM");
  if (flags.transport !== 'local') throw new Error('--transport does not apply in a room: its members are linked by WebRTC through the room server');
  if (flags.staticMemory !== undefined || flags.staticMemorySave !== undefined) throw new Error('--static-memory is not supported in rooms yet: train with --workers on one machine');
  if (flags.resume !== undefined) throw new Error('--resume is not supported for temporal rooms yet (a room commit holds the weights, not the memory groups): start the room afresh');
  const training: RoomTrainingSettings = {
    mode: 'temporal',
    model: 'tgn',
    epochs: Math.ceil(flags.epochs / flags.workers),
    lr: flags.lr,
    weightDecay: flags.weightDecay,
    optimizer: flags.optimizer,
    seed: flags.seed,
    checkpointEvery: 0,
    temporal: { batchSize: flags.batchSize, memoryDim: flags.memoryDim, neighbors: flags.neighbors, sampler: flags.sampler, metric: flags.metric, lrScaling: flags.lrScaling },
  };
  const lead = {
    room: flags.room ?? '',
    dataset: flags.dataset,
    temporal: { events: flags.events },
    workers: flags.workers,
    minMembers: flags.minMembers,
    name: flags.name,
    adapter: flags.adapter,
    subgroups: true,
    json: flags.json,
    checkpoint: flags.checkpoint,
    training,
  };
  return flags.elastic ? trainElastic(lead) : leadRoom(lead);
}
