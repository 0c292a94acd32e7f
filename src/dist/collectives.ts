// Collective operations over any Transport (browser-safe). Every rank calls the same collective with the
// same tagId; a size-1 group makes each a no-op.
//
// Tags: makeTag(TAG_CHANNEL.collective, tagId << 10 | step). tagId (0..16383) takes the high 14 bits of
// the 24-bit id and names one collective call; step (0..1023) takes the low 10 bits and names a round
// within it, so no two messages of one call share a (peer, tag) unless they are meant to be matched in
// order. Messages are matched per (peer, tag) in arrival order, so calls one after another may reuse a
// tagId; calls in flight at the same time need distinct tagIds.
//
// Ownership: Transport.send takes a buffer over, so a collective sends copies of whatever the caller
// keeps (allReduceSum's data, allGather's data, allToAll's send unless told to transfer them).

import { makeTag, TAG_CHANNEL, type Expectation, type Transport } from './transport.ts';
import { kindOf, type WireArray } from './wire.ts';

const STEP_BITS = 10;
const MAX_STEP = (1 << STEP_BITS) - 1;
/** The largest tagId a collective accepts. */
export const MAX_COLLECTIVE_TAG_ID = (1 << (24 - STEP_BITS)) - 1;
/** Ring all-reduce takes 2·(size−1) steps, which must fit in the step bits. */
export const MAX_COLLECTIVE_SIZE = (MAX_STEP + 1) / 2 + 1;

/** The tag of round `step` of collective call `tagId`. */
export function collectiveTag(tagId: number, step: number): number {
  if (!Number.isInteger(tagId) || tagId < 0 || tagId > MAX_COLLECTIVE_TAG_ID) {
    throw new RangeError(`collective: tagId must be an integer in 0..${MAX_COLLECTIVE_TAG_ID}, got ${tagId}`);
  }
  if (!Number.isInteger(step) || step < 0 || step > MAX_STEP) throw new RangeError(`collective: step must be in 0..${MAX_STEP}, got ${step}`);
  return makeTag(TAG_CHANNEL.collective, (tagId << STEP_BITS) | step);
}

function checkGroup(t: Transport, op: string, tagId: number): void {
  collectiveTag(tagId, 0); // validates tagId even where a size-1 group sends nothing
  if (t.size > MAX_COLLECTIVE_SIZE) throw new RangeError(`${op}: at most ${MAX_COLLECTIVE_SIZE} ranks, got ${t.size}`);
}

const EMPTY_EXPECT: Expectation = { kind: 'u8', shape: [0] };

/** Returns once every rank has entered the barrier (dissemination: ⌈log2 size⌉ rounds of empty messages). */
export async function barrier(t: Transport, tagId: number): Promise<void> {
  checkGroup(t, 'barrier', tagId);
  const { rank, size } = t;
  for (let round = 0, distance = 1; distance < size; round++, distance *= 2) {
    const tag = collectiveTag(tagId, round);
    await Promise.all([t.send((rank + distance) % size, tag, new Uint8Array(0)), t.recv((rank - distance + size) % size, tag, EMPTY_EXPECT)]);
  }
}

/**
 * Ring all-reduce (sum) in place: reduce-scatter then all-gather, data split into size chunks; every
 * rank ends with bitwise-identical results. Each chunk's sum is formed along one chain of ranks (each
 * adding its own values to what it received) and then copied to the others, so the rounding is the
 * same everywhere. Every rank must pass the same length (a mismatch fails the session). Returns data.
 */
export async function allReduceSum(t: Transport, data: Float32Array, tagId: number): Promise<Float32Array> {
  checkGroup(t, 'allReduceSum', tagId);
  if (!(data instanceof Float32Array)) throw new TypeError('allReduceSum: data must be a Float32Array');
  const { rank, size } = t;
  if (size === 1) return data;
  const next = (rank + 1) % size;
  const prev = (rank - 1 + size) % size;
  const mod = (i: number) => ((i % size) + size) % size;
  const start = (chunk: number) => Math.floor((chunk * data.length) / size);
  const bounds = (chunk: number) => [start(chunk), start(chunk + 1)] as const;

  const exchange = async (step: number, sendChunk: number, recvChunk: number) => {
    const [s0, s1] = bounds(sendChunk);
    const [r0, r1] = bounds(recvChunk);
    const tag = collectiveTag(tagId, step);
    const [, message] = await Promise.all([
      t.send(next, tag, data.slice(s0, s1)),
      t.recv(prev, tag, { kind: 'f32', shape: [r1 - r0] }),
    ]);
    return { offset: r0, values: message.data as Float32Array };
  };

  // Reduce-scatter: at step s rank r passes on chunk r−s and adds its own values into chunk r−s−1;
  // after size−1 steps rank r holds the full sum of chunk r+1.
  for (let s = 0; s < size - 1; s++) {
    const { offset, values } = await exchange(s, mod(rank - s), mod(rank - s - 1));
    for (let i = 0; i < values.length; i++) data[offset + i] += values[i];
  }
  // All-gather: the finished chunks travel round the ring and are copied, never added again.
  for (let s = 0; s < size - 1; s++) {
    const { offset, values } = await exchange(size - 1 + s, mod(rank + 1 - s), mod(rank - s));
    data.set(values, offset);
  }
  return data;
}

type GatherArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

/**
 * Every rank's array, indexed by rank (lengths may differ; every rank must pass the same kind). Entry
 * [t.rank] is `data` itself; the others are fresh arrays. concatRanks() joins them in rank order.
 */
export async function allGather<T extends GatherArray>(t: Transport, data: T, tagId: number): Promise<T[]> {
  checkGroup(t, 'allGather', tagId);
  const kind = kindOf(data as WireArray);
  const { rank, size } = t;
  const tag = collectiveTag(tagId, 0);
  const result: T[] = new Array(size);
  result[rank] = data;
  const work: Promise<unknown>[] = [];
  for (let peer = 0; peer < size; peer++) {
    if (peer === rank) continue;
    work.push(t.send(peer, tag, data.slice() as WireArray));
    work.push(t.recv(peer, tag, { kind }).then((m) => (result[peer] = m.data as T)));
  }
  await Promise.all(work);
  return result;
}

/** The per-rank arrays of allGather joined in rank order. */
export function concatRanks<T extends GatherArray>(parts: readonly T[]): T {
  if (parts.length === 0) throw new RangeError('concatRanks: no arrays');
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new (parts[0].constructor as new (n: number) => T)(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p as never, offset);
    offset += p.length;
  }
  return out;
}

export interface AllToAllOptions {
  /** Hand the send arrays' buffers to the transport instead of sending copies (they are unusable afterwards). */
  transfer?: boolean;
  /** What to expect from each rank (kind, shape or maxElements); a message that differs fails the session. */
  expect?: readonly (Expectation | undefined)[];
}

/** send[i] goes to rank i; returns received[i] from rank i (own entry, send[t.rank], passed through). */
export async function allToAll(t: Transport, send: readonly WireArray[], tagId: number, options: AllToAllOptions = {}): Promise<WireArray[]> {
  checkGroup(t, 'allToAll', tagId);
  const { rank, size } = t;
  if (send.length !== size) throw new RangeError(`allToAll: send must hold one array per rank (${size}), got ${send.length}`);
  if (options.expect && options.expect.length !== size) {
    throw new RangeError(`allToAll: expect must hold one entry per rank (${size}), got ${options.expect.length}`);
  }
  const tag = collectiveTag(tagId, 0);
  const received: WireArray[] = new Array(size);
  received[rank] = send[rank];
  const work: Promise<unknown>[] = [];
  for (let peer = 0; peer < size; peer++) {
    if (peer === rank) continue;
    const out = options.transfer ? send[peer] : (send[peer].slice() as WireArray);
    work.push(t.send(peer, tag, out));
    work.push(t.recv(peer, tag, options.expect?.[peer]).then((m) => (received[peer] = m.data)));
  }
  await Promise.all(work);
  return received;
}
