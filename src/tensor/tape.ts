// Define-by-run autograd. Each differentiable op that sees an input requiring grad records an entry;
// `backward` walks the entries in reverse, frees each intermediate gradient once consumed, and
// leaves parameter gradients in `param.grad`. One tape per device, so workers never mix.

import type { Gpu } from '../gpu/gpu.ts';
import { keep } from './scope.ts';
import type { Tensor } from './tensor.ts';

export interface TapeEntry {
  name: string;
  inputs: Tensor[];
  output: Tensor;
  /** Gradients for the inputs (null where `needs[i]` is false or the input has no gradient). */
  backward(gradOutput: Tensor, needs: boolean[]): Array<Tensor | null>;
}

interface Tape {
  entries: TapeEntry[];
  enabled: boolean;
}

const tapes = new WeakMap<Gpu, Tape>();

function tapeOf(gpu: Gpu): Tape {
  let tape = tapes.get(gpu);
  if (!tape) tapes.set(gpu, (tape = { entries: [], enabled: true }));
  return tape;
}

/** Records `output = op(inputs)` if any input needs a gradient. Returns the output for chaining. */
export function record(
  name: string,
  inputs: Tensor[],
  output: Tensor,
  backward: TapeEntry['backward'],
): Tensor {
  const tape = tapeOf(output.gpu);
  if (tape.enabled && inputs.some((t) => t.requiresGrad)) {
    output.requiresGrad = true;
    output.hasCreator = true;
    tape.entries.push({ name, inputs, output, backward });
  }
  return output;
}

/** Runs `fn` without recording (evaluation, optimizer updates). */
export function noGrad<T>(gpu: Gpu, fn: () => T): T {
  const tape = tapeOf(gpu);
  const previous = tape.enabled;
  tape.enabled = false;
  try {
    return fn();
  } finally {
    tape.enabled = previous;
  }
}

export type GradAccumulator = (into: Tensor, add: Tensor) => void;

/**
 * Back-propagates from `root` with upstream gradient `seed` (e.g. ones for a scalar loss).
 * `accumulate(a, b)` adds b into a on the GPU (given by the ops layer to keep this file kernel-free).
 */
export function backward(root: Tensor, seed: Tensor, accumulate: GradAccumulator): void {
  const tape = tapeOf(root.gpu);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const leafSeen = new Set<Tensor>();
  for (let i = tape.entries.length - 1; i >= 0; i--) {
    const entry = tape.entries[i];
    const g = grads.get(entry.output);
    if (!g) continue;
    grads.delete(entry.output);
    const needs = entry.inputs.map((t) => t.requiresGrad);
    const inputGrads = entry.backward(g, needs);
    if (g !== seed) g.dispose();
    entry.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig) return;
      if (!input.requiresGrad) {
        ig.dispose();
        return;
      }
      checkGradShape(entry.name, input, ig);
      if (!input.hasCreator) {
        if (leafSeen.has(input) && input.grad) {
          accumulate(input.grad, ig);
          ig.dispose();
        } else {
          input.grad?.dispose();
          input.grad = keep(ig);
          leafSeen.add(input);
        }
        return;
      }
      const existing = grads.get(input);
      if (existing) {
        accumulate(existing, ig);
        ig.dispose();
      } else {
        grads.set(input, ig);
      }
    });
  }
  for (const g of grads.values()) if (g !== seed) g.dispose();
  tape.entries.length = 0;
}

/** Drops recorded entries without back-propagating (e.g. after an evaluation forward with grad on). */
export function clearTape(gpu: Gpu): void {
  tapeOf(gpu).entries.length = 0;
}

function checkGradShape(op: string, input: Tensor, grad: Tensor): void {
  if (input.size !== grad.size) {
    throw new Error(`autograd: '${op}' produced a gradient of shape ${JSON.stringify(grad.shape)} for input of shape ${JSON.stringify(input.shape)}`);
  }
}
