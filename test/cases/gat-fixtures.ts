// Shared by the fused and unfused graph-attention cases: the test graphs, one forward + backward run of
// an attention op, and the per-element rounding bound. Tolerance rationale: gat.cases.ts header.

import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Csr } from '../../src/graph/csr.ts';
import { fromArray } from '../../src/tensor/create.ts';
import type { GraphCsr } from '../../src/tensor/graph-csr.ts';
import { accumulateGrad } from '../../src/tensor/ops/elementwise.ts';
import type { gatAttention, GatAttentionOptions } from '../../src/tensor/ops/gat-attention.ts';
import { withScope } from '../../src/tensor/scope.ts';
import { backward } from '../../src/tensor/tape.ts';
import { randomArray, read } from './harness.ts';

/** Relative rounding bound against Σ|terms| (see gat.cases.ts). */
export const TOL = 1e-4;
/** Terms below f32's normal range (~1e-38: α = exp(e − max) underflows for gaps past ~87) become 0. */
const UNDERFLOW = 1e-30;

/** |actual − expected| ≤ tol·magnitude elementwise (magnitude = Σ|terms|, from the reference). */
export function withinRounding(actual: ArrayLike<number>, expected: ArrayLike<number>, magnitude: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const bound = tol * magnitude[i] + UNDERFLOW;
    if (!(err <= bound)) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (|err| ${err.toExponential(2)} > ${tol}·Σ|terms| = ${bound.toExponential(2)})`);
    }
  }
}

/** Rows = destinations, columns sorted and deduplicated. */
export function csrFromRows(rows: number[][]): Csr {
  const rowPtr = new Int32Array(rows.length + 1);
  const cols: number[] = [];
  rows.forEach((row, i) => {
    cols.push(...[...new Set(row)].sort((a, b) => a - b));
    rowPtr[i + 1] = cols.length;
  });
  return { numRows: rows.length, numCols: rows.length, rowPtr, colIdx: Int32Array.from(cols), values: null };
}

/**
 * n nodes: node 0 has no in-edges (and no self loop) but feeds others; node 1 has only its self loop;
 * node 2 only an edge from node 0; the rest a self loop and up to 4 random in-neighbours. With `hub`,
 * node 3 receives from `hub` nodes.
 */
export function testGraph(n: number, seed: number, hub = 0): Csr {
  const r = randomArray(n * 5, seed, 0, 1);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0) rows.push([]);
    else if (i === 1) rows.push([1]);
    else if (i === 2) rows.push([0]);
    else if (i === 3 && hub > 0) rows.push(Array.from({ length: hub }, (_, k) => k % n));
    else {
      const row = [i];
      const count = Math.floor(r[i * 5] * 5);
      for (let k = 0; k < count; k++) row.push(Math.floor(r[i * 5 + 1 + k] * n));
      if (i % 7 === 0) row.push(0);
      rows.push(row);
    }
  }
  return csrFromRows(rows);
}

export interface AttentionInputs {
  z: Float32Array;
  aSrc: Float32Array;
  aDst: Float32Array;
  /** Upstream gradient of the output. */
  g: Float32Array;
}

export function randomInputs(n: number, H: number, F: number, seed: number): AttentionInputs {
  return {
    z: randomArray(n * H * F, seed),
    aSrc: randomArray(H * F, seed + 1),
    aDst: randomArray(H * F, seed + 2),
    g: randomArray(n * H * F, seed + 3),
  };
}

/** Forward and backward (upstream g) of `op` on the GPU: [out, dz, daSrc, daDst]. */
export async function runAttention(
  gpu: Gpu,
  graph: GraphCsr,
  op: typeof gatAttention,
  H: number,
  F: number,
  inputs: AttentionInputs,
  options: GatAttentionOptions,
): Promise<Float32Array[]> {
  const N = graph.numNodes;
  return Promise.all(
    withScope(() => {
      const z = fromArray(gpu, inputs.z, [N, H * F], { requiresGrad: true });
      const aSrc = fromArray(gpu, inputs.aSrc, [H, F], { requiresGrad: true });
      const aDst = fromArray(gpu, inputs.aDst, [H * F], { requiresGrad: true });
      const y = op(graph, z, aSrc, aDst, options);
      const outCopy = fromArray(gpu, new Float32Array(y.size), y.shape);
      accumulateGrad(outCopy, y);
      backward(y, fromArray(gpu, inputs.g, y.shape), accumulateGrad);
      const grads = [z.grad!, aSrc.grad!, aDst.grad!];
      z.grad = aSrc.grad = aDst.grad = null;
      return [outCopy, ...grads];
    }).map(read),
  );
}
