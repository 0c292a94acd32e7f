// One checkpoint format for Node and the browser: a self-describing binary blob.
//   "WGNNCKPT" | u32 version | u32 header bytes | header JSON (UTF-8) | tensor bytes | u32 CRC-32
// The header lists each tensor's name, dtype, shape and byte offset; the CRC covers everything
// before it, so a truncated or corrupted file is refused with a clear error before anything is used.

const MAGIC = 'WGNNCKPT';
const VERSION = 1;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointData {
  /** What produced it, e.g. { kind: 'gcn', inChannels: 1433, ... } and the training options. */
  config: Record<string, unknown>;
  epoch: number;
  rng: { seed: number; step: number };
  optimizer: { kind: string; step: number; hyper: Record<string, number> };
  /** Model parameters ('param:…'), optimizer state ('opt:…'), later node memory ('memory:…'). */
  tensors: CheckpointTensor[];
  /** Free-form, JSON-serialisable (best epoch so far, metrics history...). */
  extra?: Record<string, unknown>;
}

interface HeaderTensor {
  name: string;
  dtype: 'f32';
  shape: number[];
  offset: number;
  length: number;
}

let crcTable: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`checkpoint ${source}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  let offset = 0;
  const tensors: HeaderTensor[] = data.tensors.map((t) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`checkpoint tensor '${t.name}': ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
    const entry = { name: t.name, dtype: 'f32' as const, shape: t.shape, offset, length: t.data.length };
    offset += t.data.byteLength;
    return entry;
  });
  const header = new TextEncoder().encode(
    JSON.stringify({ config: data.config, epoch: data.epoch, rng: data.rng, optimizer: data.optimizer, extra: data.extra ?? {}, tensors }),
  );
  const headerStart = 16;
  const bodyStart = headerStart + header.length + ((4 - (header.length % 4)) % 4);
  const total = bodyStart + offset + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, headerStart);
  data.tensors.forEach((t, i) => {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), bodyStart + tensors[i].offset);
  });
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, source = '(bytes)'): CheckpointData {
  if (bytes.length < 20) throw new CheckpointError(source, `too short (${bytes.length} bytes)`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new CheckpointError(source, 'not a webgnn checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new CheckpointError(source, `version ${version} is not supported (expected ${VERSION})`);
  const stored = view.getUint32(bytes.length - 4, true);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored) throw new CheckpointError(source, 'checksum mismatch (truncated or corrupted)');
  const headerLength = view.getUint32(12, true);
  if (headerLength > MAX_HEADER_BYTES || 16 + headerLength > bytes.length - 4) throw new CheckpointError(source, 'header length out of range');
  let header: { config: Record<string, unknown>; epoch: number; rng: CheckpointData['rng']; optimizer: CheckpointData['optimizer']; extra: Record<string, unknown>; tensors: HeaderTensor[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch (error) {
    throw new CheckpointError(source, `header is not valid JSON (${(error as Error).message})`);
  }
  const bodyStart = 16 + headerLength + ((4 - (headerLength % 4)) % 4);
  const bodyEnd = bytes.length - 4;
  if (!Array.isArray(header.tensors)) throw new CheckpointError(source, 'header has no tensor list');
  const tensors = header.tensors.map((t) => {
    const size = Array.isArray(t.shape) ? t.shape.reduce((a, b) => a * b, 1) : NaN;
    if (t.dtype !== 'f32' || size !== t.length || !Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || bodyStart + t.offset + t.length * 4 > bodyEnd) {
      throw new CheckpointError(source, `tensor '${t.name}' has an invalid entry`);
    }
    const copy = new Uint8Array(t.length * 4);
    copy.set(bytes.subarray(bodyStart + t.offset, bodyStart + t.offset + t.length * 4));
    return { name: t.name, shape: t.shape, data: new Float32Array(copy.buffer) };
  });
  return { config: header.config, epoch: header.epoch, rng: header.rng, optimizer: header.optimizer, tensors, extra: header.extra };
}
