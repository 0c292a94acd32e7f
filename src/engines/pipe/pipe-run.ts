// Builds a pipeline run over devices and transports the caller made (in-process devices, WebRTC peers):
// chunks the graph, measures the per-block cost profile on the first device, plans the stages, and gives
// each stage its blocks and its share of the dataset.

import type { Gpu } from '../../gpu/gpu.ts';
import type { Transport } from '../../dist/transport.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import type { CheckpointData } from '../../nn/checkpoint.ts';
import { blocksOf, type GraphModule } from '../../nn/graph-module.ts';
import { fromArray } from '../../tensor/create.ts';
import { checkpointParameters, type NodeTrainingOptions } from '../training-state.ts';
import { ChunkedGraph, WHOLE } from './chunked-graph.ts';
import { chunkGraph, type Chunking } from './chunking.ts';
import { HistoryStore } from './history.ts';
import { pipeDataFor, type PipeData } from './pipe-data.ts';
import { PipeEngine } from './pipe-engine.ts';
import { pipeLinks } from './pipe-links.ts';
import { checkPipeOptions, pipeStageCount, type PipeOptions } from './pipe-options.ts';
import { PipeStage } from './pipe-stage.ts';
import { checkCuttable, describePlan, planStages, profileBlocks, type StagePlan } from './stage-plan.ts';

/**
 * The stage plan for `stages` stages: the model's blocks run once over the whole graph on `gpu` (their
 * cost profile and output widths), then the linear partition of their costs.
 */
export async function planPipeline(
  gpu: Gpu,
  model: GraphModule,
  dataset: NodeDataset,
  chunking: Chunking,
  stages: number,
  options: PipeOptions,
  training: NodeTrainingOptions,
  resume?: CheckpointData,
): Promise<StagePlan> {
  const blocks = blocksOf(model);
  checkCuttable(blocks, stages);
  const data = pipeDataFor(dataset, chunking, 0, stages);
  const graph = new ChunkedGraph(gpu, chunking, data.edges, new HistoryStore(gpu, chunking, { snapshotPeriod: 1, unbiasedGradients: false }));
  const x = fromArray(gpu, data.features!, [dataset.numNodes, dataset.numFeatures], { label: 'features' });
  try {
    model.materialize(gpu, training.seed, resume ? checkpointParameters(resume) : undefined);
    // Equal stages need only the widths: one pass.
    const measured = await profileBlocks(gpu, blocks, graph.view(WHOLE, 'eval', { seed: training.seed, step: 0 }), x, options.stages === 'equal' ? 1 : 2);
    return planStages(blocks, stages, options.stages, measured);
  } finally {
    model.dispose();
    x.dispose();
    graph.dispose();
  }
}

/**
 * A pipeline engine over `gpus[i]` linked by `transports[i]`: worker i is stage i % S of way ⌊i / S⌋, with
 * S = workers / options.graphParallel (one pipeline: worker i = stage i).
 */
export async function createPipeEngine(
  gpus: Gpu[],
  transports: Transport[],
  dataset: NodeDataset,
  replica: () => GraphModule,
  training: NodeTrainingOptions,
  options: PipeOptions,
  resume?: CheckpointData,
  release: () => Promise<void> | void = () => {},
): Promise<PipeEngine> {
  checkPipeOptions(options, dataset.numNodes);
  const S = pipeStageCount(gpus.length, options.graphParallel);
  const chunking = chunkGraph(dataset, options.chunks, training.seed);
  const plan = await planPipeline(gpus[0], replica(), dataset, chunking, S, options, training, resume);
  const stages: PipeStage[] = [];
  try {
    for (let r = 0; r < gpus.length; r++) stages.push(buildStage(gpus[r], transports[r], replica(), pipeDataFor(dataset, chunking, r % S, S), plan, options, training, resume));
  } catch (error) {
    for (const s of stages) s.dispose();
    throw error;
  }
  const model = replica();
  return new PipeEngine(stages, model, training, options, describePipe(S, options, plan, model), { train: dataset.train.length, val: dataset.val.length, test: dataset.test.length }, release);
}

/** Worker `all.rank`'s stage, linked to its pipeline and (hybrid mode) to its stage's replicas. */
export function buildStage(
  gpu: Gpu,
  all: Transport,
  model: GraphModule,
  data: PipeData,
  plan: StagePlan,
  options: PipeOptions,
  training: NodeTrainingOptions,
  resume?: CheckpointData,
): PipeStage {
  const links = pipeLinks(all, options.graphParallel);
  return new PipeStage(gpu, links.pipeline, model, data, plan, options, training, resume, links.ways);
}

/** What a run records in its checkpoints and summaries: stages, chunks, tricks and the plan (wherever its stages run). */
export function describePipe(stages: number, options: PipeOptions, plan: StagePlan, model: GraphModule): Record<string, unknown> {
  return {
    stages,
    graphParallel: options.graphParallel,
    chunks: options.chunks,
    recompute: options.recompute,
    tricks: { shuffle: options.shuffle, unbiasedGradients: options.unbiasedGradients, snapshotPeriod: options.snapshotPeriod },
    warmupEpochs: options.warmupEpochs,
    evalEvery: options.evalEvery,
    stageMethod: plan.method,
    plan: describePlan(plan, blocksOf(model)),
    /** Blocks [first, end) of each stage, as numbers (the plan lines say the same in words). */
    stageBlocks: plan.stages.map((s) => [s.first, s.end]),
  };
}
