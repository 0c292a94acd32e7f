// What each built-in model costs per node row, block by block (the blocks a pipeline cuts between):
// the floats its forward keeps for the backward, what its evaluation pass allocates, the transient
// gradients of its backward, its dense FLOPs and the aggregations it runs (kind and width).
// Written from the layers' code (src/nn): each tensor a layer's forward creates is one term here; the
// test in test/node/plan.test.ts holds the totals against what the engines really allocate.

import type { NodeModelKind } from '../nn/models/node-classifier.ts';

export type AggregationKind = 'gcn' | 'mean' | 'attention';

export interface AggregationCost {
  kind: AggregationKind;
  /** Floats per row aggregated (for attention: heads × channels per head). */
  width: number;
  heads?: number;
  /** False when it aggregates the input features themselves: nothing flows back through it (no backward pass, no gradients sent). */
  needsGradient: boolean;
}

export interface BlockCost {
  name: string;
  params: number;
  /** Columns of the block's output (what a pipeline sends to the next stage). */
  outWidth: number;
  aggregations: AggregationCost[];
  /** Floats per row the training forward allocates and keeps until the step ends. */
  trainFloats: number;
  /** Floats per row the evaluation forward allocates. */
  evalFloats: number;
  /** Floats per row of gradients alive at once in this block's backward. */
  backwardFloats: number;
  /** Dense FLOPs per row of one forward. */
  flopsPerRow: number;
  /** Floats per row read and written by elementwise kernels in one forward. */
  elementwiseFloats: number;
  /** Kernel dispatches of one forward (the backward counts twice as many). */
  dispatches: number;
}

export interface ModelSpec {
  kind: NodeModelKind;
  layers: number;
  hidden: number;
  heads: number;
  dropout: number;
}

export interface ModelCost {
  spec: ModelSpec;
  blocks: BlockCost[];
  params: number;
}

/** Dropout (a new tensor in training, none in evaluation); on the input features no gradient flows back. */
function dropoutBlock(name: string, width: number, p: number, first: boolean): BlockCost[] {
  if (p <= 0) return [];
  return [{ name, params: 0, outWidth: width, aggregations: [], trainFloats: width, evalFloats: 0, backwardFloats: first ? 0 : width, flopsPerRow: 0, elementwiseFloats: 2 * width, dispatches: 1 }];
}

function activation(name: string, width: number): BlockCost {
  return { name, params: 0, outWidth: width, aggregations: [], trainFloats: width, evalFloats: width, backwardFloats: width, flopsPerRow: 0, elementwiseFloats: 2 * width, dispatches: 1 };
}

/** GCNConv: X·W, aggregate, + bias (three tensors of the output width). */
function gcnConv(name: string, a: number, b: number, first: boolean): BlockCost {
  return {
    name,
    params: a * b + b,
    outWidth: b,
    aggregations: [{ kind: 'gcn', width: b, needsGradient: true }],
    trainFloats: 3 * b,
    evalFloats: 3 * b,
    backwardFloats: 2 * b + (first ? 0 : a),
    flopsPerRow: 2 * a * b,
    elementwiseFloats: 3 * b,
    dispatches: 3,
  };
}

/** SAGEConv (mean, root weight): the product first when it narrows the rows aggregated. */
function sageConv(name: string, a: number, b: number, first: boolean): BlockCost {
  const narrow = b < a;
  return {
    name,
    params: 2 * a * b + b,
    outWidth: b,
    aggregations: [{ kind: 'mean', width: narrow ? b : a, needsGradient: narrow || !first }],
    trainFloats: narrow ? 5 * b : a + 4 * b,
    evalFloats: narrow ? 5 * b : a + 4 * b,
    backwardFloats: 3 * b + (first ? 0 : a),
    flopsPerRow: 4 * a * b,
    elementwiseFloats: 6 * b,
    dispatches: 5,
  };
}

/** GATConv: z = X·W (heads × b), fused attention (scores recomputed, not stored), head mean, bias. */
function gatConv(name: string, a: number, b: number, heads: number, concat: boolean, first: boolean): BlockCost {
  const z = heads * b;
  const out = concat ? z : b;
  const averaged = !concat && heads > 1;
  return {
    name,
    params: a * z + 2 * z + out,
    outWidth: out,
    aggregations: [{ kind: 'attention', width: z, heads, needsGradient: true }],
    // z, the attention output and its per-row softmax statistics (max and sum per head), the head mean, the bias.
    trainFloats: 2 * z + 2 * heads + (averaged ? b : 0) + out,
    evalFloats: 2 * z + 2 * heads + (averaged ? b : 0) + out,
    backwardFloats: 2 * z + (first ? 0 : a),
    flopsPerRow: 2 * a * z + (averaged ? 2 * z * b : 0),
    elementwiseFloats: 2 * out,
    dispatches: 4,
  };
}

function classifierBlocks(s: ModelSpec, inChannels: number, classes: number): BlockCost[] {
  const blocks: BlockCost[] = [];
  for (let i = 0; i < s.layers; i++) {
    const last = i === s.layers - 1;
    const a = i === 0 ? inChannels : s.kind === 'gat' ? s.hidden * s.heads : s.hidden;
    const b = last ? classes : s.hidden;
    blocks.push(...dropoutBlock(`drop${i + 1}`, a, s.dropout, i === 0));
    if (s.kind === 'gcn') blocks.push(gcnConv(`conv${i + 1}`, a, b, i === 0));
    else if (s.kind === 'sage') blocks.push(sageConv(`conv${i + 1}`, a, b, i === 0));
    else blocks.push(gatConv(`conv${i + 1}`, a, b, last ? 1 : s.heads, !last, i === 0));
    if (!last) blocks.push(activation(`act${i + 1}`, s.kind === 'gat' ? s.hidden * s.heads : s.hidden));
  }
  return blocks;
}

/** GCNII (models/gcnii.ts): input [h0 ‖ h0], L blocks on [H ‖ h0], output Linear; one aggregation per block. */
function gcniiBlocks(s: ModelSpec, inChannels: number, classes: number): BlockCost[] {
  const h = s.hidden;
  const drop = s.dropout > 0 ? 1 : 0;
  const blocks: BlockCost[] = [
    {
      name: 'input',
      params: inChannels * h + h,
      outWidth: 2 * h,
      aggregations: [],
      // dropout(x), x·W, + bias, ReLU, [h0 ‖ h0]
      trainFloats: drop * inChannels + 3 * h + 2 * h,
      evalFloats: 3 * h + 2 * h,
      backwardFloats: 3 * h,
      flopsPerRow: 2 * inChannels * h,
      elementwiseFloats: 6 * h,
      dispatches: 5,
    },
  ];
  for (let l = 1; l <= s.layers; l++) {
    blocks.push({
      name: `conv${l}`,
      params: h * h,
      outWidth: 2 * h,
      aggregations: [{ kind: 'gcn', width: h, needsGradient: true }],
      // H and h0 split out, dropout(H), aggregate, + α·h0, ·W, + (1−θ)S, ReLU, [H' ‖ h0]
      trainFloats: 2 * h + drop * h + 5 * h + 2 * h,
      evalFloats: 2 * h + 5 * h + 2 * h,
      backwardFloats: 4 * h,
      flopsPerRow: 2 * h * h,
      elementwiseFloats: 12 * h,
      dispatches: 9,
    });
  }
  blocks.push({
    name: 'output',
    params: h * classes + classes,
    outWidth: classes,
    aggregations: [],
    // H and h0 split out, dropout(H), ·W, + bias
    trainFloats: 2 * h + drop * h + 2 * classes,
    evalFloats: 2 * h + 2 * classes,
    backwardFloats: 2 * h,
    flopsPerRow: 2 * h * classes,
    elementwiseFloats: 2 * classes,
    dispatches: 4,
  });
  return blocks;
}

export const PLANNED_MODELS: readonly NodeModelKind[] = ['gcn', 'sage', 'gat', 'gcnii'];

export function modelCost(spec: ModelSpec, inChannels: number, classes: number): ModelCost {
  if (!PLANNED_MODELS.includes(spec.kind)) throw new RangeError(`plan: model '${spec.kind}' has no cost description (planned: ${PLANNED_MODELS.join(', ')})`);
  const blocks = spec.kind === 'gcnii' ? gcniiBlocks(spec, inChannels, classes) : classifierBlocks(spec, inChannels, classes);
  return { spec, blocks, params: blocks.reduce((s, b) => s + b.params, 0) };
}

/** Floats per row of the loss and metrics over `classes` logits (softmax gradient, per-node losses, predictions). */
export function lossFloats(classes: number): number {
  return classes + 3;
}
