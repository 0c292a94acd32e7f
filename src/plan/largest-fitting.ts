// The largest graph of a workload's shape (its mean degree, degree distribution and widths) that a
// cluster can train: the plan's peak per worker grows with the nodes, so a bisection over the scale finds it.

import { planGraph, type GraphPlanRequest } from './plan.ts';
import type { GraphWorkload } from './workload.ts';

export interface LargestFit {
  scale: number;
  nodes: number;
  nnz: number;
}

function scaled(graph: GraphWorkload, s: number): GraphWorkload {
  const { dataset: _dataset, ...rest } = graph;
  return { ...rest, nodes: Math.max(1, Math.round(graph.nodes * s)), nnz: graph.nnz * s, source: `${graph.source}, scaled ×${s.toPrecision(3)}` };
}

export function largestFitting(request: GraphPlanRequest, workers: number): LargestFit {
  const fits = (s: number) => planGraph({ ...request, graph: scaled(request.graph, s), workers: [workers] }).rows[0].fits;
  let lo = 0;
  let hi = 1;
  while (fits(hi) && hi < 1e12) {
    lo = hi;
    hi *= 2;
  }
  if (lo === 0) {
    lo = hi;
    while (!fits(lo) && lo > 1e-12) lo /= 2;
    if (!fits(lo)) return { scale: 0, nodes: 0, nnz: 0 };
    hi = lo * 2;
  }
  for (let i = 0; i < 40 && hi / lo > 1.001; i++) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return { scale: lo, nodes: Math.round(request.graph.nodes * lo), nnz: request.graph.nnz * lo };
}
