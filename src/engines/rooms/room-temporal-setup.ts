// What a temporal room's leader sends each member when a generation starts (room-setup.ts does SAR's): the
// whole event stream, so that every member can train its own memory copy over all of it and any member can
// lead after a loss, and the room's last commit. Over the generation's transport, on the engine channel:
//
//   leader → member   HEADER    u32[16]          version, nodes, events, edge features, the commit's size and epoch
//                     SRC, DST  i32[numEvents]   the events' endpoints
//                     TIMES     u32[2·numEvents] their times, float64 as u32 pairs
//                     FEATURES  f32[numEvents, edgeDim]  when edgeDim > 0
//                     COMMIT    u8[commitBytes]  the room's last commit, when there is one
//
// Peers are untrusted: the header is bounded before anything is sized from it, arrays are received with
// exact shapes, and the stream is rebuilt by eventStreamFromArrays, which refuses ids out of range and times
// out of order; features must be finite.

import { makeTag, TAG_CHANNEL, type Transport } from '../../dist/transport.ts';
import { eventStreamFromArrays, type EventStream } from '../../graph/event-stream.ts';
import { checkFinite, checkIds, RoomSetupError, SETUP_LIMITS } from './room-setup.ts';

const VERSION = 1;
const HEADER_WORDS = 16;
const MAX_EVENTS = 1 << 26;
const tag = (k: number) => makeTag(TAG_CHANNEL.engine, 0x300 + k);
const TAG = { header: tag(0), src: tag(1), dst: tag(2), times: tag(3), features: tag(4), commit: tag(5) };

export interface TemporalMemberSetup {
  stream: EventStream;
  commit: Uint8Array | null;
  commitEpoch: number;
}

/** Leader side: member `rank` gets the stream and the commit. */
export async function sendTemporalSetup(transport: Transport, rank: number, stream: EventStream, commit: { bytes: Uint8Array; epoch: number } | null): Promise<void> {
  const header = new Uint32Array(HEADER_WORDS);
  header.set([VERSION, stream.numNodes, stream.numEvents, stream.edgeDim, commit ? commit.bytes.length : 0, commit ? commit.epoch : 0]);
  await transport.send(rank, TAG.header, header);
  await transport.send(rank, TAG.src, stream.src.slice());
  await transport.send(rank, TAG.dst, stream.dst.slice());
  await transport.send(rank, TAG.times, new Uint32Array(stream.t.slice().buffer));
  if (stream.edgeDim > 0) await transport.send(rank, TAG.features, stream.edgeFeatures!.slice(), [stream.numEvents, stream.edgeDim]);
  if (commit) await transport.send(rank, TAG.commit, commit.bytes.slice());
}

/** Member side: receives and checks the leader's setup; `name` is the room's dataset name. */
export async function receiveTemporalSetup(transport: Transport, name: string): Promise<TemporalMemberSetup> {
  const fail = (problem: string): never => {
    throw new RoomSetupError(0, problem);
  };
  const h = (await transport.recv(0, TAG.header, { kind: 'u32', shape: [HEADER_WORDS] })).data as Uint32Array;
  const [version, numNodes, numEvents, edgeDim, commitBytes, commitEpoch] = h;
  if (version !== VERSION) fail(`temporal setup version ${version}, expected ${VERSION}`);
  const bounded = (what: string, v: number, lo: number, hi: number) => {
    if (v < lo || v > hi) fail(`${what} = ${v}, outside ${lo}..${hi}`);
  };
  bounded('numNodes', numNodes, 1, SETUP_LIMITS.maxNodes);
  bounded('numEvents', numEvents, 1, MAX_EVENTS);
  bounded('edgeDim', edgeDim, 0, SETUP_LIMITS.maxFeatures);
  bounded('commit bytes', commitBytes, 0, SETUP_LIMITS.maxCommitBytes);
  if (numEvents * edgeDim > SETUP_LIMITS.maxNodes * 64) fail(`${numEvents} × ${edgeDim} event features is more than a member accepts`);
  const i32 = async (t: number) => (await transport.recv(0, t, { kind: 'i32', shape: [numEvents] })).data as Int32Array<ArrayBuffer>;
  const src = await i32(TAG.src);
  const dst = await i32(TAG.dst);
  checkIds(src, numNodes, 'event src', fail);
  checkIds(dst, numNodes, 'event dst', fail);
  const words = (await transport.recv(0, TAG.times, { kind: 'u32', shape: [2 * numEvents] })).data as Uint32Array;
  const t = new Float64Array(words.slice().buffer);
  const edgeFeatures = edgeDim > 0 ? ((await transport.recv(0, TAG.features, { kind: 'f32', shape: [numEvents, edgeDim] })).data as Float32Array<ArrayBuffer>) : null;
  if (edgeFeatures) checkFinite(edgeFeatures, 'event features', fail);
  let stream: EventStream;
  try {
    stream = eventStreamFromArrays({ src, dst, t, numNodes, name, edgeDim, edgeFeatures });
  } catch (e) {
    return fail((e as Error).message);
  }
  const commit = commitBytes > 0 ? ((await transport.recv(0, TAG.commit, { kind: 'u8', shape: [commitBytes] })).data as Uint8Array) : null;
  return { stream, commit, commitEpoch };
}
