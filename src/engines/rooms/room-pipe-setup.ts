// What a pipe room's leader sends each member when a generation starts (room-setup.ts does SAR's). Every
// member of a pipe room holds the whole dataset: any stage may need any part of it after the stages are
// re-assigned, and any member can then lead. Over the generation's transport, on the engine channel:
//
//   leader → member   HEADER    u32[16]         sizes, the commit's size and epoch, the plan's size
//                     SRC, DST  i32[numEdges]   the graph's structure
//                     FEATURES, LABELS, TRAIN, VAL, TEST   the dataset (room-setup.ts's sendDataset)
//                     PLAN      i32[2·stages + blocks + 1]  stage starts, stage ends, block widths, method
//                     COMMIT    u8[commitBytes] the room's last commit, when there is one
//
// Each member derives the chunks itself (the partitioner is deterministic for the room's seed). Peers are
// untrusted: every header field is bounded first, arrays are received with exact shapes, values checked.

import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import type { StagePlan } from '../pipe/stage-plan.ts';
import { checkIds, receiveDataset, RoomSetupError, sendDataset, SETUP_LIMITS, type DatasetTags } from './room-setup.ts';

const VERSION = 1;
const HEADER_WORDS = 16;
const MAX_BLOCKS = 1 << 12;
const tag = (k: number) => makeTag(TAG_CHANNEL.engine, 0x200 + k);
const TAG = { header: tag(0), src: tag(1), dst: tag(2), plan: tag(3), commit: tag(4) };
const DATASET_TAGS: DatasetTags = { features: tag(5), labels: tag(6), train: tag(7), val: tag(8), test: tag(9) };

export interface PipeMemberSetup {
  dataset: NodeDataset;
  plan: StagePlan;
  commit: Uint8Array | null;
  commitEpoch: number;
}

/** Leader side: member `rank` gets the dataset, the plan and the commit. */
export async function sendPipeSetup(transport: Transport, rank: number, dataset: NodeDataset, plan: StagePlan, commit: { bytes: Uint8Array; epoch: number } | null): Promise<void> {
  const blocks = plan.widths.length;
  const header = new Uint32Array(HEADER_WORDS);
  header.set([
    VERSION,
    dataset.numNodes,
    dataset.numFeatures,
    dataset.numClasses,
    dataset.edgeSrc.length,
    dataset.train.length,
    dataset.val.length,
    dataset.test.length,
    commit ? commit.bytes.length : 0,
    commit ? commit.epoch : 0,
    plan.stages.length,
    blocks,
  ]);
  await transport.send(rank, TAG.header, header);
  await transport.send(rank, TAG.src, dataset.edgeSrc.slice());
  await transport.send(rank, TAG.dst, dataset.edgeDst.slice());
  await sendDataset(transport, rank, dataset, DATASET_TAGS);
  const encoded = Int32Array.from([...plan.stages.map((s) => s.first), ...plan.stages.map((s) => s.end), ...plan.widths, plan.method === 'equal' ? 1 : 0]);
  await transport.send(rank, TAG.plan, encoded);
  if (commit) await transport.send(rank, TAG.commit, commit.bytes.slice());
}

/** Member side: receives and checks the leader's setup; `name` is the room's dataset name. */
export async function receivePipeSetup(transport: Transport, name: string): Promise<PipeMemberSetup> {
  const fail = (problem: string): never => {
    throw new RoomSetupError(0, problem);
  };
  const h = (await transport.recv(0, TAG.header, { kind: 'u32', shape: [HEADER_WORDS] })).data as Uint32Array;
  const [version, numNodes, numFeatures, numClasses, numEdges, train, val, test, commitBytes, commitEpoch, stages, blocks] = h;
  if (version !== VERSION) fail(`pipe setup version ${version}, expected ${VERSION}`);
  const bounded = (what: string, v: number, lo: number, hi: number) => {
    if (v < lo || v > hi) fail(`${what} = ${v}, outside ${lo}..${hi}`);
  };
  bounded('numNodes', numNodes, 1, SETUP_LIMITS.maxNodes);
  bounded('numFeatures', numFeatures, 1, SETUP_LIMITS.maxFeatures);
  bounded('numClasses', numClasses, 2, SETUP_LIMITS.maxClasses);
  bounded('numEdges', numEdges, 0, SETUP_LIMITS.maxEdges);
  for (const [what, v] of [['train', train], ['val', val], ['test', test]] as const) bounded(`${what} size`, v, 0, numNodes);
  bounded('commit bytes', commitBytes, 0, SETUP_LIMITS.maxCommitBytes);
  bounded('stages', stages, transport.size, transport.size);
  bounded('blocks', blocks, stages, MAX_BLOCKS);
  const edgeSrc = (await transport.recv(0, TAG.src, { kind: 'i32', shape: [numEdges] })).data as Int32Array<ArrayBuffer>;
  const edgeDst = (await transport.recv(0, TAG.dst, { kind: 'i32', shape: [numEdges] })).data as Int32Array<ArrayBuffer>;
  checkIds(edgeSrc, numNodes, 'edge src', fail);
  checkIds(edgeDst, numNodes, 'edge dst', fail);
  const dataset = await receiveDataset(transport, name, { numNodes, numFeatures, numClasses, sizes: { train, val, test }, edgeSrc, edgeDst }, DATASET_TAGS, fail);
  const p = (await transport.recv(0, TAG.plan, { kind: 'i32', shape: [2 * stages + blocks + 1] })).data as Int32Array;
  const ranges = Array.from({ length: stages }, (_, i) => ({ first: p[i], end: p[stages + i] }));
  // Stages cover the blocks in order, each at least one block.
  ranges.forEach((r, i) => {
    const expectedFirst = i === 0 ? 0 : ranges[i - 1].end;
    if (r.first !== expectedFirst || r.end <= r.first || r.end > blocks) fail(`stage ${i} covers blocks [${r.first}, ${r.end}), expected to start at ${expectedFirst} and end by ${blocks}`);
  });
  if (ranges[stages - 1].end !== blocks) fail(`the stages cover ${ranges[stages - 1].end} of ${blocks} blocks`);
  const widths = Array.from(p.subarray(2 * stages, 2 * stages + blocks));
  widths.forEach((w, i) => {
    if (w < 1 || w > SETUP_LIMITS.maxFeatures) fail(`block ${i}'s width ${w} is outside 1..${SETUP_LIMITS.maxFeatures}`);
  });
  const method = p[2 * stages + blocks];
  if (method !== 0 && method !== 1) fail(`plan method ${method}, expected 0 (profile) or 1 (equal)`);
  const commit = commitBytes > 0 ? ((await transport.recv(0, TAG.commit, { kind: 'u8', shape: [commitBytes] })).data as Uint8Array) : null;
  return { dataset, plan: { method: method === 1 ? 'equal' : 'profile', stages: ranges, widths, costs: widths.map(() => 0) }, commit, commitEpoch };
}
