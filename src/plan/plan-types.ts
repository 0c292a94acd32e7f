// What a plan says of one worker and of one worker count: the shapes `webgnn plan --json` prints.

/** Peak device memory by kind, bytes. */
export interface MemoryByKind {
  graph: number;
  features: number;
  activations: number;
  /** SAR: rows fetched from other workers (at most two peers' at once); pipe: historical embeddings. */
  remote_rows: number;
  attention: number;
  /** Weights, their gradients and the optimizer's state. */
  optimizer: number;
  node_memory: number;
  other: number;
}

export interface WorkerPlan {
  worker: number;
  memory: MemoryByKind;
  peak_bytes: number;
  bytes_sent_per_epoch: number;
  bytes_received_per_epoch: number;
  messages_per_epoch: number;
  compute_s: number;
  communication_s: number;
  /** Communication hidden behind compute. */
  overlap_s: number;
  epoch_s: number;
}

export interface PlanRow {
  workers: number;
  /** The largest over the workers (the one that must fit). */
  peak_bytes_per_worker: number;
  bytes_sent_per_worker_per_epoch: number;
  epoch_s: number;
  compute_s: number;
  communication_s: number;
  overlap_s: number;
  /** The peak worker's memory by kind. */
  memory: MemoryByKind;
  fits: boolean;
  /** When it does not fit: which worker runs out of what, and by how much. */
  shortfall: string | null;
  /** How the partition figures were obtained (measured on the graph, or modelled). */
  partition: string;
  per_worker: WorkerPlan[];
}

export function emptyMemory(): MemoryByKind {
  return { graph: 0, features: 0, activations: 0, remote_rows: 0, attention: 0, optimizer: 0, node_memory: 0, other: 0 };
}

export function totalMemory(m: MemoryByKind): number {
  return Object.values(m).reduce((s, v) => s + v, 0);
}

const KIND_WORDS: Record<keyof MemoryByKind, string> = {
  graph: 'graph structure',
  features: 'input features',
  activations: 'activations',
  remote_rows: 'remote rows',
  attention: 'attention',
  optimizer: 'weights and optimizer state',
  node_memory: 'node memory',
  other: 'other buffers',
};

/** The row for a worker count from its workers' plans; `memoryBytes` is what each device has. */
export function rowOf(workers: number, plans: WorkerPlan[], memoryBytes: number, partition: string): PlanRow {
  const worst = plans.reduce((a, b) => (b.peak_bytes > a.peak_bytes ? b : a));
  const slowest = plans.reduce((a, b) => (b.epoch_s > a.epoch_s ? b : a));
  const fits = worst.peak_bytes <= memoryBytes;
  let shortfall: string | null = null;
  if (!fits) {
    const [kind, bytes] = (Object.entries(worst.memory) as [keyof MemoryByKind, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
    shortfall =
      `worker ${worst.worker} needs ${formatBytes(worst.peak_bytes)} but its device has ${formatBytes(memoryBytes)}: ` +
      `short by ${formatBytes(worst.peak_bytes - memoryBytes)}; the largest part is ${KIND_WORDS[kind]} (${formatBytes(bytes)})`;
  }
  return {
    workers,
    peak_bytes_per_worker: worst.peak_bytes,
    bytes_sent_per_worker_per_epoch: Math.max(...plans.map((p) => p.bytes_sent_per_epoch)),
    epoch_s: slowest.epoch_s,
    compute_s: slowest.compute_s,
    communication_s: slowest.communication_s,
    overlap_s: slowest.overlap_s,
    memory: worst.memory,
    fits,
    shortfall,
    partition,
    per_worker: plans,
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}
