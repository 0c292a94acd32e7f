// `train` from `webgnn/node`: one call trains a model of one's own on a dataset, on one device, with SAR
// over several (each worker its own device and partition), or as a GNNPipe pipeline (each stage its own
// device and a run of the model's blocks); every replica is built by the same factory.
//   await train(new MyModel(), cora)                                               one device
//   await train(() => new MyModel(), cora, { mode: 'sar', workers: 2 })              SAR, in-process devices
//   await train(() => new MyModel(), cora, { mode: 'pipe', workers: 2, chunks: 8 })  pipeline of 2 stages

import { loopOptions, trainToEnd, type TrainOptions, type TrainResult } from '../engines/node-classification.ts';
import type { PartitionMethod } from '../engines/sar/placement.ts';
import { SingleEngine } from '../engines/single.ts';
import { loadNodeDataset, type NodeDataset } from '../graph/node-dataset.ts';
import { isGraphModule, type GraphModule } from '../nn/graph-module.ts';
import { loadEventStream, type EventStream, type LoadEventStreamOptions } from '../graph/event-stream.ts';
import { resolveDatasetSource, resolveEventStreamSource } from './dataset-source.ts';
import type { ModelSpec } from './model-source.ts';
import { createNodeGpu } from './node-gpu.ts';
import { createSarEngine, type SarTransportKind } from './sar-setup.ts';
import { createPipeRun } from './pipe-setup.ts';
import { pipeDefaults, type PipeOptions } from '../engines/pipe/pipe-options.ts';

/** Every pipe setting (chunks, recompute, the tricks, …): the keys of its defaults. */
const PIPE_OPTION_KEYS = Object.keys(pipeDefaults(1)) as Array<keyof PipeOptions>;

export interface NodeTrainOptions extends TrainOptions, Partial<PipeOptions> {
  /** 'single' (default): one device; 'sar': full-batch SAR over `workers` devices; 'pipe': a pipeline of `workers` stages. */
  mode?: 'single' | 'sar' | 'pipe';
  /** SAR: workers; pipe: stages (default 2). */
  workers?: number;
  /** SAR and pipe: 'local' (default: every worker a device of this process), 'threads' or 'webrtc'. */
  transport?: SarTransportKind;
  /** SAR: how nodes are split (default 'metis'). */
  partition?: PartitionMethod;
  /** Adapter name (see `webgnn adapters`); default: hardware, else lavapipe, else SwiftShader. */
  adapter?: string;
}

/** An embedded dataset by name (`cora`) or a dataset folder (meta.json, edges.csv, features.csv, labels.csv). */
export function loadDataset(nameOrPath: string): Promise<NodeDataset> {
  return loadNodeDataset(resolveDatasetSource(nameOrPath));
}

/** An event stream by embedded name (`collegemsg`), folder (events.csv, meta.json) or CSV file (src,dst,t[,label][,f…]). */
export function loadEvents(nameOrPath: string, options: LoadEventStreamOptions = {}): Promise<EventStream> {
  const { source, eventsFile } = resolveEventStreamSource(nameOrPath);
  return loadEventStream(source, { ...options, eventsFile });
}

/** The options of one mode only: given in another, they are refused rather than ignored. */
const MODE_OPTIONS: Record<string, ReadonlyArray<'single' | 'sar' | 'pipe'>> = {
  workers: ['sar', 'pipe'],
  transport: ['sar', 'pipe'],
  partition: ['sar'],
  // Mode 'pipe' checkpoints its best validation epoch at each new best.
  checkpointEvery: ['single', 'sar'],
  ...Object.fromEntries(PIPE_OPTION_KEYS.map((key) => [key, ['pipe'] as const])),
};

export async function train(model: GraphModule | ModelSpec, dataset: NodeDataset, options: NodeTrainOptions = {}): Promise<TrainResult> {
  const mode = options.mode ?? 'single';
  if (mode !== 'single' && mode !== 'sar' && mode !== 'pipe') throw new Error(`train: mode must be 'single', 'sar' or 'pipe', got '${String(mode)}'`);
  for (const [key, modes] of Object.entries(MODE_OPTIONS)) {
    if (options[key as keyof NodeTrainOptions] !== undefined && !modes.includes(mode)) {
      throw new Error(`train: '${key}' applies to mode ${modes.map((m) => `'${m}'`).join(' or ')} only (this run is mode '${mode}')`);
    }
  }
  if (mode === 'single') {
    const instance = isGraphModule(model) ? model : typeof model === 'function' ? model() : null;
    if (!instance) throw new TypeError("train: mode 'single' takes a Module (or a function that returns one)");
    const gpu = await createNodeGpu({ name: options.adapter });
    try {
      return await trainToEnd(new SingleEngine(gpu, instance, dataset, loopOptions(options).training, options.resume), options);
    } finally {
      gpu.destroy();
    }
  }
  if (isGraphModule(model)) {
    throw new TypeError(`train: ${mode === 'sar' ? 'SAR gives every worker' : 'a pipeline gives every stage'} its own replica of the model: pass a function that builds it, e.g. () => new MyModel()`);
  }
  const { training } = loopOptions(options);
  const workers = options.workers ?? 2;
  const transport = options.transport ?? 'local';
  const engine =
    mode === 'sar'
      ? await createSarEngine(dataset, model, training, { workers, transport, remat: true, partition: options.partition ?? 'metis', adapter: options.adapter }, options.resume)
      : await createPipeRun(dataset, model, training, { workers, transport, adapter: options.adapter }, pipeOptionsOf(options), options.resume);
  return trainToEnd(engine, options);
}

/** The pipe settings given (the rest take pipeDefaults). */
function pipeOptionsOf(options: NodeTrainOptions): Partial<PipeOptions> {
  return Object.fromEntries(PIPE_OPTION_KEYS.flatMap((key) => (options[key] === undefined ? [] : [[key, options[key]]])));
}
