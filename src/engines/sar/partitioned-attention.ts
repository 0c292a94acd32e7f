// Graph attention (GATConv) over a partitioned graph, SAR style. Not built yet: placeholder owned by
// the GAT-over-partitions work; it fails clearly instead of computing something else.

import type { GatAttentionOptions } from '../../tensor/ops/gat-attention.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { PartitionedGraph } from './partitioned-graph.ts';

export async function partitionedAttention(
  graph: PartitionedGraph,
  _z: Tensor,
  _aSrc: Tensor,
  _aDst: Tensor,
  _options: GatAttentionOptions,
): Promise<Tensor> {
  throw new Error(`SAR worker ${graph.rank}: graph attention over partitions is not available yet (use --model gcn or sage)`);
}
