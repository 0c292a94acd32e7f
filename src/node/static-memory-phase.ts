// `train-temporal --static-memory`: DistTGL's static node memory for phase two, either learned here first
// (phase one: StaticMemoryModel trained on the training events for --static-epochs, the table of its best
// validation epoch kept) or read from a file a previous run saved (--static-memory-save). The file is a
// webgnn checkpoint of phase one; its tensor `param:static_memory` [numNodes, memoryDim] is the table.

import { TemporalEngine } from '../engines/temporal.ts';
import type { EventStream } from '../graph/event-stream.ts';
import type { TemporalSplit } from '../graph/temporal-split.ts';
import type { CheckpointData } from '../nn/checkpoint.ts';
import { StaticMemoryModel } from '../nn/tgn/static-memory-model.ts';
import type { TgnConfig } from '../nn/tgn/tgn.ts';
import { loadCheckpointFile, saveCheckpointFile } from './checkpoint-file.ts';
import { createNodeGpu } from './node-gpu.ts';

const TABLE = 'param:static_memory';

export interface StaticMemoryPhase {
  table: Float32Array;
  /** Where it came from: learned here (with phase one's figures) or read from a file. */
  source: { learned: { epochs: number; bestEpoch: number; valAp: number; testAp: number; seconds: number } } | { file: string };
}

export interface StaticMemoryPhaseOptions {
  epochs: number;
  seed: number;
  lr: number;
  batchSize: number;
  adapter?: string;
  /** Writes phase one's best checkpoint here (to give to a later run's --static-memory). */
  save?: string;
  log?: (line: string) => void;
}

/** The table from `file`, checked against the stream and the model's memory width. */
export async function readStaticMemory(file: string, numNodes: number, memoryDim: number): Promise<StaticMemoryPhase> {
  const data = await loadCheckpointFile(file);
  const tensor = data.tensors.find((t) => t.name === TABLE);
  if (!tensor) throw new Error(`--static-memory ${file}: the file holds no '${TABLE}' tensor (write one with --static-memory-save)`);
  if (tensor.shape.length !== 2 || tensor.shape[0] !== numNodes || tensor.shape[1] !== memoryDim) {
    throw new Error(`--static-memory ${file}: its table is [${tensor.shape}], this run needs [${numNodes}, ${memoryDim}] (the stream's nodes × --memory-dim)`);
  }
  return { table: tensor.data, source: { file } };
}

/** Phase one on one device: the static table of the best validation epoch. */
export async function learnStaticMemory(stream: EventStream, split: TemporalSplit, config: TgnConfig, options: StaticMemoryPhaseOptions): Promise<StaticMemoryPhase> {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new RangeError(`--static-epochs must be a positive integer, got ${options.epochs}`);
  const started = performance.now();
  const gpu = await createNodeGpu({ name: options.adapter, label: 'static memory' });
  const engine = new TemporalEngine(gpu, new StaticMemoryModel(config), stream, split, { seed: options.seed, lr: options.lr, batchSize: options.batchSize });
  let best: { epoch: number; valAp: number; testAp: number; checkpoint: CheckpointData } | null = null;
  try {
    for await (const m of engine.run(options.epochs)) {
      options.log?.(`static memory epoch ${m.epoch}: loss ${m.loss.toFixed(4)} · val AP ${m.valAp.toFixed(4)} · test AP ${m.testAp.toFixed(4)}`);
      if (!Number.isFinite(m.loss)) throw new Error(`static memory pre-training diverged at epoch ${m.epoch} (try a lower --lr)`);
      if (!best || m.valAp > best.valAp) best = { epoch: m.epoch, valAp: m.valAp, testAp: m.testAp, checkpoint: await engine.snapshot() };
    }
  } finally {
    engine.dispose();
    gpu.destroy();
  }
  const { checkpoint } = best!;
  if (options.save) await saveCheckpointFile(options.save, checkpoint);
  const table = checkpoint.tensors.find((t) => t.name === TABLE)!.data;
  return { table, source: { learned: { epochs: options.epochs, bestEpoch: best!.epoch, valAp: best!.valAp, testAp: best!.testAp, seconds: (performance.now() - started) / 1000 } } };
}

/** The static memory a run asked for (--static-memory [file]), or null; the flags that need it are refused without it. */
export async function staticMemoryFor(
  flags: { staticMemory?: boolean | string; staticEpochs: number; staticMemorySave?: string; seed: number; lr: number; batchSize: number; adapter?: string; progress: boolean },
  stream: EventStream,
  split: TemporalSplit,
  config: TgnConfig,
): Promise<StaticMemoryPhase | null> {
  if (flags.staticMemory === undefined || flags.staticMemory === false) {
    if (flags.staticMemorySave) throw new Error('--static-memory-save saves the table --static-memory learns; add --static-memory');
    return null;
  }
  if (typeof flags.staticMemory === 'string') {
    if (flags.staticMemorySave) throw new Error(`--static-memory-save does not apply with --static-memory ${flags.staticMemory}: nothing is learned, the table is read from that file`);
    return readStaticMemory(flags.staticMemory, stream.numNodes, config.memoryDim);
  }
  return learnStaticMemory(stream, split, config, {
    epochs: flags.staticEpochs,
    seed: flags.seed,
    lr: flags.lr,
    batchSize: flags.batchSize,
    adapter: flags.adapter,
    save: flags.staticMemorySave,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

/** The summary's `static_memory` field. */
export function describeStaticMemory(phase: StaticMemoryPhase | null): Record<string, unknown> | null {
  if (!phase) return null;
  if ('file' in phase.source) return { file: phase.source.file };
  const l = phase.source.learned;
  return { learned: { epochs: l.epochs, best_epoch: l.bestEpoch, val_ap: l.valAp, test_ap: l.testAp, seconds: l.seconds } };
}
