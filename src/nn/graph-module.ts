// The model contract of node-level tasks: a Module whose forward maps node features to node outputs
// over a graph. Engines (single device, SAR, the browser's worker) schedule any such Module without
// knowing its class; what is partition-aware lives behind `graph` (NodeGraph), never in the model.

import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { Module } from './module.ts';

/**
 * A Module with `forward(graph, x)`: x holds one row per node of `graph` (on a SAR worker, the worker's
 * own nodes), the result one row per node. Asynchronous when it aggregates over a partitioned graph.
 */
export interface GraphModule extends Module {
  forward(graph: NodeGraph, x: Tensor): Tensor | Promise<Tensor>;
}

export function isGraphModule(value: unknown): value is GraphModule {
  return value instanceof Module && typeof (value as { forward?: unknown }).forward === 'function';
}

/**
 * The consecutive blocks of a model, each one graph aggregation or none: where a pipeline scheduler
 * may cut it into stages. A Sequential lists its own; any other model is one block.
 */
export function blocksOf(model: Module): Module[] {
  const declared = (model as { blocks?: () => Module[] }).blocks;
  return typeof declared === 'function' ? declared.call(model) : [model];
}
