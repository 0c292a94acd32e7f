// `webgnn plan`: for a workload, a model, a mode and a cluster, the predicted per-worker memory,
// traffic and epoch time at each worker count of a sweep. One function per mode's costs
// (sar-cost.ts, pipe-cost.ts, temporal-cost.ts); this file only picks the partition figures and rows.

import type { PartitionMethod } from '../engines/sar/placement.ts';
import type { ParallelLayout } from '../engines/temporal/parallel-layout.ts';
import type { DeviceProfile, LinkSpec } from './device-profile.ts';
import { measuredPartition, modelledPartition, type PartitionShape } from './edge-cut.ts';
import { modelCost, type ModelSpec } from './model-cost.ts';
import { pipeCost, type PipeCostOptions } from './pipe-cost.ts';
import { rowOf, type PlanRow, type WorkerPlan } from './plan-types.ts';
import { sarCost } from './sar-cost.ts';
import { temporalCost, type TemporalCostOptions } from './temporal-cost.ts';
import type { EventWorkload, GraphWorkload } from './workload.ts';

export interface Cluster {
  device: DeviceProfile;
  /** The link between any two workers. */
  link: LinkSpec;
  linkName: string;
  /** The workers share one processor (software adapters linked inside one machine): their compute takes turns. */
  colocated?: boolean;
}

/**
 * Workers on one shared processor (software devices linked inside one machine). Workers in lockstep
 * (SAR's rounds, the pipeline's chunks: they wait on each other every few kernels) take turns: each one's
 * epoch is everyone's compute one after another. Workers that run on their own between rare
 * synchronisations (DistTGL's trainers: one all-reduce a step) share the host's cores: up to that many at once.
 * Either way a worker's own communication beyond what the compute hides is added. (A pipeline's stages
 * are summed by pipeCost itself: its per-stage times are pipelined before they reach a row.)
 */
export function colocate(plans: WorkerPlan[], lockstep: boolean, cores: number): WorkerPlan[] {
  const total = plans.reduce((s, p) => s + p.compute_s, 0);
  const compute = lockstep ? total : Math.max(total / Math.min(plans.length, Math.max(1, cores)), ...plans.map((p) => p.compute_s));
  return plans.map((p) => {
    const overlap = Math.min(p.communication_s, compute);
    return { ...p, compute_s: compute, overlap_s: overlap, epoch_s: compute + p.communication_s - overlap };
  });
}

function clusterNotes(c: Cluster): string[] {
  const shared = c.colocated ? `; the workers share one processor of ${c.device.device.host_cores} cores` : '';
  return [`device: ${c.device.name} (${c.device.source} profile)`, `link: ${c.linkName}${shared}`];
}

export type PlanMode = 'single' | 'sar' | 'pipe';

export interface GraphPlanRequest {
  graph: GraphWorkload;
  model: ModelSpec;
  mode: PlanMode;
  workers: number[];
  cluster: Cluster;
  /** SAR: false = the keep-every-halo baseline. */
  remat?: boolean;
  /** SAR and one device: an evaluation forward every epoch, as the engines do (default true); false
   * plans training epochs alone, to compare with published figures of systems that evaluate rarely. */
  evaluate?: boolean;
  partition?: PartitionMethod;
  seed?: number;
  /** Fraction of edges cut, overriding the preset's or the random-placement assumption (modelled graphs only). */
  edgeCut?: number;
  pipe?: Partial<PipeCostOptions>;
  /** Largest worker count the real partitioner is run for when the graph is at hand (beyond it: modelled). */
  measureUpTo?: number;
}

export interface PlanResult {
  rows: PlanRow[];
  notes: string[];
}

/** The partition figures for `workers`: measured by partitioning the graph when it is at hand. */
export function partitionShapeFor(r: GraphPlanRequest, workers: number): PartitionShape {
  const measure = r.graph.dataset && workers <= (r.measureUpTo ?? 64) && r.edgeCut === undefined;
  return measure ? measuredPartition(r.graph, workers, r.partition ?? 'metis', r.seed ?? 0) : modelledPartition(r.graph, workers, r.edgeCut);
}

export function planGraph(r: GraphPlanRequest): PlanResult {
  const model = modelCost(r.model, r.graph.features, r.graph.classes);
  const notes = [`graph: ${r.graph.source}`, ...clusterNotes(r.cluster)];
  const rows = r.workers.map((workers) => {
    if (r.mode === 'single' && workers !== 1) throw new RangeError(`plan: mode 'single' runs on one worker; --workers ${workers} needs --mode sar or pipe`);
    if (r.mode === 'pipe') {
      const shape = pipeCost(r.graph, model, workers, r.cluster.device.device, r.cluster.link, r.pipe ?? {}, r.cluster.colocated ?? false);
      return rowOf(workers, shape.plans, r.cluster.device.device.memory_bytes, shape.source);
    }
    const shape = partitionShapeFor(r, workers);
    const plans = sarCost(shape, r.graph.features, r.graph.classes, model, r.cluster.device.device, r.cluster.link, { remat: r.remat ?? true, evaluate: r.evaluate ?? true });
    return rowOf(workers, r.cluster.colocated ? colocate(plans, true, r.cluster.device.device.host_cores) : plans, r.cluster.device.device.memory_bytes, shape.source);
  });
  return { rows, notes };
}

export interface TemporalPlanRequest {
  stream: EventWorkload;
  workers: number[];
  cluster: Cluster;
  options: TemporalCostOptions;
  /** DistTGL's i×j×k per worker count (default: memory parallelism). */
  layouts?: ParallelLayout[];
}

export function planTemporal(r: TemporalPlanRequest): PlanResult {
  const rows = r.workers.map((workers, i) => {
    const plans = temporalCost(r.stream, workers, r.cluster.device.device, r.cluster.link, { ...r.options, layout: r.layouts?.[i] });
    return rowOf(workers, r.cluster.colocated ? colocate(plans, false, r.cluster.device.device.host_cores) : plans, r.cluster.device.device.memory_bytes, `event stream: ${r.stream.source}`);
  });
  return { rows, notes: [`stream: ${r.stream.source}`, ...clusterNotes(r.cluster)] };
}
