// The typed errors a graph layer raises before it records anything: an input that is not one row per
// node, or not as wide as the layer expects, named with the layer's path and both shapes.

import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import type { Module } from './module.ts';

export class ShapeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

export function checkNodeInput(layer: Module, graph: NodeGraph, x: Tensor, inChannels: number): void {
  if (x.shape.length !== 2) throw new ShapeError(`${layer.describePath()}: input ${x} must be [nodes, ${inChannels}]`);
  if (x.rows !== graph.numNodes) {
    throw new ShapeError(`${layer.describePath()}: input ${x} has ${x.rows} rows but the graph has ${graph.numNodes} nodes (one row per node)`);
  }
  if (x.cols !== inChannels) throw new ShapeError(`${layer.describePath()}: input ${x} has ${x.cols} columns, the layer expects ${inChannels}`);
}
