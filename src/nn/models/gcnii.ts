// GCNII (Chen et al. 2020; the official code chennnM/GCNII, `variant` off) as a Sequential of one-tensor
// blocks, so that a pipeline scheduler can cut it between any two of them:
//   input:   x → dropout → Linear → ReLU = h0, out [h0 ‖ h0]
//   conv_l:  [H ‖ h0] → [ReLU(GCNIIConv_l(dropout(H), h0)) ‖ h0]     (one aggregation each)
//   output:  [H ‖ h0] → dropout(H) → Linear → logits
// The initial representation h0 travels in the columns next to H, so every block takes and returns one
// tensor. Dropout masks are the Dropout module's (keyed by global row ids): the same on one device, on
// SAR workers and in pipeline chunks.
//
// Two weight decays, as the paper's Cora setup: `convWeightDecay` (0.01) on the convolutions' weights and
// the run's own (5e-4 in the paper) on the two linear layers.

import { relu } from '../../tensor/ops/activation.ts';
import { concatColumns, sliceColumns } from '../../tensor/ops/layout.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Dropout } from '../dropout.ts';
import { GCNIIConv } from '../gcnii-conv.ts';
import type { NodeGraph } from '../graph-input.ts';
import type { GraphModule } from '../graph-module.ts';
import { ShapeError } from '../input-checks.ts';
import { Linear } from '../linear.ts';
import { Module } from '../module.ts';
import { Sequential } from '../sequential.ts';

export interface GCNIIConfig {
  inChannels: number;
  hiddenChannels: number;
  outChannels: number;
  /** GCNII convolutions (the paper's Cora model has 64). */
  layers: number;
  dropout: number;
  /** Initial-residual weight α (0.1). */
  alpha?: number;
  /** λ of θ_l = log(λ/l + 1) (0.5). */
  lambda?: number;
  /** Weight decay of the convolutions' weights (0.01); the two linear layers take the run's weight decay. */
  convWeightDecay?: number;
}

/** The paper's Cora settings for what a config may leave out. */
export const GCNII_DEFAULTS = { alpha: 0.1, lambda: 0.5, convWeightDecay: 0.01 } as const;

/** The H and h0 halves of a block's [H ‖ h0] input. */
function split(block: Module, graph: NodeGraph, x: Tensor, hidden: number): [Tensor, Tensor] {
  if (x.shape.length !== 2 || x.rows !== graph.numNodes || x.cols !== 2 * hidden) {
    throw new ShapeError(`${block.describePath()}: input ${x} must be [${graph.numNodes}, ${2 * hidden}] ([H ‖ h0], ${hidden} columns each)`);
  }
  return [sliceColumns(x, 0, hidden), sliceColumns(x, hidden, hidden)];
}

/** x → [h0 ‖ h0] with h0 = ReLU(Linear(dropout(x))). */
export class GCNIIInput extends Module {
  readonly drop: Dropout;
  readonly lin: Linear;

  constructor(inChannels: number, hiddenChannels: number, dropout: number) {
    super();
    this.drop = new Dropout(dropout);
    this.lin = new Linear(inChannels, hiddenChannels);
  }

  forward(graph: NodeGraph, x: Tensor): Tensor {
    const h0 = relu(this.lin.forward(this.drop.forward(graph, x)));
    return concatColumns([h0, h0]);
  }
}

/** [H ‖ h0] → [ReLU(GCNIIConv(dropout(H), h0)) ‖ h0]: one GCNII layer, one aggregation. */
export class GCNIIBlock extends Module {
  readonly drop: Dropout;
  readonly conv: GCNIIConv;

  constructor(
    readonly hiddenChannels: number,
    options: { dropout: number; alpha?: number; lambda?: number; layer: number },
  ) {
    super();
    this.drop = new Dropout(options.dropout);
    this.conv = new GCNIIConv(hiddenChannels, options);
  }

  async forward(graph: NodeGraph, x: Tensor): Promise<Tensor> {
    const [h, h0] = split(this, graph, x, this.hiddenChannels);
    const out = relu(await this.conv.forward(graph, this.drop.forward(graph, h), h0));
    return concatColumns([out, h0]);
  }
}

/** [H ‖ h0] → Linear(dropout(H)): the logits. */
export class GCNIIOutput extends Module {
  readonly drop: Dropout;
  readonly lin: Linear;

  constructor(
    readonly hiddenChannels: number,
    outChannels: number,
    dropout: number,
  ) {
    super();
    this.drop = new Dropout(dropout);
    this.lin = new Linear(hiddenChannels, outChannels);
  }

  forward(graph: NodeGraph, x: Tensor): Tensor {
    const [h] = split(this, graph, x, this.hiddenChannels);
    return this.lin.forward(this.drop.forward(graph, h));
  }
}

/** input, conv1 … conv<layers>, output. */
export function gcniiBlocks(c: GCNIIConfig): Record<string, GraphModule> {
  if (!Number.isInteger(c.layers) || c.layers < 1) throw new RangeError(`GCNII: layers must be a positive integer, got ${c.layers}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new RangeError(`GCNII: dropout must be in [0, 1), got ${c.dropout}`);
  const blocks: Record<string, GraphModule> = { input: new GCNIIInput(c.inChannels, c.hiddenChannels, c.dropout) };
  for (let l = 1; l <= c.layers; l++) {
    blocks[`conv${l}`] = new GCNIIBlock(c.hiddenChannels, { dropout: c.dropout, alpha: c.alpha ?? GCNII_DEFAULTS.alpha, lambda: c.lambda ?? GCNII_DEFAULTS.lambda, layer: l });
  }
  blocks.output = new GCNIIOutput(c.hiddenChannels, c.outChannels, c.dropout);
  return blocks;
}

/** The decay of parameter `name` of a GCNII model: `convDecay` in the conv blocks, the run's elsewhere. */
export function gcniiWeightDecay(name: string, runDecay: number, convDecay: number): number {
  return /^conv\d+\./.test(name) ? convDecay : runDecay;
}

export class GCNII extends Sequential {
  constructor(readonly config: GCNIIConfig) {
    super(gcniiBlocks(config));
  }

  override weightDecayFor(name: string, runDecay: number): number {
    return gcniiWeightDecay(name, runDecay, this.config.convWeightDecay ?? GCNII_DEFAULTS.convWeightDecay);
  }

  /** The built-in 'gcnii' config: a checkpoint of this model resumes with `--model gcnii`. */
  override describe(): Record<string, unknown> {
    return { kind: 'gcnii', ...this.config };
  }
}
