// Masked softmax cross-entropy for node classification, and the argmax metrics (accuracy, predictions).
// The loss is a mean over a split's nodes; per-node losses are summed in a fixed order (reduce.ts
// `total`), so the value is deterministic. The backward recomputes the softmax from the logits.

import source from '../../../shaders/cross-entropy.wgsl?raw';
import type { Gpu } from '../../gpu/gpu.ts';
import { params } from '../../gpu/params.ts';
import { empty, zeros } from '../create.ts';
import { teamWidth } from '../grid.ts';
import { record } from '../tape.ts';
import type { Tensor } from '../tensor.ts';
import { total } from './reduce.ts';

const WG = 256;
/** Widest team: up to 64 threads per row (a row of C = 300 is then ~5 columns per thread). */
const MAX_TEAM = 64;

export interface CrossEntropyOptions {
  /**
   * Divide the summed loss by this instead of the number of indexed nodes: a worker holding part of a
   * split passes the split's global size, so the workers' losses (and gradients) add up to the mean.
   */
  denominator?: number;
}

function checkLogits(op: string, logits: Tensor): void {
  if (logits.dtype !== 'f32' || logits.shape.length !== 2 || logits.shape[1] < 1) {
    throw new RangeError(`${op}: logits must be an f32 [N, C] tensor with C ≥ 1, got ${logits}`);
  }
}

function checkInputs(op: string, logits: Tensor, labels: Tensor, index: Tensor): void {
  checkLogits(op, logits);
  if (labels.dtype !== 'i32' || labels.shape.length !== 1 || labels.size !== logits.rows) {
    throw new RangeError(`${op}: labels must be an i32 [${logits.rows}] tensor for logits ${logits}, got ${labels}`);
  }
  if (index.dtype !== 'i32' || index.shape.length !== 1) {
    throw new RangeError(`${op}: index must be an i32 [n] tensor, got ${index}`);
  }
}

function dispatch(gpu: Gpu, entryPoint: string, logits: Tensor, n: number, invDen: number, buffers: GPUBuffer[]): void {
  const [N, C] = logits.shape;
  const team = teamWidth(C, MAX_TEAM);
  const kernel = gpu.kernel({ name: 'cross-entropy', source, entryPoint });
  const p = params().u32(N).u32(C).u32(n).u32(team).f32(invDen).u32(0).u32(0).u32(0);
  gpu.dispatch(kernel, p, buffers, Math.ceil(n / (WG / team)));
}

function inverseDenominator(op: string, n: number, options: CrossEntropyOptions): number {
  const den = options.denominator ?? n;
  if (!(den >= 0) || !Number.isFinite(den)) throw new RangeError(`${op}: denominator must be finite and ≥ 0, got ${den}`);
  // An empty split (or a worker without any of its nodes) contributes 0, not NaN.
  return den === 0 ? 0 : 1 / den;
}

/** ∂loss/∂logits = (softmax − onehot)·g/den on indexed rows, 0 elsewhere. Not recorded. */
export function crossEntropyBackward(
  logits: Tensor,
  labels: Tensor,
  index: Tensor,
  g: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  checkInputs('crossEntropyBackward', logits, labels, index);
  if (g.size !== 1 || g.dtype !== 'f32') throw new RangeError(`crossEntropyBackward: upstream gradient must be f32 [1], got ${g}`);
  const gx = zeros(logits.gpu, logits.shape, 'f32', 'cross_entropy_grad');
  const invDen = inverseDenominator('crossEntropyBackward', index.size, options);
  dispatch(logits.gpu, 'grad', logits, index.size, invDen, [logits.buffer, labels.buffer, index.buffer, g.buffer, gx.buffer]);
  return gx;
}

/**
 * Mean over the indexed nodes i of −log softmax(logits[i])[labels[i]] → [1]. Differentiable w.r.t. the
 * logits. The index must not repeat a node (a split). Indexed rows outside [0, N) and labels outside
 * [0, C) (e.g. −1 for unlabelled) contribute 0 but still count in the mean; an empty index gives 0.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, index: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkInputs('crossEntropy', logits, labels, index);
  const gpu = logits.gpu;
  const n = index.size;
  const perNode = empty(gpu, [n], 'f32', 'cross_entropy_losses');
  const invDen = inverseDenominator('crossEntropy', n, options);
  dispatch(gpu, 'losses', logits, n, invDen, [logits.buffer, labels.buffer, index.buffer, perNode.buffer]);
  // Each term is already divided by the denominator, so the fixed-order total is the mean.
  const loss = total(perNode);
  perNode.dispose();
  return record('crossEntropy', [logits], loss, (g) => [crossEntropyBackward(logits, labels, index, g, options)]);
}

/** Number of indexed nodes whose argmax (first maximum on ties) equals their label → u32 [1]. */
export function accuracyCounts(logits: Tensor, labels: Tensor, index: Tensor): Tensor {
  checkInputs('accuracyCounts', logits, labels, index);
  const count = zeros(logits.gpu, [1], 'u32', 'correct');
  dispatch(logits.gpu, 'correct', logits, index.size, 0, [logits.buffer, labels.buffer, index.buffer, count.buffer]);
  return count;
}

/** Argmax of each row (first maximum on ties) → i32 [N]. */
export function predict(logits: Tensor): Tensor {
  checkLogits('predict', logits);
  const pred = empty(logits.gpu, [logits.rows], 'i32', 'predict');
  dispatch(logits.gpu, 'argmax', logits, logits.rows, 0, [logits.buffer, pred.buffer]);
  return pred;
}

function validNode(N: number, C: number, labels: ArrayLike<number>, i: number): boolean {
  return i >= 0 && i < N && labels[i] >= 0 && labels[i] < C;
}

/** Row i's max m and Σ exp(x − m): the stable softmax's two statistics. */
function rowSoftmaxStats(logits: ArrayLike<number>, C: number, i: number): { m: number; s: number } {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(logits[i * C + c] - m);
  return { m, s };
}

/** float64 references; logits are N×C row-major. */
export const crossEntropyReference = {
  loss(logits: ArrayLike<number>, C: number, labels: ArrayLike<number>, index: ArrayLike<number>, denominator = index.length): number {
    const N = labels.length;
    let sum = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k];
      if (!validNode(N, C, labels, i)) continue;
      const { m, s } = rowSoftmaxStats(logits, C, i);
      sum += Math.log(s) + m - logits[i * C + labels[i]];
    }
    return denominator === 0 ? 0 : sum / denominator;
  },
  grad(logits: ArrayLike<number>, C: number, labels: ArrayLike<number>, index: ArrayLike<number>, g = 1, denominator = index.length): Float64Array {
    const N = labels.length;
    const out = new Float64Array(N * C);
    if (denominator === 0) return out;
    for (let k = 0; k < index.length; k++) {
      const i = index[k];
      if (!validNode(N, C, labels, i)) continue;
      const { m, s } = rowSoftmaxStats(logits, C, i);
      for (let c = 0; c < C; c++) {
        out[i * C + c] = ((Math.exp(logits[i * C + c] - m) / s - (c === labels[i] ? 1 : 0)) * g) / denominator;
      }
    }
    return out;
  },
  predict(logits: ArrayLike<number>, N: number, C: number): Int32Array {
    const out = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      out[i] = best;
    }
    return out;
  },
  correct(logits: ArrayLike<number>, C: number, labels: ArrayLike<number>, index: ArrayLike<number>): number {
    const N = labels.length;
    const pred = crossEntropyReference.predict(logits, N, C);
    let count = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k];
      if (validNode(N, C, labels, i) && pred[i] === labels[i]) count++;
    }
    return count;
  },
};
