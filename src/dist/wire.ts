// The wire format every transport shares. A tensor message is a fixed 40-byte header followed by its
// payload; transports that move bytes (WebRTC) send the header in front of the first chunk, the others
// (in-process, worker_threads) pass the decoded header beside the payload. Either way the receiver runs
// validateHeader before it allocates or accepts anything, and verifyPayload once the bytes are in.
//
//   offset  field
//   0       u32 magic 0x4e474757 (bytes 'W' 'G' 'G' 'N')
//   4       u8  version
//   5       u8  kind (1 f32, 2 i32, 3 u32, 4 u8)
//   6       u8  number of dimensions (0..4)
//   7       u8  reserved, 0
//   8       u32 tag
//   12      u32 payload byte length
//   16      u32 checksum of the payload (see checksum)
//   20      u32 × 4 shape (unused dimensions 0)
//   36      u32 reserved, 0
// All little-endian.

export const WIRE_MAGIC = 0x4e474757; // bytes 'W','G','G','N' read as little-endian u32
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 40;
export const MAX_DIMS = 4;

export type WireKind = 'f32' | 'i32' | 'u32' | 'u8';
export type WireArray = Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

const KIND_CODES: Record<WireKind, number> = { f32: 1, i32: 2, u32: 3, u8: 4 };
const KIND_BY_CODE: (WireKind | undefined)[] = [undefined, 'f32', 'i32', 'u32', 'u8'];
const ELEMENT_BYTES: Record<WireKind, number> = { f32: 4, i32: 4, u32: 4, u8: 1 };

export interface WireHeader {
  kind: WireKind;
  tag: number;
  shape: number[];
  byteLength: number;
  checksum: number;
}

export interface WireLimits {
  /** Largest payload accepted from a peer, in bytes. */
  maxMessageBytes: number;
}

/** 1 GiB: above any single tensor SAR exchanges at the sizes this runtime targets, below what would hurt. */
export const DEFAULT_WIRE_LIMITS: WireLimits = { maxMessageBytes: 1 << 30 };

/** A message from a peer broke the protocol; ends that peer's session. */
export class WireError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'WireError';
  }
}

export function kindOf(data: WireArray): WireKind {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint32Array) return 'u32';
  if (data instanceof Uint8Array) return 'u8';
  throw new TypeError('wire: payload must be a Float32Array, Int32Array, Uint32Array or Uint8Array');
}

export function elementBytes(kind: WireKind): number {
  return ELEMENT_BYTES[kind];
}

/** A typed array of `kind` over bytes (which must be aligned for 4-byte kinds). */
export function viewAs(kind: WireKind, buffer: ArrayBuffer, byteOffset: number, byteLength: number): WireArray {
  const n = byteLength / ELEMENT_BYTES[kind];
  switch (kind) {
    case 'f32':
      return new Float32Array(buffer, byteOffset, n);
    case 'i32':
      return new Int32Array(buffer, byteOffset, n);
    case 'u32':
      return new Uint32Array(buffer, byteOffset, n);
    case 'u8':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

function bytesOf(data: WireArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * FNV-1a over 32-bit little-endian words (the tail padded with zeros), seeded with the length so a
 * truncated all-zero payload still differs. Not cryptographic — peers are admitted by the signaling
 * secret; this catches corruption and truncation — and fast enough (~1 GB/s in JS) not to matter beside
 * the transfer itself.
 */
export function checksum(data: WireArray | Uint8Array): number {
  const bytes = data instanceof Uint8Array ? data : bytesOf(data);
  let h = (0x811c9dc5 ^ bytes.length) >>> 0;
  const words = bytes.length >>> 2;
  if ((bytes.byteOffset & 3) === 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (let i = 0; i < words; i++) h = Math.imul(h ^ view[i], 0x01000193);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words; i++) h = Math.imul(h ^ view.getUint32(i * 4, true), 0x01000193);
  }
  let tail = 0;
  for (let i = words * 4, s = 0; i < bytes.length; i++, s += 8) tail |= bytes[i] << s;
  if (bytes.length & 3) h = Math.imul(h ^ tail, 0x01000193);
  return h >>> 0;
}

/** The header for sending `data` with `tag`; shape defaults to [length]. */
export function headerFor(tag: number, data: WireArray, shape?: readonly number[]): WireHeader {
  const kind = kindOf(data);
  const dims = shape ? [...shape] : [data.length];
  if (dims.length > MAX_DIMS) throw new WireError('wire send', `at most ${MAX_DIMS} dimensions, got shape [${dims}]`);
  const elements = dims.reduce((a, b) => a * b, 1);
  if (elements !== data.length) {
    throw new WireError('wire send', `shape [${dims}] holds ${elements} elements but the payload has ${data.length}`);
  }
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) throw new WireError('wire send', `tag must be a u32, got ${tag}`);
  return { kind, tag, shape: dims, byteLength: data.byteLength, checksum: checksum(data) };
}

export function encodeHeader(header: WireHeader): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, WIRE_MAGIC, true);
  view.setUint8(4, WIRE_VERSION);
  view.setUint8(5, KIND_CODES[header.kind]);
  view.setUint8(6, header.shape.length);
  view.setUint32(8, header.tag, true);
  view.setUint32(12, header.byteLength, true);
  view.setUint32(16, header.checksum, true);
  header.shape.forEach((d, i) => view.setUint32(20 + 4 * i, d, true));
  return bytes;
}

/** Decodes and validates a header read off the wire; throws WireError naming `where`. */
export function decodeHeader(bytes: Uint8Array, limits: WireLimits, where: string): WireHeader {
  if (bytes.length < HEADER_BYTES) throw new WireError(where, `message of ${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint32(0, true) !== WIRE_MAGIC) throw new WireError(where, 'bad magic: not a webgnn tensor message');
  if (view.getUint8(4) !== WIRE_VERSION) throw new WireError(where, `wire version ${view.getUint8(4)}, expected ${WIRE_VERSION}`);
  const kind = KIND_BY_CODE[view.getUint8(5)];
  if (!kind) throw new WireError(where, `unknown element kind code ${view.getUint8(5)}`);
  const ndim = view.getUint8(6);
  if (ndim > MAX_DIMS) throw new WireError(where, `${ndim} dimensions, at most ${MAX_DIMS}`);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(20 + 4 * i, true));
  const header: WireHeader = {
    kind,
    tag: view.getUint32(8, true),
    shape,
    byteLength: view.getUint32(12, true),
    checksum: view.getUint32(16, true),
  };
  validateHeader(header, limits, where);
  return header;
}

/**
 * Checks a header's own consistency and the receiver's limits; called before anything is allocated for
 * the payload, so a peer can never make us allocate more than maxMessageBytes.
 */
export function validateHeader(header: WireHeader, limits: WireLimits, where: string): void {
  if (!Object.hasOwn(KIND_CODES, header.kind)) throw new WireError(where, `unknown element kind ${String(header.kind)}`);
  if (!Array.isArray(header.shape) || header.shape.length > MAX_DIMS) throw new WireError(where, `shape must have at most ${MAX_DIMS} dimensions`);
  let elements = 1;
  for (const d of header.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new WireError(where, `bad dimension ${d} in shape [${header.shape}]`);
    elements *= d;
  }
  if (!Number.isInteger(header.byteLength) || header.byteLength < 0) throw new WireError(where, `bad byte length ${header.byteLength}`);
  if (header.byteLength > limits.maxMessageBytes) {
    throw new WireError(where, `message of ${header.byteLength} bytes exceeds the limit of ${limits.maxMessageBytes}`);
  }
  if (elements * ELEMENT_BYTES[header.kind] !== header.byteLength) {
    throw new WireError(where, `shape [${header.shape}] of ${header.kind} needs ${elements * ELEMENT_BYTES[header.kind]} bytes, header says ${header.byteLength}`);
  }
  if (!Number.isInteger(header.tag) || header.tag < 0 || header.tag > 0xffffffff) throw new WireError(where, `bad tag ${header.tag}`);
}

/** Checks a received payload against its (already validated) header. */
export function verifyPayload(header: WireHeader, data: WireArray, where: string): void {
  if (kindOf(data) !== header.kind) throw new WireError(where, `payload is ${kindOf(data)}, header says ${header.kind}`);
  if (data.byteLength !== header.byteLength) {
    throw new WireError(where, `truncated or padded payload: ${data.byteLength} bytes, header says ${header.byteLength}`);
  }
  const sum = checksum(data);
  if (sum !== header.checksum) {
    throw new WireError(where, `checksum mismatch (got ${sum.toString(16)}, header says ${header.checksum.toString(16)}): corrupt payload`);
  }
}
