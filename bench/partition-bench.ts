// Graph partitioning benchmark: edge cut of the multilevel partitioner against a balanced random
// partition, with the time taken, on Cora and on a synthetic community graph.
// Run: node --import ./scripts/register.mjs bench/partition-bench.ts
//   [--nodes N] [--edges E] [--communities C] [--parts 2,4,8]

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { communityGraph } from '../src/graph/community-graph.ts';
import { buildAdjacency } from '../src/graph/csr.ts';
import type { Csr } from '../src/graph/csr.ts';
import { loadNodeDataset } from '../src/graph/node-dataset.ts';
import { edgeCut, partitionGraph, partSizes, randomPartition } from '../src/graph/partition.ts';
import { resolveDatasetSource } from '../src/node/dataset-source.ts';

export interface PartitionBenchRow {
  graph: string;
  nodes: number;
  edges: number;
  parts: number;
  multilevelCut: number;
  randomCut: number;
  /** multilevelCut / randomCut */
  ratio: number;
  /** Largest part / ideal part size. */
  maxLoad: number;
  /** Wall-clock time of partitionGraph. */
  seconds: number;
  /** CPU time of partitionGraph (user + system): less disturbed than wall time on a shared machine. */
  cpuSeconds: number;
}

function symmetricAdjacency(numNodes: number, src: Int32Array, dst: Int32Array): Csr {
  return buildAdjacency(numNodes, src, dst, { undirected: true, selfLoops: 'remove' });
}

function measure(name: string, adjacency: Csr, parts: number): PartitionBenchRow {
  const n = adjacency.numRows;
  const edges = adjacency.rowPtr[n] / 2;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const partition = partitionGraph(adjacency, { parts, seed: 1 });
  const cpu = process.cpuUsage(cpuStarted);
  const seconds = (performance.now() - started) / 1000;
  const multilevelCut = edgeCut(adjacency, partition);
  const randomCut = edgeCut(adjacency, randomPartition(n, parts, 1));
  const largest = Math.max(...partSizes(partition));
  return {
    graph: name,
    nodes: n,
    edges,
    parts,
    multilevelCut,
    randomCut,
    ratio: multilevelCut / randomCut,
    maxLoad: largest / (n / parts),
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

export async function runPartitionBench(options: {
  numNodes: number;
  numEdges: number;
  communities: number;
  parts: number[];
}): Promise<PartitionBenchRow[]> {
  const rows: PartitionBenchRow[] = [];
  const cora = await loadNodeDataset(resolveDatasetSource('cora'), { rowNormalize: false });
  const coraAdjacency = symmetricAdjacency(cora.numNodes, cora.edgeSrc, cora.edgeDst);
  for (const parts of options.parts) rows.push(measure('cora', coraAdjacency, parts));

  const { numNodes, numEdges, communities } = options;
  const edgesStarted = performance.now();
  const { src, dst } = communityGraph({ numNodes, numEdges, communities, seed: 1 });
  const adjacency = symmetricAdjacency(numNodes, src, dst);
  const buildSeconds = (performance.now() - edgesStarted) / 1000;
  console.log(
    `community graph: ${numNodes} nodes, ${numEdges} edge-list entries, ${communities} communities, ` +
      `generated and built in ${buildSeconds.toFixed(2)} s`,
  );
  for (const parts of options.parts) rows.push(measure(`community-${communities}`, adjacency, parts));
  return rows;
}

function printTable(rows: PartitionBenchRow[]): void {
  console.log(
    '| graph | nodes | undirected edges | parts | multilevel cut | random cut | ratio | max load | time (s) | CPU (s) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.graph} | ${r.nodes} | ${r.edges} | ${r.parts} | ${r.multilevelCut} | ${r.randomCut} | ` +
        `${r.ratio.toFixed(3)} | ${r.maxLoad.toFixed(3)} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} |`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '200000' },
      edges: { type: 'string', default: '2000000' },
      communities: { type: 'string', default: '64' },
      parts: { type: 'string', default: '2,4,8' },
    },
  });
  const rows = await runPartitionBench({
    numNodes: Number(values.nodes),
    numEdges: Number(values.edges),
    communities: Number(values.communities),
    parts: values.parts!.split(',').map(Number),
  });
  printTable(rows);
}
