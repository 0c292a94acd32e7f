// What every train-temporal run starts from, one trainer or many, in a room or not: the event stream
// (embedded, a folder or a .csv, cut to its first --events), its chronological split, TGN's config for it,
// and the checkpoint to resume, refused when it holds another TGN.

import type { EventStream } from '../graph/event-stream.ts';
import { loadEventStream } from '../graph/event-stream.ts';
import { firstEvents } from '../graph/event-stream-prefix.ts';
import { requireEverySet, splitEvents, type TemporalSplit } from '../graph/temporal-split.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { TGN_DEFAULTS, type TgnConfig } from '../nn/tgn/tgn.ts';
import { loadCheckpointFile } from './checkpoint-file.ts';
import { resolveEventStreamSource } from './dataset-source.ts';
import type { TrainTemporalFlags } from './train-temporal-flags.ts';

/** An event stream by name or path, cut to its first `events` when given. */
export async function loadStreamPrefix(dataset: string, events?: number): Promise<EventStream> {
  const { source, eventsFile } = resolveEventStreamSource(dataset);
  const stream = await loadEventStream(source, { eventsFile });
  return events === undefined ? stream : firstEvents(stream, events);
}

/** The stream, its split (every set non-empty) and TGN's config for the flags. */
export async function temporalWorkload(flags: TrainTemporalFlags): Promise<{ stream: EventStream; split: TemporalSplit; config: TgnConfig }> {
  const stream = await loadStreamPrefix(flags.dataset, flags.events);
  const split = splitEvents(stream, { seed: flags.seed });
  requireEverySet(split, stream);
  const config = { ...TGN_DEFAULTS, memoryDim: flags.memoryDim, neighbors: flags.neighbors, numNodes: stream.numNodes, edgeDim: stream.edgeDim };
  return { stream, split, config };
}

/** The --resume checkpoint, refused when it holds another TGN than `config`. */
export async function temporalResume(flags: TrainTemporalFlags, config: TgnConfig): Promise<CheckpointData | undefined> {
  if (!flags.resume) return undefined;
  const resume = await loadCheckpointFile(flags.resume);
  if (JSON.stringify(resume.config.tgn) !== JSON.stringify(config)) {
    throw new Error(`cannot resume from ${flags.resume}: it holds TGN ${JSON.stringify(resume.config.tgn)}, this run asks for ${JSON.stringify(config)}`);
  }
  return resume;
}
