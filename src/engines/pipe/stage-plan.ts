// How a model is cut into pipeline stages: each stage owns a contiguous run of the model's blocks
// (blocksOf). A cut may fall only right after a block with parameters, so parameter-free blocks
// (dropout, activations) travel with the layer they precede; the "layers" are the blocks with
// parameters. Stages are sized by a cost per block — measured on the device at start ('profile'), or
// one per layer ('equal') — so that the slowest stage is as fast as it can be (linear partition).

import type { Gpu } from '../../gpu/gpu.ts';
import type { GraphModule } from '../../nn/graph-module.ts';
import type { Module } from '../../nn/module.ts';
import type { NodeGraph } from '../../nn/graph-input.ts';
import { withScopeAsync } from '../../tensor/scope.ts';
import { noGradAsync } from '../../tensor/tape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

export type StageMethod = 'profile' | 'equal';

export interface StageRange {
  /** Blocks [first, end) of blocksOf(model). */
  first: number;
  end: number;
}

export interface StagePlan {
  method: StageMethod;
  stages: StageRange[];
  /** Output width of every block (the last: the classes); a stage sends its last block's. */
  widths: number[];
  /** Cost of every block (ms measured, or 1 per layer). */
  costs: number[];
}

/** Blocks that a stage can start with: block 0 and every block right after a block with parameters (with one after it). */
export function cutPoints(blocks: Module[]): number[] {
  const hasParams = blocks.map((b) => b.parameterShapes().length > 0);
  const lastParam = hasParams.lastIndexOf(true);
  const points = [0];
  for (let i = 1; i <= lastParam; i++) if (hasParams[i - 1] && i <= lastParam) points.push(i);
  return points;
}

/** Refuses a model or stage count that cannot be cut, with what to do. */
export function checkCuttable(blocks: Module[], stages: number): void {
  const layers = blocks.filter((b) => b.parameterShapes().length > 0).length;
  if (stages > 1 && blocks.length === 1) {
    throw new RangeError(
      `--mode pipe: the model is one block (${blocks[0].constructor.name}), so it cannot be cut into ${stages} stages: build it as a Sequential of blocks (or declare blocks()), or use --workers 1`,
    );
  }
  if (stages > layers) {
    throw new RangeError(`--mode pipe: ${stages} stages but the model has ${layers} layers (blocks with parameters): use at most ${layers} workers, or more layers`);
  }
}

/**
 * Contiguous groups of the units (runs of blocks between cut points) minimising the largest group cost:
 * the classic linear-partition dynamic programme, O(stages · units²).
 */
export function assignStages(costs: number[], points: number[], stages: number): StageRange[] {
  const B = costs.length;
  const unitStart = points;
  const U = unitStart.length;
  if (stages > U) throw new RangeError(`assignStages: ${stages} stages for ${U} cuttable units`);
  const unitCost = unitStart.map((s, u) => costs.slice(s, u + 1 < U ? unitStart[u + 1] : B).reduce((a, b) => a + b, 0));
  const prefix = [0];
  for (const c of unitCost) prefix.push(prefix[prefix.length - 1] + c);
  // best[p][u]: the least max cost of the first u units in p groups; cut[p][u]: where the last group starts.
  const best = Array.from({ length: stages + 1 }, () => new Array<number>(U + 1).fill(Infinity));
  const cut = Array.from({ length: stages + 1 }, () => new Array<number>(U + 1).fill(0));
  best[0][0] = 0;
  for (let p = 1; p <= stages; p++) {
    for (let u = p; u <= U; u++) {
      for (let k = p - 1; k < u; k++) {
        const value = Math.max(best[p - 1][k], prefix[u] - prefix[k]);
        // Ties go to the later cut: earlier stages then hold no more than later ones.
        if (value < best[p][u] || (value === best[p][u] && k > cut[p][u])) {
          best[p][u] = value;
          cut[p][u] = k;
        }
      }
    }
  }
  const ranges: StageRange[] = [];
  let u = U;
  for (let p = stages; p >= 1; p--) {
    const k = cut[p][u];
    ranges.unshift({ first: unitStart[k], end: u < U ? unitStart[u] : B });
    u = k;
  }
  return ranges;
}

/**
 * Runs the model's blocks over `graph` (an exact forward on the whole graph, in training mode, no
 * gradients), timing each on `gpu`: the per-block cost profile, and every block's output width.
 * The model must be materialised on `gpu`.
 */
export async function profileBlocks(gpu: Gpu, blocks: Module[], graph: NodeGraph, x: Tensor, passes = 2): Promise<{ costs: number[]; widths: number[] }> {
  let costs: number[] = [];
  let widths: number[] = [];
  // Twice by default, timing the second pass: the first compiles every kernel, which would swamp the early blocks.
  for (let pass = 0; pass < passes; pass++) {
    costs = [];
    widths = [];
    await noGradAsync(gpu, async () => {
      let h = x;
      await gpu.finish();
      for (const block of blocks) {
        block.train();
        const start = performance.now();
        // One block's intermediates at a time (the whole graph passes through): its input is freed after it.
        const input = h;
        h = await withScopeAsync(gpu, async () => (block as GraphModule).forward(graph, input));
        await gpu.finish();
        costs.push(performance.now() - start);
        widths.push(h.cols);
        if (input !== x && input !== h) input.dispose();
      }
      if (h !== x) h.dispose();
    });
  }
  // The whole graph's buffers are of sizes training will not use again.
  gpu.submit();
  gpu.pool.trim();
  return { costs, widths };
}

/** The plan for `stages` stages from block costs and widths. */
export function planStages(blocks: Module[], stages: number, method: StageMethod, measured: { costs: number[]; widths: number[] }): StagePlan {
  checkCuttable(blocks, stages);
  const costs = method === 'equal' ? blocks.map((b) => (b.parameterShapes().length > 0 ? 1 : 0)) : measured.costs;
  return { method, stages: assignStages(costs, cutPoints(blocks), stages), widths: measured.widths, costs };
}

/** "blocks 0–4 (drop1 … act2) | 5–9 …": the assignment as the summary prints it. */
export function describePlan(plan: StagePlan, blocks: Module[]): string[] {
  return plan.stages.map((s, i) => {
    const names = blocks.slice(s.first, s.end).map((b) => b.path.split('.').pop() || b.constructor.name);
    const cost = plan.costs.slice(s.first, s.end).reduce((a, b) => a + b, 0);
    const shown = names.length > 4 ? `${names[0]} … ${names[names.length - 1]}` : names.join(', ');
    return `stage ${i}: blocks ${s.first}–${s.end - 1} (${shown}), cost ${plan.method === 'equal' ? `${cost} layers` : `${cost.toFixed(1)} ms`}, sends ${plan.widths[s.end - 1]} columns`;
  });
}
