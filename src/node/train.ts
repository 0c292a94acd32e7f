// `train` from `webgnn/node`: one call trains a model of one's own on a dataset, on one device or with SAR
// over several (each worker its own device and partition, every replica built by the same factory).
//   await train(new MyModel(), cora)                                  one device
//   await train(() => new MyModel(), cora, { mode: 'sar', workers: 2 }) SAR, in-process devices

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

export interface NodeTrainOptions extends TrainOptions {
  /** 'single' (default): one device; 'sar': full-batch SAR over `workers` devices. */
  mode?: 'single' | 'sar';
  /** SAR: workers (default 2). */
  workers?: number;
  /** SAR: 'local' (default: every worker a device of this process), 'threads' or 'webrtc'. */
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

export async function train(model: GraphModule | ModelSpec, dataset: NodeDataset, options: NodeTrainOptions = {}): Promise<TrainResult> {
  const mode = options.mode ?? 'single';
  if (mode === 'single') {
    for (const flag of ['workers', 'transport', 'partition'] as const) {
      if (options[flag] !== undefined) throw new Error(`train: '${flag}' applies to mode 'sar' only (this run is mode 'single')`);
    }
    const instance = isGraphModule(model) ? model : typeof model === 'function' ? model() : null;
    if (!instance) throw new TypeError("train: mode 'single' takes a Module (or a function that returns one)");
    const gpu = await createNodeGpu({ name: options.adapter });
    try {
      return await trainToEnd(new SingleEngine(gpu, instance, dataset, loopOptions(options).training, options.resume), options);
    } finally {
      gpu.destroy();
    }
  }
  if (mode !== 'sar') throw new Error(`train: mode must be 'single' or 'sar', got '${String(mode)}'`);
  if (isGraphModule(model)) {
    throw new TypeError("train: SAR gives every worker its own replica of the model: pass a function that builds it, e.g. () => new MyModel()");
  }
  const engine = await createSarEngine(
    dataset,
    model,
    loopOptions(options).training,
    { workers: options.workers ?? 2, transport: options.transport ?? 'local', remat: true, partition: options.partition ?? 'metis', adapter: options.adapter },
    options.resume,
  );
  return trainToEnd(engine, options);
}
