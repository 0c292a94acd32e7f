// The links of one worker of a (hybrid) pipeline, cut from the transport over all workers: its pipeline
// (the S stages of its way, ranked by stage) and its way group (the M replicas of its stage, ranked by
// way). With one way the pipeline is the whole transport and there is no way group.

import { GroupTransport } from '../../dist/group-transport.ts';
import type { Transport } from '../../dist/transport.ts';
import { hybridPosition, pipeStageCount } from './pipe-options.ts';

export interface PipeLinks {
  pipeline: Transport;
  ways: Transport | null;
}

export function pipeLinks(all: Transport, graphParallel: number): PipeLinks {
  if (graphParallel === 1) return { pipeline: all, ways: null };
  const S = pipeStageCount(all.size, graphParallel);
  const { stage, way } = hybridPosition(all.rank, S);
  return {
    pipeline: new GroupTransport(all, Array.from({ length: S }, (_, s) => way * S + s)),
    ways: new GroupTransport(all, Array.from({ length: graphParallel }, (_, v) => v * S + stage)),
  };
}
