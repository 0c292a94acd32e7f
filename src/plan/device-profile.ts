// What the cost model knows of a worker's device and of the links between workers: a JSON profile,
// either measured here by `webgnn profile` or written from a published specification (marked so).
// Throughputs are curves by size, because small kernels on any GPU are bound by dispatch, not by
// bandwidth: a rate measured on a large buffer would make a small graph look free.

/** One measured point of a throughput curve: `work` units done at `per_s` units per second. */
export interface RatePoint {
  work: number;
  per_s: number;
}

/** The kernels the model times. Units of `work`: bytes moved, except `matmul` (floating-point operations). */
export const KERNELS = ['spmm', 'matmul', 'attention', 'memory_update', 'elementwise'] as const;
export type KernelName = (typeof KERNELS)[number];

export interface DeviceSpec {
  /** Memory one worker may fill (GPU memory, or what a browser tab is granted). */
  memory_bytes: number;
  max_buffer_bytes: number;
  max_storage_binding_bytes: number;
  /** Fixed cost of one kernel dispatch (recording + submit share), seconds. */
  dispatch_s: number;
  /** One small read back to the host (submit, wait, map): paid per tensor a worker sends. Optional in a
   * file; missing, it is taken as 10 × dispatch_s. */
  readback_s: number;
  /** Several devices of this kind in one machine share one processor (a software adapter runs on the
   * host's cores): workers linked in one machine (local, threads) then take turns. Optional, default false. */
  shared_processor: boolean;
  /** Cores of the host processor (what shared-processor workers share). Optional, default 1. */
  host_cores: number;
  rates: Record<KernelName, RatePoint[]>;
}

export interface LinkSpec {
  bandwidth_bytes_per_s: number;
  latency_s: number;
}

export const PROFILE_FORMAT = 1;

export interface DeviceProfile {
  webgnn_profile: typeof PROFILE_FORMAT;
  name: string;
  /** 'measured': by `webgnn profile` on the named adapter; 'published': from a vendor's specification. */
  source: 'measured' | 'published';
  /** How it was obtained: the command and adapter, or the specification it was written from. */
  reference: string;
  device: DeviceSpec;
  /** Links by transport name (local, threads, webrtc, or a network such as 'infiniband-hdr'). */
  links: Record<string, LinkSpec>;
}

export class ProfileError extends Error {}

type Json = Record<string, unknown>;

function field(obj: Json, key: string, where: string): unknown {
  if (!(key in obj) || obj[key] === undefined || obj[key] === null) throw new ProfileError(`${where}: missing field '${key}'`);
  return obj[key];
}

function objectAt(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProfileError(`${where}: expected an object`);
  return value as Json;
}

function positive(obj: Json, key: string, where: string, allowZero = false): number {
  const v = field(obj, key, where);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new ProfileError(`${where}: field '${key}' must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function text(obj: Json, key: string, where: string): string {
  const v = field(obj, key, where);
  if (typeof v !== 'string' || !v) throw new ProfileError(`${where}: field '${key}' must be a non-empty string`);
  return v;
}

function parseCurve(value: unknown, where: string): RatePoint[] {
  if (!Array.isArray(value) || !value.length) throw new ProfileError(`${where}: expected a non-empty array of { work, per_s } points`);
  const points = value.map((p, i) => {
    const o = objectAt(p, `${where}[${i}]`);
    return { work: positive(o, 'work', `${where}[${i}]`), per_s: positive(o, 'per_s', `${where}[${i}]`) };
  });
  points.sort((a, b) => a.work - b.work);
  return points;
}

export function parseLink(value: unknown, where: string): LinkSpec {
  const o = objectAt(value, where);
  return { bandwidth_bytes_per_s: positive(o, 'bandwidth_bytes_per_s', where), latency_s: positive(o, 'latency_s', where, true) };
}

function sharedProcessor(d: Json, where: string): boolean {
  const v = d.shared_processor;
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ProfileError(`${where}: field 'shared_processor' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates a parsed profile; `where` names the file in every error. */
export function parseDeviceProfile(value: unknown, where: string): DeviceProfile {
  const o = objectAt(value, where);
  const format = field(o, 'webgnn_profile', where);
  if (format !== PROFILE_FORMAT) throw new ProfileError(`${where}: field 'webgnn_profile' must be ${PROFILE_FORMAT} (this webgnn's profile format), got ${JSON.stringify(format)}`);
  const source = text(o, 'source', where);
  if (source !== 'measured' && source !== 'published') throw new ProfileError(`${where}: field 'source' must be 'measured' or 'published', got '${source}'`);
  const d = objectAt(field(o, 'device', where), `${where}: device`);
  const dw = `${where}: device`;
  const ratesObj = objectAt(field(d, 'rates', dw), `${dw}.rates`);
  const rates = {} as Record<KernelName, RatePoint[]>;
  for (const k of KERNELS) rates[k] = parseCurve(field(ratesObj, k, `${dw}.rates`), `${dw}.rates.${k}`);
  const linksObj = objectAt(field(o, 'links', where), `${where}: links`);
  const links: Record<string, LinkSpec> = {};
  for (const [name, l] of Object.entries(linksObj)) links[name] = parseLink(l, `${where}: links.${name}`);
  if (!Object.keys(links).length) throw new ProfileError(`${where}: links: at least one link is needed`);
  return {
    webgnn_profile: PROFILE_FORMAT,
    name: text(o, 'name', where),
    source,
    reference: text(o, 'reference', where),
    device: {
      memory_bytes: positive(d, 'memory_bytes', dw),
      max_buffer_bytes: positive(d, 'max_buffer_bytes', dw),
      max_storage_binding_bytes: positive(d, 'max_storage_binding_bytes', dw),
      dispatch_s: positive(d, 'dispatch_s', dw, true),
      readback_s: d.readback_s === undefined ? 10 * positive(d, 'dispatch_s', dw, true) : positive(d, 'readback_s', dw, true),
      shared_processor: sharedProcessor(d, dw),
      host_cores: d.host_cores === undefined ? 1 : positive(d, 'host_cores', dw),
      rates,
    },
    links,
  };
}

/** Parses profile text (a file's contents), naming the file in a JSON syntax error too. */
export function parseDeviceProfileText(textContent: string, where: string): DeviceProfile {
  let json: unknown;
  try {
    json = JSON.parse(textContent);
  } catch (error) {
    throw new ProfileError(`${where}: not valid JSON (${(error as Error).message})`);
  }
  return parseDeviceProfile(json, where);
}

/**
 * Seconds for `work` units of a kernel: the rate is interpolated log-log between measured sizes and
 * held at the ends; a kernel never takes less than one dispatch.
 */
export function kernelSeconds(device: DeviceSpec, kernel: KernelName, work: number): number {
  if (work <= 0) return 0;
  const curve = device.rates[kernel];
  let rate: number;
  if (work <= curve[0].work) rate = curve[0].per_s * (work / curve[0].work); // below the smallest size: time stays that of the smallest
  else if (work >= curve[curve.length - 1].work) rate = curve[curve.length - 1].per_s;
  else {
    let i = 1;
    while (curve[i].work < work) i++;
    const a = curve[i - 1];
    const b = curve[i];
    const t = Math.log(work / a.work) / Math.log(b.work / a.work);
    rate = Math.exp(Math.log(a.per_s) + t * (Math.log(b.per_s) - Math.log(a.per_s)));
  }
  return Math.max(device.dispatch_s, work / rate);
}

/** Seconds to move `bytes` in `messages` messages over a link. */
export function linkSeconds(link: LinkSpec, bytes: number, messages: number): number {
  return bytes / link.bandwidth_bytes_per_s + messages * link.latency_s;
}

// The units of work, one definition for the profiler that measures a rate and the model that uses it.

/** Bytes an SpMM moves: every non-zero gathers a row of `width` floats and reads its index and value;
 * every output row is written once; the row pointers are read. */
export function spmmWork(rows: number, nnz: number, width: number): number {
  return 4 * width * (nnz + rows) + 8 * nnz + 4 * (rows + 1);
}

/** Floating-point operations of an (m × k) · (k × n) product. */
export function matmulWork(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}

/** Bytes the fused attention moves per pass: every edge gathers `heads × width` floats and reads its
 * index, value and one score per head; every output row is written once. */
export function attentionWork(rows: number, nnz: number, heads: number, width: number): number {
  return 4 * heads * width * (nnz + rows) + 8 * nnz + 8 * heads * nnz;
}

/** Bytes a memory update moves: each updated row reads its memory and message and writes its memory. */
export function memoryUpdateWork(rows: number, memoryDim: number, messageDim: number): number {
  return 4 * rows * (2 * memoryDim + messageDim);
}

/** Bytes an elementwise kernel moves (reads plus writes). */
export function elementwiseWork(elements: number, operands = 2): number {
  return 4 * elements * operands;
}
