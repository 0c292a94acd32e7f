// What a room's leader sends each member when a generation starts, and how a member checks it. Over the
// generation's transport (rank 0 = leader), on the engine channel, in this order:
//
//   member → leader   HAS      u32[1]          1 when this member holds the whole dataset (it can lead)
//   leader → member   HEADER   u32[16]         the sizes below, the commit's size and epoch, a whole-dataset flag
//                     OWNER    i32[numNodes]   which rank owns each node (the placement)
//                     SRC, DST i32[numEdges]   the graph's structure (see worker-partition.ts for why whole)
//                     FEATURES f32[owned, F]   this member's rows only
//                     LABELS   i32[owned]
//                     TRAIN, VAL, TEST i32     local ids of its split members
//                     COMMIT   u8[commitBytes] the room's last commit (a checkpoint), when there is one
//   and, to the deputy (rank 1) when it does not hold it yet, the whole dataset so that it can lead if the
//   leader is lost: ALL_FEATURES f32[numNodes, F], ALL_LABELS i32[numNodes], ALL_TRAIN/VAL/TEST i32.
//
// Peers are untrusted: every header field is bounded before anything is sized from it, every array's shape
// is required exactly by the receive, and values are range-checked; a problem is a RoomSetupError naming
// the field and the sender.

import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import type { NodeDataset } from '../../graph/node-dataset.ts';
import { placeNodes, type NodePlacement } from '../../graph/partition-blocks.ts';
import { partitionFor, type WorkerPartition } from '../sar/worker-partition.ts';

const VERSION = 1;
const HEADER_WORDS = 16;

const TAG = {
  has: 0,
  header: 1,
  owner: 2,
  src: 3,
  dst: 4,
  features: 5,
  labels: 6,
  train: 7,
  val: 8,
  test: 9,
  commit: 10,
  allFeatures: 11,
  allLabels: 12,
  allTrain: 13,
  allVal: 14,
  allTest: 15,
} as const;

const tag = (k: number) => makeTag(TAG_CHANNEL.engine, 0x100 + k);

/** Bounds on what a leader may announce (far above the graphs a tab trains; far below exhausting memory). */
export const SETUP_LIMITS = {
  maxNodes: 1 << 24,
  maxEdges: 1 << 26,
  maxFeatures: 1 << 16,
  maxClasses: 1 << 16,
  maxCommitBytes: 256 * 1024 * 1024,
};

export class RoomSetupError extends Error {
  constructor(
    /** The rank whose message was wrong. */
    readonly from: number,
    problem: string,
  ) {
    super(`room setup from rank ${from}: ${problem}`);
    this.name = 'RoomSetupError';
  }
}

/** What a member ends up with. */
export interface MemberSetup {
  placement: NodePlacement;
  partition: WorkerPartition;
  /** The room's last commit (an encoded checkpoint), or null: start from the seed. */
  commit: Uint8Array | null;
  commitEpoch: number;
  /** The whole dataset, when the leader sent it (this member is the deputy). */
  dataset: NodeDataset | null;
}

/** Member side, first step: tell the leader whether a whole dataset is held here. */
export function announceHolding(transport: Transport, holds: boolean): Promise<void> {
  return transport.send(0, tag(TAG.has), Uint32Array.of(holds ? 1 : 0));
}

/** Leader side: which members hold the whole dataset (index = rank; the leader's own entry true). */
export async function gatherHoldings(transport: Transport): Promise<boolean[]> {
  const holds = new Array<boolean>(transport.size).fill(true);
  await Promise.all(
    Array.from({ length: transport.size - 1 }, async (_, i) => {
      const rank = i + 1;
      const m = await transport.recv(rank, tag(TAG.has), { kind: 'u32', shape: [1] });
      const v = (m.data as Uint32Array)[0];
      if (v > 1) throw new RoomSetupError(rank, `holding flag must be 0 or 1, got ${v}`);
      holds[rank] = v === 1;
    }),
  );
  return holds;
}

/** Leader side: sends member `rank` its share (and the whole dataset when `whole`), plus the commit. */
export async function sendSetup(
  transport: Transport,
  rank: number,
  dataset: NodeDataset,
  placement: NodePlacement,
  commit: { bytes: Uint8Array; epoch: number } | null,
  whole: boolean,
): Promise<void> {
  const part = partitionFor(dataset, placement, rank);
  const header = new Uint32Array(HEADER_WORDS);
  header.set([
    VERSION,
    part.numNodes,
    part.numFeatures,
    part.numClasses,
    part.nodes.length,
    part.edgeSrc.length,
    part.sizes.train,
    part.sizes.val,
    part.sizes.test,
    part.train.length,
    part.val.length,
    part.test.length,
    commit ? commit.bytes.length : 0,
    whole ? 1 : 0,
    commit ? commit.epoch : 0,
  ]);
  const send = (k: number, data: Float32Array | Int32Array | Uint32Array | Uint8Array, shape?: number[]) => transport.send(rank, tag(k), data.slice(), shape);
  // One after another on the ordered channel: the member receives in this order anyway.
  await send(TAG.header, header);
  await send(TAG.owner, Int32Array.from(placement.owner));
  await send(TAG.src, part.edgeSrc);
  await send(TAG.dst, part.edgeDst);
  await send(TAG.features, part.features, [part.nodes.length, part.numFeatures]);
  await send(TAG.labels, part.labels);
  await send(TAG.train, part.train);
  await send(TAG.val, part.val);
  await send(TAG.test, part.test);
  if (commit) await send(TAG.commit, commit.bytes);
  if (whole) await sendDataset(transport, rank, dataset, WHOLE_TAGS);
}

/** The tags a whole dataset travels on (features, labels, train, val, test). */
export interface DatasetTags {
  features: number;
  labels: number;
  train: number;
  val: number;
  test: number;
}

const WHOLE_TAGS: DatasetTags = { features: tag(TAG.allFeatures), labels: tag(TAG.allLabels), train: tag(TAG.allTrain), val: tag(TAG.allVal), test: tag(TAG.allTest) };

/** Leader side: the whole dataset's features, labels and splits (the structure travels apart). */
export async function sendDataset(transport: Transport, rank: number, dataset: NodeDataset, tags: DatasetTags): Promise<void> {
  await transport.send(rank, tags.features, dataset.features.slice(), [dataset.numNodes, dataset.numFeatures]);
  await transport.send(rank, tags.labels, dataset.labels.slice());
  await transport.send(rank, tags.train, dataset.train.slice());
  await transport.send(rank, tags.val, dataset.val.slice());
  await transport.send(rank, tags.test, dataset.test.slice());
}

/** Member side: receives and checks what sendDataset sent, for the sizes the header announced (bounded already). */
export async function receiveDataset(
  transport: Transport,
  name: string,
  shape: { numNodes: number; numFeatures: number; numClasses: number; sizes: { train: number; val: number; test: number }; edgeSrc: Int32Array<ArrayBuffer>; edgeDst: Int32Array<ArrayBuffer> },
  tags: DatasetTags,
  fail: (problem: string) => never,
): Promise<NodeDataset> {
  const { numNodes, numFeatures, numClasses, sizes } = shape;
  if (numNodes * numFeatures > SETUP_LIMITS.maxNodes * 64) fail(`${numNodes} × ${numFeatures} features is more than a member accepts`);
  const features = (await transport.recv(0, tags.features, { kind: 'f32', shape: [numNodes, numFeatures] })).data as Float32Array<ArrayBuffer>;
  checkFinite(features, 'whole-dataset features', fail);
  const i32 = async (t: number, length: number) => (await transport.recv(0, t, { kind: 'i32', shape: [length] })).data as Int32Array<ArrayBuffer>;
  const labels = await i32(tags.labels, numNodes);
  checkLabels(labels, numClasses, fail);
  const split = async (t: number, length: number, what: string) => {
    const ids = await i32(t, length);
    checkAscending(ids, numNodes, what, fail, false);
    return ids;
  };
  return {
    name,
    numNodes,
    numFeatures,
    numClasses,
    features,
    labels,
    train: await split(tags.train, sizes.train, 'whole-dataset train ids'),
    val: await split(tags.val, sizes.val, 'whole-dataset val ids'),
    test: await split(tags.test, sizes.test, 'whole-dataset test ids'),
    edgeSrc: shape.edgeSrc,
    edgeDst: shape.edgeDst,
  };
}

/** Member side: receives and checks what the leader (rank 0) sends; `name` is the room's dataset name. */
export async function receiveSetup(transport: Transport, name: string): Promise<MemberSetup> {
  const { rank, size } = transport;
  const fail = (problem: string): never => {
    throw new RoomSetupError(0, problem);
  };
  const h = (await transport.recv(0, tag(TAG.header), { kind: 'u32', shape: [HEADER_WORDS] })).data as Uint32Array;
  const [version, numNodes, numFeatures, numClasses, owned, numEdges, trainTotal, valTotal, testTotal, trainLocal, valLocal, testLocal, commitBytes, whole, commitEpoch] = h;
  if (version !== VERSION) fail(`setup version ${version}, expected ${VERSION}`);
  const bounded = (what: string, v: number, lo: number, hi: number) => {
    if (v < lo || v > hi) fail(`${what} = ${v}, outside ${lo}..${hi}`);
  };
  bounded('numNodes', numNodes, size, SETUP_LIMITS.maxNodes);
  bounded('numFeatures', numFeatures, 1, SETUP_LIMITS.maxFeatures);
  bounded('numClasses', numClasses, 2, SETUP_LIMITS.maxClasses);
  bounded('owned nodes', owned, 0, numNodes);
  bounded('numEdges', numEdges, 0, SETUP_LIMITS.maxEdges);
  for (const [what, v] of [['train', trainTotal], ['val', valTotal], ['test', testTotal]] as const) bounded(`${what} size`, v, 0, numNodes);
  for (const [what, v] of [['local train', trainLocal], ['local val', valLocal], ['local test', testLocal]] as const) bounded(`${what} size`, v, 0, owned);
  bounded('commit bytes', commitBytes, 0, SETUP_LIMITS.maxCommitBytes);
  bounded('whole-dataset flag', whole, 0, 1);
  if (owned * numFeatures > SETUP_LIMITS.maxNodes * 64) fail(`${owned} × ${numFeatures} features is more than a member accepts`);

  const i32 = async (k: number, length: number) => (await transport.recv(0, tag(k), { kind: 'i32', shape: [length] })).data as Int32Array<ArrayBuffer>;
  const owner = await i32(TAG.owner, numNodes);
  let count = 0;
  for (let v = 0; v < numNodes; v++) {
    const q = owner[v];
    if (q < 0 || q >= size) fail(`owner of node ${v} is ${q}, outside ranks 0..${size - 1}`);
    if (q === rank) count++;
  }
  if (count !== owned) fail(`the placement gives rank ${rank} ${count} nodes, the header says ${owned}`);
  const placement = placeNodes(owner, size);
  const edgeSrc = await i32(TAG.src, numEdges);
  const edgeDst = await i32(TAG.dst, numEdges);
  checkIds(edgeSrc, numNodes, 'edge src', fail);
  checkIds(edgeDst, numNodes, 'edge dst', fail);
  const features = (await transport.recv(0, tag(TAG.features), { kind: 'f32', shape: [owned, numFeatures] })).data as Float32Array<ArrayBuffer>;
  checkFinite(features, 'features', fail);
  const labels = await i32(TAG.labels, owned);
  checkLabels(labels, numClasses, fail);
  const train = await i32(TAG.train, trainLocal);
  const val = await i32(TAG.val, valLocal);
  const test = await i32(TAG.test, testLocal);
  checkAscending(train, owned, 'train ids', fail);
  checkAscending(val, owned, 'val ids', fail);
  checkAscending(test, owned, 'test ids', fail);
  const commit = commitBytes > 0 ? ((await transport.recv(0, tag(TAG.commit), { kind: 'u8', shape: [commitBytes] })).data as Uint8Array) : null;

  const nodes = new Int32Array(owned);
  for (let v = 0, k = 0; v < numNodes; v++) if (owner[v] === rank) nodes[k++] = v;
  const partition: WorkerPartition = {
    numNodes,
    numFeatures,
    numClasses,
    edgeSrc,
    edgeDst,
    nodes,
    features,
    labels,
    train,
    val,
    test,
    sizes: { train: trainTotal, val: valTotal, test: testTotal },
  };

  const dataset = whole
    ? await receiveDataset(transport, name, { numNodes, numFeatures, numClasses, sizes: partition.sizes, edgeSrc, edgeDst }, WHOLE_TAGS, fail)
    : null;
  return { placement, partition, commit, commitEpoch, dataset };
}

export function checkIds(ids: Int32Array, bound: number, what: string, fail: (p: string) => never): void {
  for (let i = 0; i < ids.length; i++) if (ids[i] < 0 || ids[i] >= bound) fail(`${what} ${i} is ${ids[i]}, outside 0..${bound - 1}`);
}

export function checkAscending(ids: Int32Array, bound: number, what: string, fail: (p: string) => never, strictlySorted = true): void {
  checkIds(ids, bound, what, fail);
  if (!strictlySorted) return;
  for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) fail(`${what} are not strictly ascending at position ${i}`);
}

export function checkLabels(labels: Int32Array, numClasses: number, fail: (p: string) => never): void {
  for (let i = 0; i < labels.length; i++) if (labels[i] < -1 || labels[i] >= numClasses) fail(`label ${i} is ${labels[i]}, outside -1..${numClasses - 1}`);
}

export function checkFinite(values: Float32Array, what: string, fail: (p: string) => never): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) fail(`${what} element ${i} is ${values[i]}`);
}
