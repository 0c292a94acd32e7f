// Measures what the cost model needs to know about this device and its links (device-profile.ts), with the
// runtime's own ops: SpMM over a SparseMatrix, matmul, the fused GAT attention, TGN's GRU memory updater and
// an elementwise add — never a separate toy kernel, so a profile times what training runs.
//
// Device-agnostic: the same code runs on Dawn in Node and on navigator.gpu in a tab (the caller opens the
// Gpu and makes the transports). How a rate is measured, for every kernel and size:
//   - the shapes are built and uploaded, then one run compiles the pipelines and fills the buffer pool
//     (warm-up, not timed);
//   - a probe run sets `batch`, how many runs one timed repeat records into one submit, so that a repeat
//     lasts about `targetSeconds` (small kernels are then timed as training runs them: many dispatches per
//     submit, not one submit and one wait each), capped so a batch's buffers stay within a few tens of MiB;
//   - each repeat records `batch` runs, submits, and waits for the queue (onSubmittedWorkDone); the
//     median over the repeats, divided by `batch`, is the time of one run (recording included);
//   - `work` comes from the unit functions of device-profile.ts for exactly the shapes run.
// Links: bandwidth from a few MiB sent in large messages (timed until the peer acknowledges the last),
// latency from small-message round trips (blocks timed whole, half a trip). The far side of a link runs `answerLink`: beside
// the near side when both transports live in this thread, or in the peer's own thread or process.

import type { Gpu } from '../gpu/gpu.ts';
import { makeTag, TAG_CHANNEL, type Transport } from '../dist/transport.ts';
import { buildAdjacency, normalizedAdjacency } from '../graph/csr.ts';
import { powerLawGraph, randomFeatures } from '../graph/synthetic.ts';
import { GRUCell } from '../nn/tgn/gru-cell.ts';
import { fromArray } from '../tensor/create.ts';
import { GraphCsr } from '../tensor/graph-csr.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { gatAttention } from '../tensor/ops/gat-attention.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { spmm } from '../tensor/ops/spmm.ts';
import { withScope } from '../tensor/scope.ts';
import { SparseMatrix } from '../tensor/sparse-matrix.ts';
import { median } from '../tensor/stats.ts';
import { noGrad } from '../tensor/tape.ts';
import {
  attentionWork,
  elementwiseWork,
  KERNELS,
  matmulWork,
  memoryUpdateWork,
  spmmWork,
  type DeviceSpec,
  type KernelName,
  type LinkSpec,
  type RatePoint,
} from './device-profile.ts';

/**
 * What a browser tab is assumed to be granted when nothing better is known: browsers expose no GPU memory
 * size, and a tab's budget is the browser's (and the OS's) decision, so 4 GiB is a stated assumption.
 * Node callers pass the real figure (`webgnn profile` takes os.totalmem(), right for software adapters
 * that allocate from system memory, or --memory-bytes for a discrete GPU).
 */
export const DEFAULT_TAB_MEMORY_BYTES = 4 * 2 ** 30;

/** The shapes each curve is measured at: `full` for a profile, `quick` (the smallest three) for tests. */
export type ProfileSizes = 'full' | 'quick';

/** Graph kernels: power-law graphs of `nodes` nodes and 4·nodes edge-list entries, stored undirected with self loops. */
const GRAPH_NODES = { full: [64, 256, 1024, 4096, 16384, 65536], quick: [64, 256, 1024] };
const EDGES_PER_NODE = 4;
/** SpMM: Â·X with X [nodes, 32] (GCN normalisation). */
const SPMM_WIDTH = 32;
/** Attention: 4 heads of 8 features (z [nodes, 32]), no dropout. */
const ATTENTION_HEADS = 4;
const ATTENTION_WIDTH = 8;
/** Matmul: the shape of a GNN layer's projection, X [m, 64] · W [64, 64]. */
const MATMUL_ROWS = { full: [16, 128, 1024, 4096, 16384, 65536], quick: [16, 128, 1024] };
const MATMUL_K = 64;
const MATMUL_N = 64;
/** Memory update: TGN's GRU memory updater (memory 100, input 300 = message 2·100 + time 100), `rows` nodes. */
const MEMORY_ROWS = { full: [8, 32, 128, 512, 2048, 8192], quick: [8, 32, 128] };
const MEMORY_DIM = 100;
const MESSAGE_DIM = 300;
/** Elementwise: a + b of `elements` floats (two reads, one write). */
const ELEMENTWISE_ELEMENTS = { full: [256, 4096, 65536, 262144, 1048576, 4194304], quick: [256, 4096, 65536] };
const ELEMENTWISE_OPERANDS = 3;
/** Dispatch: this many adds of 64 floats recorded into one submit. */
const DISPATCH_COUNT = 256;
const DISPATCH_ELEMENTS = 64;

/** One line saying which shapes the curves were measured at (for a profile's `reference`). */
export function describeShapes(sizes: ProfileSizes = 'full'): string {
  const list = (xs: number[]) => xs.join(', ');
  return (
    `spmm: GCN-normalised A·X, X [n, ${SPMM_WIDTH}], power-law graphs of n = ${list(GRAPH_NODES[sizes])} nodes with ${EDGES_PER_NODE}·n edges (undirected, self loops); ` +
    `matmul: [m, ${MATMUL_K}]·[${MATMUL_K}, ${MATMUL_N}], m = ${list(MATMUL_ROWS[sizes])}; ` +
    `attention: fused GAT forward, ${ATTENTION_HEADS} heads × ${ATTENTION_WIDTH}, the same graphs; ` +
    `memory_update: TGN GRU updater forward, memory ${MEMORY_DIM}, input ${MESSAGE_DIM}, ${list(MEMORY_ROWS[sizes])} rows; ` +
    `elementwise: add of ${list(ELEMENTWISE_ELEMENTS[sizes])} floats (work = 3 operands); ` +
    `dispatch: ${DISPATCH_COUNT} adds of ${DISPATCH_ELEMENTS} floats in one submit`
  );
}

export interface ProfileProgress {
  /** Measurements finished so far, of `total`. */
  done: number;
  total: number;
  /** What was just measured ('spmm 1024 nodes', 'dispatch'). */
  what: string;
}

export interface MeasureDeviceOptions {
  /** The host's processor cores (DeviceSpec.host_cores; default: navigator.hardwareConcurrency, else 1). */
  hostCores?: number;
  /**
   * The memory one worker may fill (DeviceSpec.memory_bytes). WebGPU has no query for it: Node passes
   * os.totalmem() or a figure of its own; the default is DEFAULT_TAB_MEMORY_BYTES, a browser tab's assumed budget.
   */
  memoryBytes?: number;
  sizes?: ProfileSizes;
  /** Timed repeats per point (median taken); default 5, 3 for quick sizes. */
  repeats?: number;
  /** About how long one timed repeat should last (default 50 ms; 5 ms for quick sizes). */
  targetSeconds?: number;
  /** Only these kernels (the others' curves are left empty): for tests and partial re-measurement. */
  kernels?: readonly KernelName[];
  seed?: number;
  onProgress?: (progress: ProfileProgress) => void;
}

/** One shape of one kernel, built on the device: `run` records the op once (outputs freed by its scope). */
interface Case {
  what: string;
  work: number;
  /** Bytes of new buffers one run takes from the pool (held until the submit): caps the batch. */
  footprint: number;
  run(): void;
  dispose(): void;
}

/** Bytes a batch's new buffers may reach before its submit (the pool reuses a buffer only after one). */
const MAX_BATCH_BYTES = 48 * 2 ** 20;
const MAX_BATCH = 64;

function graphCsr(nodes: number, seed: number) {
  const { src, dst } = powerLawGraph({ numNodes: nodes, numEdges: EDGES_PER_NODE * nodes, seed });
  return buildAdjacency(nodes, src, dst, { undirected: true, selfLoops: 'add' });
}

function spmmCase(gpu: Gpu, nodes: number, seed: number): Case {
  const csr = normalizedAdjacency(graphCsr(nodes, seed), 'gcn');
  const a = SparseMatrix.fromCsr(gpu, csr, 'profile spmm');
  const x = fromArray(gpu, randomFeatures(nodes, SPMM_WIDTH, seed + 1), [nodes, SPMM_WIDTH], { label: 'profile x' });
  return {
    what: `spmm ${nodes} nodes`,
    work: spmmWork(csr.numRows, a.nnz, SPMM_WIDTH),
    footprint: 4 * csr.numRows * SPMM_WIDTH,
    run: () => withScope(() => void noGrad(gpu, () => spmm(a, x))),
    dispose: () => {
      x.dispose();
      a.dispose();
    },
  };
}

function matmulCase(gpu: Gpu, m: number, seed: number): Case {
  const a = fromArray(gpu, randomFeatures(m, MATMUL_K, seed), [m, MATMUL_K], { label: 'profile a' });
  const b = fromArray(gpu, randomFeatures(MATMUL_K, MATMUL_N, seed + 1), [MATMUL_K, MATMUL_N], { label: 'profile b' });
  return {
    what: `matmul ${m}×${MATMUL_K}·${MATMUL_K}×${MATMUL_N}`,
    work: matmulWork(m, MATMUL_K, MATMUL_N),
    footprint: 4 * m * MATMUL_N,
    run: () => withScope(() => void noGrad(gpu, () => matmul(a, b))),
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

function attentionCase(gpu: Gpu, nodes: number, seed: number): Case {
  const graph = GraphCsr.fromCsr(gpu, graphCsr(nodes, seed), 'profile attention');
  const HF = ATTENTION_HEADS * ATTENTION_WIDTH;
  const z = fromArray(gpu, randomFeatures(nodes, HF, seed + 1), [nodes, HF], { label: 'profile z' });
  const aSrc = fromArray(gpu, randomFeatures(ATTENTION_HEADS, ATTENTION_WIDTH, seed + 2), [ATTENTION_HEADS, ATTENTION_WIDTH], { label: 'profile aSrc' });
  const aDst = fromArray(gpu, randomFeatures(ATTENTION_HEADS, ATTENTION_WIDTH, seed + 3), [ATTENTION_HEADS, ATTENTION_WIDTH], { label: 'profile aDst' });
  return {
    what: `attention ${nodes} nodes`,
    work: attentionWork(graph.numNodes, graph.numEdges, ATTENTION_HEADS, ATTENTION_WIDTH),
    // The output and the per-node statistics (s | d | max | denominator per head).
    footprint: 4 * nodes * HF + 16 * nodes * ATTENTION_HEADS,
    run: () => withScope(() => void noGrad(gpu, () => gatAttention(graph, z, aSrc, aDst, { heads: ATTENTION_HEADS, dropout: 0, seed }))),
    dispose: () => {
      for (const t of [z, aSrc, aDst]) t.dispose();
      graph.dispose();
    },
  };
}

function memoryUpdateCase(gpu: Gpu, rows: number, seed: number): Case {
  const cell = new GRUCell(MESSAGE_DIM, MEMORY_DIM).materialize(gpu, seed);
  const x = fromArray(gpu, randomFeatures(rows, MESSAGE_DIM, seed + 1), [rows, MESSAGE_DIM], { label: 'profile message' });
  const h = fromArray(gpu, randomFeatures(rows, MEMORY_DIM, seed + 2), [rows, MEMORY_DIM], { label: 'profile memory' });
  return {
    what: `memory update ${rows} rows`,
    work: memoryUpdateWork(rows, MEMORY_DIM, MESSAGE_DIM),
    // The two [rows, 3d] projections, their biased copies, and h'.
    footprint: 4 * rows * (4 * 3 * MEMORY_DIM + MEMORY_DIM),
    run: () => withScope(() => void noGrad(gpu, () => cell.forward(x, h))),
    dispose: () => {
      x.dispose();
      h.dispose();
      cell.dispose();
    },
  };
}

function elementwiseCase(gpu: Gpu, elements: number, seed: number): Case {
  const a = fromArray(gpu, randomFeatures(1, elements, seed), [elements], { label: 'profile a' });
  const b = fromArray(gpu, randomFeatures(1, elements, seed + 1), [elements], { label: 'profile b' });
  return {
    what: `elementwise ${elements} floats`,
    work: elementwiseWork(elements, ELEMENTWISE_OPERANDS),
    footprint: 4 * elements,
    run: () => withScope(() => void noGrad(gpu, () => add(a, b))),
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

type CaseMaker = (gpu: Gpu, size: number, seed: number) => Case;

const CASES: Record<KernelName, { sizes: Record<ProfileSizes, number[]>; make: CaseMaker }> = {
  spmm: { sizes: GRAPH_NODES, make: spmmCase },
  matmul: { sizes: MATMUL_ROWS, make: matmulCase },
  attention: { sizes: GRAPH_NODES, make: attentionCase },
  memory_update: { sizes: MEMORY_ROWS, make: memoryUpdateCase },
  elementwise: { sizes: ELEMENTWISE_ELEMENTS, make: elementwiseCase },
};

const now = (): number => performance.now() / 1000;

/** Seconds to record `count` runs into one submit and wait for the queue to finish them. */
async function timeBatch(gpu: Gpu, run: () => void, count: number): Promise<number> {
  const start = now();
  for (let i = 0; i < count; i++) run();
  await gpu.finish();
  return now() - start;
}

/** Seconds per run of `c` in steady state: warm-up, probe for the batch, then the median of `repeats` batches. */
async function secondsPerRun(gpu: Gpu, c: Case, repeats: number, targetSeconds: number): Promise<number> {
  await timeBatch(gpu, c.run, 1); // pipelines compiled, pool filled
  const probe = Math.max(await timeBatch(gpu, c.run, 1), 1e-6);
  const byBytes = Math.max(1, Math.floor(MAX_BATCH_BYTES / Math.max(1, c.footprint)));
  const batch = Math.max(1, Math.min(MAX_BATCH, byBytes, Math.round(targetSeconds / probe)));
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) times.push((await timeBatch(gpu, c.run, batch)) / batch);
  return median(times);
}

/** The curve of one kernel at the given sizes (points by increasing work). */
export async function measureCurve(
  gpu: Gpu,
  kernel: KernelName,
  sizes: readonly number[],
  options: { repeats: number; targetSeconds: number; seed: number; onPoint?: (what: string) => void },
): Promise<RatePoint[]> {
  const points: RatePoint[] = [];
  for (const size of sizes) {
    const c = CASES[kernel].make(gpu, size, options.seed);
    try {
      const seconds = await secondsPerRun(gpu, c, options.repeats, options.targetSeconds);
      points.push({ work: c.work, per_s: c.work / seconds });
    } finally {
      c.dispose();
      gpu.pool.trim();
    }
    options.onPoint?.(c.what);
  }
  return points.sort((a, b) => a.work - b.work);
}

/** Seconds per dispatch of a tiny kernel (an add of 64 floats), from DISPATCH_COUNT of them in one submit. */
export async function measureDispatch(gpu: Gpu, repeats: number, seed = 1): Promise<number> {
  const c = elementwiseCase(gpu, DISPATCH_ELEMENTS, seed);
  try {
    await timeBatch(gpu, c.run, DISPATCH_COUNT);
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) times.push((await timeBatch(gpu, c.run, DISPATCH_COUNT)) / DISPATCH_COUNT);
    return median(times);
  } finally {
    c.dispose();
    gpu.pool.trim();
  }
}

/** One tiny kernel then a 256-byte read back, as a worker does before it sends a tensor: the median time. */
export async function measureReadback(gpu: Gpu, repeats: number, seed = 1): Promise<number> {
  const c = elementwiseCase(gpu, DISPATCH_ELEMENTS, seed);
  const probe = fromArray(gpu, new Float32Array(64), [64], { label: 'profile readback' });
  try {
    const times: number[] = [];
    for (let r = 0; r < 4 * repeats + 4; r++) {
      const t0 = performance.now();
      c.run();
      gpu.submit();
      await gpu.read(probe.buffer, 0, 256); // waits for the kernel before it (queue order)
      if (r >= 4) times.push((performance.now() - t0) / 1000);
    }
    return median(times);
  } finally {
    c.dispose();
    probe.dispose();
    gpu.pool.trim();
  }
}

/** The number of measurements measureDeviceSpec reports progress for (curve points plus the dispatch). */
export function deviceMeasurements(options: Pick<MeasureDeviceOptions, 'sizes' | 'kernels'> = {}): number {
  const sizes = options.sizes ?? 'full';
  return 1 + (options.kernels ?? KERNELS).reduce((n, k) => n + CASES[k].sizes[sizes].length, 0);
}

/**
 * Measures `gpu`: its limits, the cost of one dispatch, and a rate curve per kernel (device-profile.ts's
 * units). Uses the device alone (no other work should run on it meanwhile); frees what it allocated.
 */
export async function measureDeviceSpec(gpu: Gpu, options: MeasureDeviceOptions = {}): Promise<DeviceSpec> {
  const sizes = options.sizes ?? 'full';
  const quick = sizes === 'quick';
  const repeats = options.repeats ?? (quick ? 3 : 5);
  const targetSeconds = options.targetSeconds ?? (quick ? 0.005 : 0.05);
  const seed = options.seed ?? 1;
  const memoryBytes = options.memoryBytes ?? DEFAULT_TAB_MEMORY_BYTES;
  if (!(Number.isFinite(memoryBytes) && memoryBytes > 0)) throw new RangeError(`measureDeviceSpec: memoryBytes must be a positive number, got ${memoryBytes}`);
  const kernels = options.kernels ?? KERNELS;
  const total = deviceMeasurements({ sizes, kernels });
  let done = 0;
  const step = (what: string) => options.onProgress?.({ done: ++done, total, what });

  const dispatch_s = await measureDispatch(gpu, repeats, seed);
  step('dispatch');
  const rates = Object.fromEntries(KERNELS.map((k) => [k, [] as RatePoint[]])) as Record<KernelName, RatePoint[]>;
  for (const kernel of kernels) {
    rates[kernel] = await measureCurve(gpu, kernel, CASES[kernel].sizes[sizes], { repeats, targetSeconds, seed, onPoint: step });
  }
  const readback_s = await measureReadback(gpu, repeats, seed);
  return {
    memory_bytes: memoryBytes,
    max_buffer_bytes: Number(gpu.device.limits.maxBufferSize),
    max_storage_binding_bytes: Number(gpu.device.limits.maxStorageBufferBindingSize),
    dispatch_s,
    readback_s,
    // A software adapter computes on the host's cores: two of them on one machine take turns.
    shared_processor: gpu.adapter.kind !== 'hardware',
    host_cores: options.hostCores ?? (globalThis.navigator?.hardwareConcurrency || 1),
    rates,
  };
}

// Links.

const PLAN_TAG = makeTag(TAG_CHANNEL.test, 0xbf00);
const DATA_TAG = makeTag(TAG_CHANNEL.test, 0xbf01);
const ACK_TAG = makeTag(TAG_CHANNEL.test, 0xbf02);
const PING_TAG = makeTag(TAG_CHANNEL.test, 0xbf03);
const PONG_TAG = makeTag(TAG_CHANNEL.test, 0xbf04);

/** Phases the near side asks the far side for: [kind, count, bytes]. */
const PHASE = { end: 0, bulk: 1, pingPong: 2 } as const;
/** What a far side accepts in one phase (the near side is a peer too: its plan is checked). */
const MAX_PHASE_MESSAGES = 1 << 16;
const MAX_PHASE_MESSAGE_BYTES = 64 * 2 ** 20;
const LATENCY_BLOCKS = 5;

export interface MeasureLinkOptions {
  /** Bytes per bandwidth repeat (default 4 MiB), sent in messages of `messageBytes` (default 1 MiB). */
  bulkBytes?: number;
  messageBytes?: number;
  /** Bandwidth repeats (median; default 3), after one warm-up. */
  bulkRepeats?: number;
  /** Round trips timed for the latency (default 50, in 5 blocks timed whole: the median block / its trips / 2), after 10 warm-up ones. */
  roundTrips?: number;
  /** Bytes of each round-trip message (default 8). */
  pingBytes?: number;
}

export interface LinkPair {
  /** This side: it sends the bulk data and starts every round trip. */
  near: Transport;
  /** The other side: a transport in this thread (its part, answerLink, runs here beside), or just its rank
   * when it lives in another thread or process, which must run answerLink(itsTransport, near.rank). */
  far: Transport | { rank: number };
}

/**
 * The far side of measureLink: follows the near side's plan (bulk messages to acknowledge, round trips to
 * answer) until it says the measurement is over. Each phase is checked before anything is allocated for it.
 */
export async function answerLink(t: Transport, near: number): Promise<void> {
  for (;;) {
    const { data } = await t.recv(near, PLAN_TAG, { kind: 'u32', shape: [3] });
    const [kind, count, bytes] = data as Uint32Array;
    if (kind === PHASE.end) return;
    if ((kind !== PHASE.bulk && kind !== PHASE.pingPong) || count < 1 || count > MAX_PHASE_MESSAGES || bytes > MAX_PHASE_MESSAGE_BYTES) {
      throw new RangeError(`answerLink: peer ${near} asked for a phase out of bounds: kind ${kind}, ${count} messages of ${bytes} bytes`);
    }
    if (kind === PHASE.bulk) {
      for (let i = 0; i < count; i++) await t.recv(near, DATA_TAG, { kind: 'u8', shape: [bytes] });
      await t.send(near, ACK_TAG, new Uint8Array(0));
    } else {
      for (let i = 0; i < count; i++) {
        await t.recv(near, PING_TAG, { kind: 'u8', shape: [bytes] });
        await t.send(near, PONG_TAG, new Uint8Array(bytes));
      }
    }
  }
}

async function plan(t: Transport, far: number, kind: number, count: number, bytes: number): Promise<void> {
  await t.send(far, PLAN_TAG, Uint32Array.of(kind, count, bytes));
}

/** Seconds to send `count` messages of `bytes` (made before the clock starts) until the far side acknowledges. */
async function bulk(t: Transport, far: number, count: number, bytes: number): Promise<number> {
  const payloads = Array.from({ length: count }, (_, i) => new Uint8Array(bytes).fill((i * 31 + 7) & 0xff));
  await plan(t, far, PHASE.bulk, count, bytes);
  const start = now();
  for (const p of payloads) await t.send(far, DATA_TAG, p);
  await t.recv(far, ACK_TAG, { kind: 'u8', shape: [0] });
  return now() - start;
}

/** Seconds for `count` round trips of `bytes`, one after the other. */
async function pingPong(t: Transport, far: number, count: number, bytes: number): Promise<number> {
  await plan(t, far, PHASE.pingPong, count, bytes);
  const start = now();
  for (let i = 0; i < count; i++) {
    await t.send(far, PING_TAG, new Uint8Array(bytes));
    await t.recv(far, PONG_TAG, { kind: 'u8', shape: [bytes] });
  }
  return now() - start;
}

/**
 * Bandwidth and latency of the link from `pair.near` to `pair.far`. Bandwidth: `bulkBytes` in messages of
 * `messageBytes`, timed from the first send until the far side acknowledges the last (one small message
 * back is included), the median of the repeats. Latency: half a round trip of `pingBytes` messages, from blocks of
 * round trips timed together (a tab's clock may tick only every 0.1 ms), the median block over its trips.
 * Leaves both transports open (the caller closes them).
 */
export async function measureLink(pair: LinkPair, options: MeasureLinkOptions = {}): Promise<LinkSpec> {
  const messageBytes = options.messageBytes ?? 2 ** 20;
  const bulkBytes = options.bulkBytes ?? 4 * 2 ** 20;
  const repeats = options.bulkRepeats ?? 3;
  const roundTrips = options.roundTrips ?? 50;
  const pingBytes = options.pingBytes ?? 8;
  for (const [name, v] of Object.entries({ messageBytes, bulkBytes, repeats, roundTrips })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`measureLink: ${name} must be a positive integer, got ${v}`);
  }
  if (messageBytes > MAX_PHASE_MESSAGE_BYTES) throw new RangeError(`measureLink: messageBytes must be at most ${MAX_PHASE_MESSAGE_BYTES}`);
  const count = Math.max(1, Math.round(bulkBytes / messageBytes));
  const { near } = pair;
  const far = pair.far.rank;
  const beside = 'send' in pair.far ? answerLink(pair.far, near.rank) : null;
  // A failure of the far side must end the near side's waits too (and the other way round).
  const guard = beside ? beside.catch((error: unknown) => near.abort(`link measurement: ${(error as Error).message}`)) : null;
  try {
    await bulk(near, far, 1, messageBytes); // warm-up: first allocations, JIT, channel windows
    const seconds: number[] = [];
    for (let r = 0; r < repeats; r++) seconds.push(await bulk(near, far, count, messageBytes));
    await pingPong(near, far, 10, pingBytes);
    const perBlock = Math.max(1, Math.round(roundTrips / LATENCY_BLOCKS));
    const trips: number[] = [];
    for (let b = 0; b < LATENCY_BLOCKS; b++) trips.push((await pingPong(near, far, perBlock, pingBytes)) / perBlock);
    await plan(near, far, PHASE.end, 0, 0);
    await beside;
    return { bandwidth_bytes_per_s: (count * messageBytes) / median(seconds), latency_s: median(trips) / 2 };
  } catch (error) {
    if ('abort' in pair.far) pair.far.abort(`link measurement: ${(error as Error).message}`);
    await guard;
    throw error;
  }
}
