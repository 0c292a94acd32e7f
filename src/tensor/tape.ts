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
  /**
   * Gradients for the inputs (null where `needs[i]` is false or the input has no gradient). Ops that
   * talk to other workers return a promise; only `backwardAsync` can walk those.
   */
  backward(gradOutput: Tensor, needs: boolean[]): Array<Tensor | null> | Promise<Array<Tensor | null>>;
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

/** The entries recorded on `gpu` so far, oldest first (read-only: e.g. to check which ops a model uses). */
export function tapeEntries(gpu: Gpu): readonly TapeEntry[] {
  return tapeOf(gpu).entries;
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

/** As `noGrad`, for an asynchronous `fn` (only this device's work may run on `gpu` meanwhile). */
export async function noGradAsync<T>(gpu: Gpu, fn: () => Promise<T>): Promise<T> {
  const tape = tapeOf(gpu);
  const previous = tape.enabled;
  tape.enabled = false;
  try {
    return await fn();
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
  const walk = new BackwardWalk(root, seed, accumulate);
  for (let entry = walk.next(); entry; entry = walk.next()) {
    const inputGrads = entry.backward(walk.gradOf(entry), entry.inputs.map((t) => t.requiresGrad));
    if (inputGrads instanceof Promise) throw new Error(`autograd: '${entry.name}' is asynchronous; use backwardAsync`);
    walk.consume(entry, inputGrads);
  }
  walk.finish();
}

/** As `backward`, awaiting ops whose backward talks to other workers (in tape order, one at a time). */
export async function backwardAsync(root: Tensor, seed: Tensor, accumulate: GradAccumulator): Promise<void> {
  const walk = new BackwardWalk(root, seed, accumulate);
  try {
    for (let entry = walk.next(); entry; entry = walk.next()) {
      walk.consume(entry, await entry.backward(walk.gradOf(entry), entry.inputs.map((t) => t.requiresGrad)));
    }
  } finally {
    walk.finish();
  }
}

/** The state of one reverse walk over a device's tape. */
class BackwardWalk {
  private readonly tape: Tape;
  private readonly grads: Map<Tensor, Tensor>;
  private readonly leafSeen = new Set<Tensor>();
  private index: number;

  constructor(
    root: Tensor,
    private readonly seed: Tensor,
    private readonly accumulate: GradAccumulator,
  ) {
    this.tape = tapeOf(root.gpu);
    this.grads = new Map([[root, seed]]);
    this.index = this.tape.entries.length;
  }

  /** The next entry (in reverse) whose output received a gradient, or null at the end. */
  next(): TapeEntry | null {
    while (--this.index >= 0) {
      const entry = this.tape.entries[this.index];
      if (this.grads.has(entry.output)) return entry;
    }
    return null;
  }

  gradOf(entry: TapeEntry): Tensor {
    return this.grads.get(entry.output)!;
  }

  consume(entry: TapeEntry, inputGrads: Array<Tensor | null>): void {
    const g = this.grads.get(entry.output)!;
    this.grads.delete(entry.output);
    if (g !== this.seed) g.dispose();
    entry.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig) return;
      if (!input.requiresGrad) {
        ig.dispose();
        return;
      }
      checkGradShape(entry.name, input, ig);
      if (!input.hasCreator) {
        if (this.leafSeen.has(input) && input.grad) {
          this.accumulate(input.grad, ig);
          ig.dispose();
        } else {
          input.grad?.dispose();
          input.grad = keep(ig);
          this.leafSeen.add(input);
        }
        return;
      }
      const existing = this.grads.get(input);
      if (existing) {
        this.accumulate(existing, ig);
        ig.dispose();
      } else {
        this.grads.set(input, ig);
      }
    });
  }

  finish(): void {
    for (const g of this.grads.values()) if (g !== this.seed) g.dispose();
    this.grads.clear();
    this.tape.entries.length = 0;
  }
}

/**
 * Takes the entries recorded so far off the tape (a pipeline stage keeps one chunk's forward while it
 * records the next); `restoreTape` puts them back before that chunk's backward.
 */
export function takeTape(gpu: Gpu): TapeEntry[] {
  const tape = tapeOf(gpu);
  return tape.entries.splice(0, tape.entries.length);
}

/** Puts entries taken by `takeTape` back onto an empty tape. */
export function restoreTape(gpu: Gpu, entries: TapeEntry[]): void {
  const tape = tapeOf(gpu);
  if (tape.entries.length) throw new Error(`autograd: restoreTape onto a tape that holds ${tape.entries.length} entries`);
  tape.entries.push(...entries);
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
