// Before a SAR run starts: does the model only do what SAR can split over workers? SAR partitions the
// rows (nodes); a model is exact under it when every op it applies to node rows is row-local (each output
// row depends on the same input row: activations, dropout, x·W, bias, per-row norms, concatenation of
// columns and slices of columns) and every mixing of rows goes through the graph (`graph.aggregate`, `graph.attend`), which
// SarWorker's PartitionedGraph answers with its peers' rows. Anything else — selecting rows by position,
// a product that mixes rows, a sparse product over a matrix of the model's own — would silently compute
// something else on a partition, so it is refused, naming the op and the layer.
//
// The check runs the model's forward once on a tiny graph on this device with the input marked as
// needing a gradient, reads the ops from the autograd tape, and follows which tensors hold node rows.

import type { Gpu } from '../../gpu/gpu.ts';
import { GraphInput, type Aggregation, type NodeGraph, type RandomKey } from '../../nn/graph-input.ts';
import type { GraphModule } from '../../nn/graph-module.ts';
import type { Module } from '../../nn/module.ts';
import { fromArray } from '../../tensor/create.ts';
import type { GatAttentionOptions } from '../../tensor/ops/gat-attention.ts';
import { withScopeAsync } from '../../tensor/scope.ts';
import { clearTape, tapeEntries } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** Ops whose output row i depends only on row i of their node-row inputs. */
const ROW_LOCAL = new Set(['relu', 'elu', 'leakyRelu', 'dropout', 'addBias', 'scale', 'add', 'layerNorm', 'concatColumns', 'sliceColumns', 'timeEncoding', 'gruGates']);

export class PartitionError extends Error {
  constructor(
    readonly op: string,
    readonly layer: string,
  ) {
    super(
      `SAR cannot partition op '${op}' in layer ${layer}: under SAR each worker holds only its own nodes' rows, and this op ` +
        `mixes or selects rows outside graph.aggregate/graph.attend. Aggregate over neighbours through the graph, or train with --mode single`,
    );
    this.name = 'PartitionError';
  }
}

/** A tiny graph (a path over 4 nodes) that records which tape entries its aggregations made. */
class ProbeGraph implements NodeGraph {
  readonly numNodes = 4;
  readonly rowIds = null;
  readonly random: RandomKey = { seed: 0, step: 0 };
  readonly inside: Array<[number, number]> = [];
  readonly outputs = new Set<Tensor>();
  private readonly graph: GraphInput;

  constructor(private readonly gpu: Gpu) {
    this.graph = new GraphInput(gpu, 4, Int32Array.of(0, 1, 2), Int32Array.of(1, 2, 3), true);
  }

  async aggregate(kind: Aggregation, x: Tensor): Promise<Tensor> {
    return this.track(() => this.graph.aggregate(kind, x));
  }

  async attend(z: Tensor, aSrc: Tensor, aDst: Tensor, options: GatAttentionOptions): Promise<Tensor> {
    return this.track(() => this.graph.attend(z, aSrc, aDst, options));
  }

  private track(op: () => Tensor): Tensor {
    const start = tapeEntries(this.gpu).length;
    const out = op();
    this.inside.push([start, tapeEntries(this.gpu).length]);
    this.outputs.add(out);
    return out;
  }

  dispose(): void {
    this.graph.dispose();
  }
}

/**
 * Throws a PartitionError if `model` (materialised on `gpu`, its input `inChannels` wide) applies an op
 * to node rows that SAR cannot split. Leaves nothing recorded and nothing allocated.
 */
export async function checkPartitionable(gpu: Gpu, model: GraphModule, inChannels: number): Promise<void> {
  const probe = new ProbeGraph(gpu);
  const layerOf: string[] = [];
  const restore = attributeEntries(gpu, model, layerOf);
  try {
    await withScopeAsync(gpu, async () => {
      const x = fromArray(gpu, new Float32Array(probe.numNodes * inChannels), [probe.numNodes, inChannels], { label: 'partition probe' });
      x.requiresGrad = true;
      model.train();
      await model.forward(probe, x);
      const entries = tapeEntries(gpu);
      const internal = (i: number) => probe.inside.some(([a, b]) => i >= a && i < b);
      const nodeRows = new Set<Tensor>([x]);
      entries.forEach((entry, i) => {
        if (internal(i)) return;
        const rowInputs = entry.inputs.map((t) => nodeRows.has(t) || probe.outputs.has(t));
        if (!rowInputs.some(Boolean)) return;
        const local = entry.name === 'matmul' ? rowInputs[0] && !rowInputs[1] : ROW_LOCAL.has(entry.name);
        if (!local) throw new PartitionError(entry.name, layerOf[i] ?? `'${model.constructor.name}'`);
        nodeRows.add(entry.output);
      });
    });
  } finally {
    clearTape(gpu);
    restore();
    probe.dispose();
  }
}

/** Wraps every module's forward so each tape entry is attributed to the innermost module that made it. */
function attributeEntries(gpu: Gpu, model: Module, layerOf: string[]): () => void {
  const wrapped: Array<{ module: Module & { forward: (...a: unknown[]) => unknown } }> = [];
  for (const m of model.modules()) {
    const module = m as Module & { forward?: (...a: unknown[]) => unknown };
    const original = module.forward;
    if (typeof original !== 'function') continue;
    const name = module === model ? `'${model.constructor.name}'` : module.describePath();
    const claim = (start: number) => {
      for (let i = start; i < tapeEntries(gpu).length; i++) layerOf[i] ??= name;
    };
    module.forward = function (this: unknown, ...args: unknown[]) {
      const start = tapeEntries(gpu).length;
      const out = original.apply(module, args);
      if (out instanceof Promise) return out.then((v) => (claim(start), v));
      claim(start);
      return out;
    };
    wrapped.push({ module: module as Module & { forward: (...a: unknown[]) => unknown } });
  }
  return () => {
    for (const { module } of wrapped) delete (module as { forward?: unknown }).forward;
  };
}
