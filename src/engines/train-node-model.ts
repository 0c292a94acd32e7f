// The shortest way to train a node model on a device you already have (browser or Node):
//   const result = await trainNodeModel(gpu, new MyModel(), dataset, { epochs: 200 });

import type { Gpu } from '../gpu/gpu.ts';
import type { NodeDataset } from '../graph/node-dataset.ts';
import type { GraphModule } from '../nn/graph-module.ts';
import { loopOptions, trainToEnd, type TrainOptions, type TrainResult } from './node-classification.ts';
import { SingleEngine } from './single.ts';

export function trainNodeModel(gpu: Gpu, model: GraphModule, dataset: NodeDataset, options: TrainOptions = {}): Promise<TrainResult> {
  const engine = new SingleEngine(gpu, model, dataset, loopOptions(options).training, options.resume);
  return trainToEnd(engine, options);
}
