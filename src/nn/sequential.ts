// torch.nn.Sequential for graph models: blocks run in order, each `forward(graph, x)`. The list is the
// model's declared layer order, so a pipeline scheduler can cut it into consecutive stages.

import type { Tensor } from '../tensor/tensor.ts';
import type { NodeGraph } from './graph-input.ts';
import { isGraphModule, type GraphModule } from './graph-module.ts';
import { Module } from './module.ts';

export class Sequential extends Module {
  private readonly list: GraphModule[];

  /** Blocks by name (`{ conv1: …, act1: … }`, the names their parameters take) or in a list (0, 1, …). */
  constructor(blocks: GraphModule[] | Record<string, GraphModule>) {
    super();
    const named = Array.isArray(blocks) ? blocks.map((b, i) => [String(i), b] as const) : Object.entries(blocks);
    if (!named.length) throw new RangeError('Sequential: needs at least one block');
    for (const [name, block] of named) {
      if (!isGraphModule(block)) throw new TypeError(`Sequential: block '${name}' is not a Module with forward(graph, x)`);
    }
    this.list = named.map(([name, block]) => this.declareModule(name, block));
  }

  blocks(): Module[] {
    return [...this.list];
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    let h = x;
    for (const block of this.list) h = await block.forward(graph, h);
    return h;
  }
}
