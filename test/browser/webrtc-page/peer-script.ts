// The scripted WebRTC session that both the Chromium tabs (through the WebRTC page, main.ts) and the Node
// peer of test/browser/webrtc.spec.ts run. One file imported by both, so tabs and Node execute the same
// transport and collectives and differ only in the RTCPeerConnection and WebSocket classes: the browser's
// own globals in a tab, @roamhq/wrtc's and ws's in Node. Browser-safe: no Node imports.

import { allReduceSum, barrier } from '../../../src/dist/collectives.ts';
import { makeTag, TAG_CHANNEL, type TensorMessage } from '../../../src/dist/transport.ts';
import { connectWebRtc, MAX_CHUNK_BYTES, type PeerConnectionConstructor } from '../../../src/dist/webrtc-transport.ts';
import type { WebSocketConstructor } from '../../../src/dist/signaling-client.ts';
import { checksum, HEADER_BYTES, type WireArray, type WireKind } from '../../../src/dist/wire.ts';

/**
 * 'exchange': every rank sends MESSAGE_CASES to every other and checks what it gets, then all-reduces
 * allReduceInput(rank), passes a barrier and closes in order.
 * 'wait': passes a barrier, then waits for a message from `waitFor` that never comes, until that fails.
 * 'throughput': runs `transfers` one after another, each between barriers: the sender sends `messages`
 * messages of THROUGHPUT_ELEMENTS f32 (4 MiB) on THROUGHPUT_TAG, the receiver answers the last one on
 * THROUGHPUT_ACK_TAG and only then checks what it got; the sender times from its first send to the ack.
 */
export type PeerScriptName = 'exchange' | 'wait' | 'throughput';

/** One direction of 'throughput'. */
export interface Transfer {
  from: number;
  to: number;
  messages: number;
}

/** One peer's part in a session; plain data, so Playwright can pass it into a tab. */
export interface PeerRun {
  signalingUrl: string;
  room: string;
  secret: string;
  rank: number;
  size: number;
  script: PeerScriptName;
  /** For 'wait': the rank whose message is awaited. */
  waitFor?: number;
  /** Passed to connectWebRtc: how long a peer that left the signaling room has to say goodbye (250 ms). */
  leftGraceMs?: number;
  /** For 'throughput': the transfers, in order (every rank is given the same list). */
  transfers?: Transfer[];
}

/** What differs between a tab and Node: the classes (a tab passes none and gets its globals). */
export interface PeerEnvironment {
  RTCPeerConnection?: PeerConnectionConstructor;
  WebSocket?: WebSocketConstructor;
  /** Told 'connected', then 'waiting' ('wait', once its recv is pending) or 'closing'. */
  onStage?: (stage: PeerStage) => void;
}

export type PeerStage = 'connected' | 'waiting' | 'closing';

export interface MessageCase {
  kind: WireKind;
  shape: number[];
}

/** Sent by every rank to every other, in this order, tagged by index. */
export const MESSAGE_CASES: readonly MessageCase[] = [
  { kind: 'f32', shape: [0] },
  { kind: 'u8', shape: [1] },
  // Exactly one data-channel message, header included; then one byte more, which spills into a second.
  { kind: 'u8', shape: [MAX_CHUNK_BYTES - HEADER_BYTES] },
  { kind: 'u8', shape: [MAX_CHUNK_BYTES - HEADER_BYTES + 1] },
  { kind: 'f32', shape: [300, 256] }, // 300 KiB: two chunks
  { kind: 'i32', shape: [1000, 300] }, // 1.2 MB: five chunks
  // 6 MiB: past the 4 MiB high-water mark, so a tab waits for 'bufferedamountlow' and wrtc polls.
  { kind: 'f32', shape: [6 << 18] },
];

/** Elements of the all-reduced vector: its ring chunks (a third each for 3 ranks) span two data-channel messages. */
export const ALL_REDUCE_LENGTH = 200_003;

export const elementsOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
export const bytesOf = (c: MessageCase): number => elementsOf(c.shape) * (c.kind === 'u8' ? 1 : 4);
export const messageTag = (index: number): number => makeTag(TAG_CHANNEL.test, index);
/** Distinct contents for every (sender, receiver, case). */
export const messageSeed = (from: number, to: number, index: number): number => from * 1000 + to * 100 + index;
const NEVER_SENT_TAG = makeTag(TAG_CHANNEL.test, 0xfff);

/** Elements of one 'throughput' message: 4 MiB of f32. */
export const THROUGHPUT_ELEMENTS = 1 << 20;
export const THROUGHPUT_TAG = makeTag(TAG_CHANNEL.test, 0x100);
export const THROUGHPUT_ACK_TAG = makeTag(TAG_CHANNEL.test, 0x101);
/** Distinct contents for every message of every transfer (apart from messageSeed's). */
export const throughputSeed = (from: number, to: number, index: number): number => 100_000 + from * 10_000 + to * 1000 + index;

/** Deterministic contents keyed by (seed, index): integer arithmetic, so V8 in a tab and in Node agree. */
export function pattern(kind: WireKind, length: number, seed: number): WireArray {
  const out =
    kind === 'f32' ? new Float32Array(length) : kind === 'i32' ? new Int32Array(length) : kind === 'u32' ? new Uint32Array(length) : new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 7, 0x85ebca6b);
    out[i] = kind === 'f32' ? (v % 100000) / 7 : v;
  }
  return out;
}

/** Rank-dependent values of both signs and many magnitudes, so the all-reduce sums round and cancel. */
export function allReduceInput(rank: number, length = ALL_REDUCE_LENGTH): Float32Array<ArrayBuffer> {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(rank + 1, 0x85ebca6b);
    h ^= h >>> 15;
    out[i] = ((h % 2_000_001) / 997) * (rank + 1) ** 3;
  }
  return out;
}

export interface ReceivedMessage {
  from: number;
  index: number;
  kind: WireKind;
  shape: number[];
  /** wire.ts checksum of the received bytes. */
  checksum: number;
  /** First element that differs from pattern(), or -1. */
  firstDifference: number;
}

export interface PeerReport {
  rank: number;
  script: PeerScriptName;
  /** navigator.userAgent in a tab, `node <version>` in Node. */
  runtime: string;
  received: ReceivedMessage[];
  /** The all-reduce result's bytes in base64 ('exchange'), so it crosses from a tab bit for bit. */
  allReduce: string | null;
  /** 'throughput', by the sender of each transfer: the time from its first send to the receiver's ack. */
  transfers: TransferTiming[];
  /** How the pending recv of 'wait' ended. */
  waitError: { name: string; peer: number | null; message: string; at: number } | null;
  bytesSent: number[];
  bytesReceived: number[];
  /** exchange: the script's main part, 'exchange' or 'throughput' (all its transfers and barriers). */
  ms: { connect: number; exchange: number; allReduce: number; close: number };
}

export interface TransferTiming {
  from: number;
  to: number;
  messages: number;
  /** Payload bytes sent. */
  bytes: number;
  /** What the receiver's ack says: messages and payload bytes it received. */
  ackedMessages: number;
  ackedBytes: number;
  ms: number;
}

function runtime(): string {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (node) return `node ${node}`;
  return typeof navigator !== 'undefined' ? navigator.userAgent : 'unknown';
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Connects `run.rank` into the room, runs its script and closes; never leaves the transport open. */
export async function runPeer(run: PeerRun, env: PeerEnvironment = {}): Promise<PeerReport> {
  const { rank, size } = run;
  const clock = () => performance.now();
  const t0 = clock();
  const transport = await connectWebRtc({
    rank,
    size,
    signalingUrl: run.signalingUrl,
    room: run.room,
    secret: run.secret,
    RTCPeerConnection: env.RTCPeerConnection,
    WebSocket: env.WebSocket,
    iceServers: [],
    timeoutMs: 20_000,
    leftGraceMs: run.leftGraceMs,
  });
  const report: PeerReport = {
    rank,
    script: run.script,
    runtime: runtime(),
    received: [],
    transfers: [],
    allReduce: null,
    waitError: null,
    bytesSent: [],
    bytesReceived: [],
    ms: { connect: clock() - t0, exchange: 0, allReduce: 0, close: 0 },
  };
  env.onStage?.('connected');
  try {
    await barrier(transport, 1);
    if (run.script === 'exchange') {
      const t1 = clock();
      const work: Promise<unknown>[] = [];
      for (let peer = 0; peer < size; peer++) {
        if (peer === rank) continue;
        // Every send is started at once: the transport must keep chunks of different messages apart.
        MESSAGE_CASES.forEach((c, i) => work.push(transport.send(peer, messageTag(i), pattern(c.kind, elementsOf(c.shape), messageSeed(rank, peer, i)), c.shape)));
        work.push(
          (async () => {
            // Received last case first: the earlier ones wait in the transport's queue meanwhile.
            for (let i = MESSAGE_CASES.length - 1; i >= 0; i--) {
              const c = MESSAGE_CASES[i];
              const m = await transport.recv(peer, messageTag(i), { kind: c.kind, shape: c.shape });
              const want = pattern(c.kind, elementsOf(c.shape), messageSeed(peer, rank, i));
              report.received.push({ from: peer, index: i, kind: m.kind, shape: m.shape, checksum: checksum(m.data), firstDifference: firstDifference(m.data, want) });
            }
          })(),
        );
      }
      await Promise.all(work);
      report.ms.exchange = clock() - t1;

      const t2 = clock();
      const sum = await allReduceSum(transport, allReduceInput(rank), 2);
      report.ms.allReduce = clock() - t2;
      report.allReduce = base64(new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength));
      await barrier(transport, 3);
    } else if (run.script === 'throughput') {
      const t1 = clock();
      for (const [k, { from, to, messages }] of (run.transfers ?? []).entries()) {
        // Everyone waits for the transfer before: one direction at a time.
        await barrier(transport, 10 + k);
        if (rank === from) {
          // Made before the clock starts; one array per message, as send takes ownership.
          const data = Array.from({ length: messages }, (_, i) => pattern('f32', THROUGHPUT_ELEMENTS, throughputSeed(from, to, i)));
          const bytes = data.reduce((n, d) => n + d.byteLength, 0);
          const start = clock();
          const sent = Promise.all(data.map((d) => transport.send(to, THROUGHPUT_TAG, d)));
          sent.catch(() => {}); // a failed send also fails the recv below, which reports it
          const ack = await transport.recv(to, THROUGHPUT_ACK_TAG, { kind: 'u32', shape: [2] });
          const ms = clock() - start;
          await sent;
          report.transfers.push({ from, to, messages, bytes, ackedMessages: ack.data[0], ackedBytes: ack.data[1], ms });
        } else if (rank === to) {
          const got: TensorMessage[] = [];
          let bytes = 0;
          for (let i = 0; i < messages; i++) {
            const m = await transport.recv(from, THROUGHPUT_TAG, { kind: 'f32', shape: [THROUGHPUT_ELEMENTS] });
            bytes += m.data.byteLength;
            got.push(m);
          }
          await transport.send(from, THROUGHPUT_ACK_TAG, new Uint32Array([got.length, bytes]));
          // Checked after the ack, so that the check is not timed.
          got.forEach((m, i) => {
            const want = pattern('f32', THROUGHPUT_ELEMENTS, throughputSeed(from, to, i));
            report.received.push({ from, index: i, kind: m.kind, shape: m.shape, checksum: checksum(m.data), firstDifference: firstDifference(m.data, want) });
          });
        }
      }
      await barrier(transport, 9);
      report.ms.exchange = clock() - t1;
    } else {
      const waitFor = run.waitFor ?? -1;
      const pending = transport.recv(waitFor, NEVER_SENT_TAG);
      env.onStage?.('waiting');
      try {
        await pending;
        throw new Error(`rank ${rank}: a message tagged ${NEVER_SENT_TAG.toString(16)} arrived from ${waitFor}, but nobody sends one`);
      } catch (e) {
        const error = e as Error & { peer?: unknown };
        report.waitError = { name: error.name, peer: typeof error.peer === 'number' ? error.peer : null, message: error.message, at: Date.now() };
      }
    }
  } finally {
    env.onStage?.('closing');
    const t3 = clock();
    await transport.close();
    report.ms.close = clock() - t3;
  }
  report.bytesSent = [...transport.stats.bytesSent];
  report.bytesReceived = [...transport.stats.bytesReceived];
  return report;
}
